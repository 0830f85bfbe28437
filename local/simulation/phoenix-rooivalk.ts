import type { WorkloadRef } from '../../lambdas/core/operations/cluster';
import type { DatabaseRef } from '../../lambdas/core/operations/ports';
import { type AorConfig, aorConfigSchema, NOTIFICATION_CHANNELS } from '../../lib/config';
import {
  BLOCKCHAIN_NODE_STARTUP_MS,
  BLOCKCHAIN_NODE_TERMINATION_MS,
  PGBOUNCER_STARTUP_MS,
  PGBOUNCER_TERMINATION_MS,
  PHOENIX_API_STARTUP_MS,
  PHOENIX_API_TERMINATION_MS,
} from './durations';
import type { WorkloadProfile } from './kubernetes-model';
import type { PlatformLayout, PlatformOptions, SimulatedPlatform } from './platform';

/**
 * What the simulated Phoenix Rooivalk production site looks like. Names come from the deployment
 * configuration (`lib/config.ts` defaults for the incident response; the example `cdk.json` for
 * the site), so the simulated world is the one AOR's configuration describes.
 */

export type IncidentResponseConfig = AorConfig['incidentResponse'];

export const INCIDENT_RESPONSE_DEFAULTS: IncidentResponseConfig =
  aorConfigSchema.shape.incidentResponse.parse(undefined);

/** A fixed start, so drills replay identically: a Monday afternoon, UTC. */
export const SIMULATION_EPOCH = Date.parse('2026-11-02T14:00:00Z');

export const PHOENIX_ROOIVALK_SITE = {
  partition: 'aws-us-gov',
  region: 'us-gov-west-1',
  account: '111122223333',
  clusterName: 'phoenix-rooivalk-production',
  namespace: 'phoenix-rooivalk',
  database: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
  backupBucket: 'phoenix-rooivalk-backups',
  storageClass: 'gp3-encrypted',
} as const;

export const REPLICAS = { blockchainNodes: 3, api: 4, connectionPooler: 2 } as const;

/** The platform's images, in each region's ECR under `phoenix-rooivalk/`. */
export const IMAGE_VERSIONS = { blockchainNode: '2.14.3', api: '4.8.1', connectionPooler: '1.23.1' } as const;

