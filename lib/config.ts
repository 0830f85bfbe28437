import * as z from 'zod';
import { TRAFFIC_SWITCH_MODES } from '../lambdas/core/recovery/ports';
import { isDigestPinned, RECOVERY_OBJECT_TYPES } from '../lambdas/core/recovery/recovery-manifests';
import { RECOVERY_MODES } from '../lambdas/core/recovery/recovery';

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

const pinnedImage = z
  .string()
  .refine(
    isDigestPinned,
    'must be pinned by digest (<repository>@sha256:<64 hex>): a tag can be moved to other bytes',
  );
const kubernetesObjectName = workloadSchema.shape.name;
const secretKey = z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret data key');

/**
 * The DR run's Jobs (deploy/dr-cluster/README.md). Their images are pinned by digest and have no
 * default: mirror them into the DR region's ECR and name the digests. The restore Job runs as a
 * service account the deployer annotated for IRSA (its role reads s3://<backup bucket>/blockchain/*);
 * the integrity check connects as a read-only database user whose credentials are in a Secret the
 * deployer made in both namespaces, and AOR only ever references.
 */
const recoveryJobsSchema = z.strictObject({
  restore: z.strictObject({
    /** An AWS CLI v2 image (entrypoint `aws`). */
    image: pinnedImage,
    serviceAccount: kubernetesObjectName.default('aor-blockchain-restore'),
    /** The restore Job fails itself after this long; size it to the backup (500 GiB: ~75 min at 120 MiB/s). */
    activeDeadlineMinutes: z.number().int().min(10).max(300).default(180),
  }),
  /** A curl image (`curl` on its PATH). */
  endpointCheck: z.strictObject({ image: pinnedImage }),
  integrityCheck: z.strictObject({
    /** A PostgreSQL client image (`psql` on its PATH). */
    image: pinnedImage,
    databaseName: z.string().min(1).max(63),
    port: z.number().int().min(1).max(65535).default(5432),
    credentialsSecret: z
      .strictObject({
        name: kubernetesObjectName,
        usernameKey: secretKey.default('username'),
        passwordKey: secretKey.default('password'),
      })
      .default({ name: 'aor-integrity-check', usernameKey: 'username', passwordKey: 'password' }),
  }),
});

/** A manifest the DR task may apply: its Role (deploy/rbac/disaster-recovery.yaml) grants these kinds only. */
const recoveryManifestSchema = manifestSchema.refine(
  (manifest) =>
    RECOVERY_OBJECT_TYPES.some(
      (type) => type.apiVersion === manifest.apiVersion && type.kind === manifest.kind,
    ),
  `must be one of the kinds the DR task's Role grants: ${RECOVERY_OBJECT_TYPES.map((type) => `${type.apiVersion} ${type.kind}`).join(', ')}`,
);

/** How the DR site is recovered (seed §3.1, disaster-recovery.sh). */
const disasterRecoverySchema = z.strictObject({
  instanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a DB instance class')
    .default('db.r5.xlarge'),
  subnetGroupName: z.string().min(1).default('phoenix-rooivalk-dr-db-subnet-group'),
  /**
   * How a run brings the database back unless its request says otherwise: `warm-standby` promotes
   * `standbyReplica` (minutes, and seconds of data lost); `snapshot` restores the newest snapshot
   * copy into `dr.database` (15-25 minutes, and everything since that snapshot lost).
   */
  recoveryMode: z.enum(RECOVERY_MODES).default('warm-standby'),
  /**
   * The cross-region read replica of `primary.database` in the DR region (an instance, or an Aurora
   * MySQL replica cluster, as `primary.database` is). Its drill twin is `<standbyReplica>-drill`,
   * so it leaves room for that within RDS's 63 characters.
   */
  standbyReplica: z
    .string()
    .regex(
      /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,56}(?<!-)$/,
      'an RDS identifier of at most 57 characters (letters, digits, single hyphens; a letter first)',
    )
    .optional(),
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id'))
    .default([]),
  storageClass: z.string().min(1).default('gp3-encrypted'),
  blockchainVolumeSize: z
    .string()
    .regex(/^\d+(Gi|Ti)$/, 'a Kubernetes quantity such as 500Gi')
    .default('500Gi'),
  jobs: recoveryJobsSchema,
  manifests: z.array(recoveryManifestSchema).min(1).default(DEFAULT_DR_MANIFESTS),
  workloads: z
    .array(workloadSchema)
    .min(1)
    .default([{ kind: 'StatefulSet', name: 'blockchain-node' }]),
  applicationDeadlineSeconds: z.number().int().min(60).max(3600).default(600),
  targetGroupArn: z.string().startsWith('arn:aws-us-gov:elasticloadbalancing:').optional(),
  healthCheckPath: z.string().startsWith('/').default('/health'),
  /**
   * Hold a real run's routing switch until someone other than its starter approves it (`aor dr
   * approve|reject <run>`). On by default: moving production traffic takes a second person.
   */
  approvalRequired: z.boolean().default(true),
  /** How long a real run waits for that approval before it stops, keeping what it restored. */
  approvalTimeoutMinutes: z.number().int().min(5).max(720).default(240),
  rtoMinutes: z.number().positive().default(15),
  rpoMinutes: z.number().positive().default(5),
});

