import * as z from 'zod';

/**
 * The deployment configuration of AOR, read from the `aor` key of the CDK context (cdk.json or `-c`).
 * Everything the stacks need to know about the environment they automate lives here, so that a
 * synth never needs a context lookup or credentials.
 */

/** The notification channels named by the operations playbook; every playbook routes to these. */
export const NOTIFICATION_CHANNELS = [
  'ops-team',
  'blockchain-team',
  'security-team',
  'database-team',
  'incident-commander',
  'leadership',
] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

const GOVCLOUD_REGIONS = ['us-gov-west-1', 'us-gov-east-1'] as const;

/** The shortest ledger checkpoint retention accepted (see `ledgerRetentionDays`). */
export const LEDGER_RETENTION_FLOOR_DAYS = 365;

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const awsName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, underscore and hyphen only');
const dnsName = z
  .string()
  .regex(/^(?=.{1,253}\.?$)([a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i, 'must be a DNS name');
const email = z.email();

const networkSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-…)'),
  availabilityZones: z.array(z.string().min(1)).min(2, 'at least two availability zones'),
  privateSubnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id (subnet-…)'))
    .min(2, 'at least two private subnets'),
});

const siteSchema = z.strictObject({
  /** The EKS cluster the Lambda tasks drive through the Kubernetes API. */
  eksClusterName: awsName,
  /** The RDS DB instance identifier (Multi-AZ) or Aurora DB cluster identifier of this site. */
  database: z.strictObject({
    kind: z.enum(['instance', 'aurora-cluster']),
    identifier: awsName,
  }),
  /** Private subnets the Lambda tasks run in; they reach private EKS endpoints and VPC endpoints there. */
  network: networkSchema,
});

const workloadSchema = z.strictObject({
  kind: z.enum(['Deployment', 'StatefulSet']),
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes object name'),
});

/** What the automated incident actions act on, and the thresholds they judge by (seed §2.1/§2.2). */
const incidentResponseSchema = z.strictObject({
  /** Only alarms whose names start with this start the workflow. */
  alarmNamePrefix: z.string().min(1).max(255).default('phoenix-rooivalk-'),
  blockchainWorkload: workloadSchema.default({ kind: 'StatefulSet', name: 'blockchain-node' }),
  peerService: z.string().min(1).default('blockchain-peer'),
  minReadyPeers: z.number().int().min(1).default(3),
  /** The seed's `kubectl wait --timeout=600s`. */
  rolloutDeadlineSeconds: z.number().int().min(30).max(780).default(600),
  scaleTarget: z
    .strictObject({
      kind: z.enum(['Deployment', 'StatefulSet']),
      name: z.string().min(1),
      step: z.number().int().min(1).max(50),
      maxReplicas: z.number().int().min(1).max(500),
    })
    .default({ kind: 'Deployment', name: 'phoenix-api', step: 2, maxReplicas: 12 }),
  connectionPooler: workloadSchema.default({ kind: 'Deployment', name: 'pgbouncer' }),
  consensusMetric: z
    .strictObject({
      namespace: z.string().min(1),
      metricName: z.string().min(1),
      dimensions: z.record(z.string(), z.string()),
      minimumPercent: z.number().min(0).max(100),
    })
    .default({
      namespace: 'PhoenixRooivalk/Blockchain',
      metricName: 'ConsensusParticipation',
      dimensions: {},
      minimumPercent: 95,
    }),
  analysisWindowMinutes: z.number().int().min(5).max(1440).default(15),
  leakSlopePerHour: z.number().min(0.1).max(100).default(5),
  forensicLogLines: z.number().int().min(10).max(10_000).default(500),
});

const manifestSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1) }),
});