export function imageUri(account: string, region: string, name: string, version: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com/phoenix-rooivalk/${name}:${version}`;
}

/** Client connections the database holds through the pooler on a normal afternoon. */
export const NORMAL_DATABASE_CONNECTIONS = 120;

/** Validators all up, consensus participation reads this (a few slots missed to latency). */
export const HEALTHY_CONSENSUS_PERCENT = 98.2;

/**
 * Worker nodes (m5.large: 29 pods by ENI limit, 5 taken by aws-node, kube-proxy, the EBS CSI node
 * driver, CoreDNS and the CloudWatch agent).
 */
export const WORKER_NODES = ['10-20-1-57', '10-20-2-143', '10-20-3-88'] as const;
export const PODS_PER_NODE = 24;

/** When the leaking node was last restarted, and how fast its memory has grown since. */
export const LEAKING_POD = { ordinal: 2, restartedHoursAgo: 6, growthPercentPerHour: 6.5 } as const;

/** A block every 5 seconds; the height is the 5-second period since the epoch less the chain's start. */
const GENESIS_PERIOD = 357_500_000;
const API_ROUTES = ['GET /api/v1/tracks', 'GET /api/v1/sensors/status', 'POST /api/v1/engagements/evaluate'];

export const BLOCKCHAIN_NODE_PROFILE: WorkloadProfile = {
  startupMs: BLOCKCHAIN_NODE_STARTUP_MS,
  terminationMs: BLOCKCHAIN_NODE_TERMINATION_MS,
  cpuPercent: 35,
  memoryPercent: 45,
  logIntervalMs: 5_000,
  logLine: (sequence) =>
    `INFO consensus: committed block height=${sequence - GENESIS_PERIOD} txs=${(sequence * 7919) % 41} round=0`,
};

export const PHOENIX_API_PROFILE: WorkloadProfile = {
  startupMs: PHOENIX_API_STARTUP_MS,
  terminationMs: PHOENIX_API_TERMINATION_MS,
  cpuPercent: 38,
  memoryPercent: 44,
  logIntervalMs: 2_000,
  logLine: (sequence) =>
    `INFO http: ${API_ROUTES[sequence % API_ROUTES.length]} 200 ${12 + (sequence % 37)}ms`,
};

export const PGBOUNCER_PROFILE: WorkloadProfile = {
  startupMs: PGBOUNCER_STARTUP_MS,
  terminationMs: PGBOUNCER_TERMINATION_MS,
  cpuPercent: 6,
  memoryPercent: 12,
  logIntervalMs: 60_000,
  logLine: (sequence) =>
    `LOG stats: ${40 + (sequence % 17)} xacts/s, ${210 + (sequence % 53)} queries/s, in 48213 B/s, out 190442 B/s, xact 1873 us, query 412 us, wait 8 us`,
};

/** What a blockchain node that lost its peers and stalled writes before it exits. */
export const BLOCKCHAIN_CRASH_LINES = [
  'ERROR p2p: lost all peer connections; redial backoff exhausted',
  'ERROR consensus: no progress for 120s, state machine stalled',
  'panic: consensus: refusing to serve stale state',
];

/** The alarms of the four playbooks (after the configured name prefix), and the team owning each. */
export const PLAYBOOK_ALARMS = {
  blockchain: { suffix: 'blockchain-node-down', owner: 'blockchain-team' },
  cpu: { suffix: 'high-cpu-utilization', owner: 'ops-team' },
  security: { suffix: 'security-breach-detected', owner: 'security-team' },
  database: { suffix: 'database-connection-failure', owner: 'database-team' },
} as const;

export interface PhoenixRooivalkOptions {
  readonly epoch?: number;
  readonly seed?: string;
  readonly evidenceDirectory?: string;
  /** The deployment's `incidentResponse` configuration; its defaults when unset. */
  readonly incidentResponse?: IncidentResponseConfig;
  readonly namespace?: string;
  readonly clusterName?: string;
  readonly database?: DatabaseRef;
}

/** The platform's layout and make-up, named as the deployment configuration names them. */
export function phoenixRooivalkOptions(options: PhoenixRooivalkOptions = {}): PlatformOptions {
  const site = PHOENIX_ROOIVALK_SITE;
  const incident = options.incidentResponse ?? INCIDENT_RESPONSE_DEFAULTS;
  const namespace = options.namespace ?? site.namespace;
  const epoch = options.epoch ?? SIMULATION_EPOCH;
  const ref = (workload: { kind: WorkloadRef['kind']; name: string }) => ({
    namespace,
    kind: workload.kind,
    name: workload.name,
  });
  const layout: PlatformLayout = {
    partition: site.partition,
    region: site.region,
    account: site.account,
    clusterName: options.clusterName ?? site.clusterName,
    namespace,
    blockchainWorkload: ref(incident.blockchainWorkload),
    peerService: incident.peerService,
    scaleTarget: ref(incident.scaleTarget),
    connectionPooler: ref(incident.connectionPooler),
    database: options.database ?? site.database,
    consensusMetric: {
      namespace: incident.consensusMetric.namespace,
      metricName: incident.consensusMetric.metricName,
      dimensions: incident.consensusMetric.dimensions,
    },
    alarmNamePrefix: incident.alarmNamePrefix,
  };
  return {
    layout,
    epoch,
    seed: options.seed ?? 'phoenix-rooivalk',
    channels: NOTIFICATION_CHANNELS,
    nodes: WORKER_NODES.map((address) => ({
      name: `ip-${address}.${site.region}.compute.internal`,
      podSubnet: address.split('-').slice(0, 3).join('.'),
    })),
    podsPerNode: PODS_PER_NODE,
    profiles: new Map([
      [layout.blockchainWorkload.name, BLOCKCHAIN_NODE_PROFILE],
      [layout.scaleTarget.name, PHOENIX_API_PROFILE],
      [layout.connectionPooler.name, PGBOUNCER_PROFILE],
    ]),
    ...(options.evidenceDirectory === undefined ? {} : { evidenceDirectory: options.evidenceDirectory }),
  };
}

/**
 * Phoenix Rooivalk's production site: StatefulSet `blockchain-node` (3, Parallel pod management)
 * behind headless Service `blockchain-peer`, Deployments `phoenix-api` (4) and `pgbouncer` (2),
 * storage class `gp3-encrypted`, Multi-AZ RDS instance `phoenix-rooivalk-production` with ~120
 * connections, Container Insights and consensus metrics (~98%), the playbooks' four alarms and a
 * week of daily blockchain backups in S3. `blockchain-node-2`'s memory has been growing since it
 * was restarted six hours ago: a leak for the leak check to find.
 */
export function populatePhoenixRooivalk(platform: SimulatedPlatform): void {
  const { namespace, blockchainWorkload, scaleTarget, connectionPooler, peerService, account, region } =
    platform.layout;
  const day = 24 * 3_600_000;
  const image = (name: string, version: string) => imageUri(account, region, name, version);
  const k8s = platform.kubernetes;
  k8s.addObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  k8s.addStorageClass(PHOENIX_ROOIVALK_SITE.storageClass);
  k8s.addWorkload({
    ...blockchainWorkload,
    replicas: REPLICAS.blockchainNodes,
    containers: [{ name: 'node', image: image('blockchain-node', IMAGE_VERSIONS.blockchainNode) }],
    // Peers dial each other at start-up; none waits for another, and a stuck pod must not block a rollout.
    podManagementPolicy: 'Parallel',
    createdAt: platform.epoch - 9 * day,
  });
  k8s.addWorkload({
    ...scaleTarget,
    replicas: REPLICAS.api,
    containers: [{ name: 'api', image: image('phoenix-api', IMAGE_VERSIONS.api) }],
    createdAt: platform.epoch - 2 * day,
  });
  k8s.addWorkload({
    ...connectionPooler,
    replicas: REPLICAS.connectionPooler,
    containers: [{ name: 'pgbouncer', image: image('pgbouncer', IMAGE_VERSIONS.connectionPooler) }],
    createdAt: platform.epoch - 9 * day,
  });
  for (const workload of [blockchainWorkload, scaleTarget, connectionPooler]) {
    k8s.addService(namespace, workload === blockchainWorkload ? peerService : workload.name, {
      app: workload.name,
    });
  }
  const restartedAt = platform.epoch - LEAKING_POD.restartedHoursAgo * 3_600_000;
  const leaking = platform.pod(`${blockchainWorkload.name}-${LEAKING_POD.ordinal}`, restartedAt);
  k8s.deletePod(leaking, restartedAt);
  const replacement = platform.pod(leaking.name, platform.epoch);
  replacement.memoryGrowthPerHour = LEAKING_POD.growthPercentPerHour;

  platform.rds.addInstance({
    identifier: platform.layout.database.identifier,
    multiAz: true,
    connections: NORMAL_DATABASE_CONNECTIONS,
  });
  platform.addConsensusMetric({
    ...platform.layout.consensusMetric,
    validators: blockchainWorkload,
    healthyPercent: HEALTHY_CONSENSUS_PERCENT,
  });
  for (const { suffix, owner } of Object.values(PLAYBOOK_ALARMS)) {
    platform.defineAlarm(`${platform.layout.alarmNamePrefix}${suffix}`, {
      Project: 'phoenix-rooivalk',
      Environment: 'production',
      Owner: owner,
    });
  }
  for (let daysAgo = 1; daysAgo <= 7; daysAgo += 1) {
    const date = new Date(platform.epoch - daysAgo * day).toISOString().slice(0, 10);
    const gibibytes = 200 - daysAgo * 0.5;
    platform.putS3Object(
      `s3://${PHOENIX_ROOIVALK_SITE.backupBucket}/blockchain/${date}/ledger-snapshot.tar.zst`,
      Math.round(gibibytes * 1024 ** 3),
    );
  }
}