/** AmazonProvidedDNS caps a record's TTL at 300 s; longer would only be promised, not kept. */
const MAX_ROUTING_TTL_SECONDS = 300;

/**
 * The record the DR run sends to the DR site, and how (TRAFFIC_SWITCH_MODES). GovCloud has private
 * hosted zones only, and no alias to a load balancer: the targets are load balancers' DNS names, as
 * CNAMEs, so the record cannot be the zone apex.
 */
const routingSchema = z
  .strictObject({
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id (Z…)'),
    recordName: dnsName,
    mode: z.enum(TRAFFIC_SWITCH_MODES).default('failover'),
    /** What the record answers while the primary site serves: the PRIMARY failover record. */
    primaryTarget: dnsName.optional(),
    /** The DR site's load balancer: the SECONDARY failover record, or the UPSERT's value. */
    drTarget: dnsName,
    /** Short, so that resolvers follow a switch (and a switch back) within a minute or two. */
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_ROUTING_TTL_SECONDS, `at most ${MAX_ROUTING_TTL_SECONDS}: the VPC resolver caps longer TTLs`)
      .default(60),
  })
  // Typed per mode, so that what deploys the failover records has its primary target for certain.
  .transform((routing, context) => {
    if (routing.mode === 'upsert') return { ...routing, mode: routing.mode };
    if (routing.primaryTarget === undefined) {
      context.issues.push({
        code: 'custom',
        path: ['primaryTarget'],
        message: 'required in failover mode: the PRIMARY failover record answers it until a DR run',
        input: routing,
      });
      return z.NEVER;
    }
    return { ...routing, mode: routing.mode, primaryTarget: routing.primaryTarget };
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
  routing: routingSchema,
  backupBucketName: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  notifications: z.strictObject(
    Object.fromEntries(NOTIFICATION_CHANNELS.map((channel) => [channel, channelSchema])) as Record<
      NotificationChannel,
      typeof channelSchema
    >,
  ),
  incidentResponse: incidentResponseSchema.default(incidentResponseSchema.parse({})),
  /** Required: the DR Jobs' images are pinned by digest, which only the deployer can name. */
  disasterRecovery: disasterRecoverySchema,
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
  const databaseProblems = databaseRecoveryProblems(result.data);
  if (databaseProblems.length > 0) throw new InvalidConfigError(databaseProblems);
  return result.data;
}

/**
 * The DR databases' names must never meet: a run deletes only what carries its own tag, but the
 * role's grants are by name, and a standby sharing a name with a restore target (or either's
 * `-drill` twin) would put it within reach of a clean-up.
 */
function databaseRecoveryProblems(config: AorConfig): string[] {
  const { recoveryMode, standbyReplica } = config.disasterRecovery;
  if (standbyReplica === undefined) {
    return recoveryMode === 'warm-standby'
      ? [
          'aor.disasterRecovery.standbyReplica: required in warm-standby mode (the read replica of primary.database that a run promotes); or set recoveryMode to "snapshot"',
        ]
      : [];
  }
  const target = config.dr.database.identifier.toLowerCase();
  const standby = standbyReplica.toLowerCase();
  return [target, `${target}-drill`].includes(standby) || `${standby}-drill` === target
    ? [
        `aor.disasterRecovery.standbyReplica: ${standbyReplica} must differ from dr.database (${config.dr.database.identifier}) and both their -drill twins`,
      ]
    : [];
}

function parseJsonContext(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidConfigError(['aor: a -c value must be JSON']);
  }
}