/** The applications the seed's `kubernetes-dr/` manifests restore: the blockchain node and its Service. */
const DEFAULT_DR_MANIFESTS = [
  {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'blockchain-node', labels: { app: 'blockchain-node' } },
    spec: {
      serviceName: 'blockchain-service',
      replicas: 3,
      selector: { matchLabels: { app: 'blockchain-node' } },
      template: {
        metadata: { labels: { app: 'blockchain-node' } },
        spec: {
          containers: [
            {
              name: 'node',
              image: 'phoenix-rooivalk/blockchain-node:stable',
              ports: [{ containerPort: 9090 }],
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'blockchain-service' },
    spec: { selector: { app: 'blockchain-node' }, ports: [{ port: 9090, targetPort: 9090 }] },
  },
];

/** How the DR site is recovered (seed §3.1, disaster-recovery.sh). */
const disasterRecoverySchema = z.strictObject({
  instanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a DB instance class')
    .default('db.r5.xlarge'),
  subnetGroupName: z.string().min(1).default('phoenix-rooivalk-dr-db-subnet-group'),
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id'))
    .default([]),
  storageClass: z.string().min(1).default('gp3-encrypted'),
  blockchainVolumeSize: z
    .string()
    .regex(/^\d+(Gi|Ti)$/, 'a Kubernetes quantity such as 500Gi')
    .default('500Gi'),
  /** Runs `aws s3 sync` in the restore Job. */
  restoreImage: z.string().min(1).default('public.ecr.aws/aws-cli/aws-cli:2.22.35'),
  manifests: z.array(manifestSchema).min(1).default(DEFAULT_DR_MANIFESTS),
  workloads: z
    .array(workloadSchema)
    .min(1)
    .default([{ kind: 'StatefulSet', name: 'blockchain-node' }]),
  applicationDeadlineSeconds: z.number().int().min(60).max(3600).default(600),
  /** The DR load balancer the record is switched to (ALB DNS name: an alias record; else a CNAME). */
  drTarget: z.string().min(1).default('phoenix-rooivalk-dr-6f7e8d9c0b.us-gov-east-1.elb.amazonaws.com'),
  targetGroupArn: z.string().startsWith('arn:aws-us-gov:elasticloadbalancing:').optional(),
  healthCheckPath: z.string().startsWith('/').default('/health'),
  /** Hold the routing switch until an operator approves it (`aor dr approve|reject <run>`). */
  approvalRequired: z.boolean().default(false),
  rtoMinutes: z.number().positive().default(15),
  rpoMinutes: z.number().positive().default(5),
  /** A run that died frees the one-run lock after this long. */
  lockTtlMinutes: z.number().int().min(30).max(1440).default(180),
});

const channelSchema = z.strictObject({
  /** Email subscribers; an endpoint confirms its subscription before it receives anything. */
  emails: z.array(email).default([]),
});

export const aorConfigSchema = z.strictObject({
  account: accountId,
  primaryRegion: z.enum(GOVCLOUD_REGIONS).default('us-gov-west-1'),
  drRegion: z.enum(GOVCLOUD_REGIONS).default('us-gov-east-1'),
  /** Kubernetes namespace of the Phoenix Rooivalk workloads. */
  kubernetesNamespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name')
    .default('phoenix-rooivalk'),
  primary: siteSchema,
  dr: siteSchema,
  routing: z.strictObject({
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id (Z…)'),
    recordName: dnsName,
  }),
  backupBucketName: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  notifications: z.strictObject(
    Object.fromEntries(NOTIFICATION_CHANNELS.map((channel) => [channel, channelSchema])) as Record<
      NotificationChannel,
      typeof channelSchema
    >,
  ),
  incidentResponse: incidentResponseSchema.default(incidentResponseSchema.parse({})),
  disasterRecovery: disasterRecoverySchema.default(disasterRecoverySchema.parse({})),
  /** Days CloudWatch keeps the Lambda and state machine logs. */
  logRetentionDays: z
    .union([z.literal(90), z.literal(180), z.literal(365), z.literal(400), z.literal(731), z.literal(1827)])
    .default(365),
  /**
   * Days each signed ledger checkpoint stays locked (S3 Object Lock, compliance mode). At least a
   * year: an auditor reviews a year of operations, and a shorter lock would let an insider delete the
   * checkpoints of the period under review before it is audited. Compliance mode cannot be lifted by
   * anyone, the root user included, so every deployment (a trial one too) leaves archive buckets
   * that cannot be deleted for at least that long.
   */
  ledgerRetentionDays: z
    .number()
    .int()
    .min(LEDGER_RETENTION_FLOOR_DAYS, `at least ${LEDGER_RETENTION_FLOOR_DAYS} days: an auditor's year`)
    .max(36500)
    .default(2557),
});

export type AorConfig = z.infer<typeof aorConfigSchema>;
export type SiteConfig = AorConfig['primary'];

/** Thrown when the `aor` context is missing or invalid; the message names every bad key. */
export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid AOR configuration (context key "aor"):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function parseAorConfig(raw: unknown): AorConfig {
  if (raw === undefined || raw === null) {
    throw new InvalidConfigError(['aor: missing; set it in cdk.json "context" or pass -c aor=<json>']);
  }
  const value = typeof raw === 'string' ? parseJsonContext(raw) : raw;
  const result = aorConfigSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidConfigError(
      result.error.issues.map((issue) => `${['aor', ...issue.path].join('.')}: ${issue.message}`),
    );
  }
  if (result.data.primaryRegion === result.data.drRegion) {
    throw new InvalidConfigError(['aor.drRegion: must differ from aor.primaryRegion']);
  }
  return result.data;
}

function parseJsonContext(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidConfigError(['aor: a -c value must be JSON']);
  }
}
