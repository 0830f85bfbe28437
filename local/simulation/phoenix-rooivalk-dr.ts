import type { KubernetesManifest } from '../../lambdas/core/operations/cluster';
import type { DatabaseRef } from '../../lambdas/core/operations/ports';
import { between } from './deterministic';
import {
  LATEST_BACKUP_LEAD_MS,
  RDS_REPLICA_LAG_MAX_SECONDS,
  RDS_REPLICA_LAG_MIN_SECONDS,
  RDS_SNAPSHOT_COPY_MAX_MS,
  RDS_SNAPSHOT_COPY_MIN_MS,
} from './durations';
import {
  IMAGE_VERSIONS,
  imageUri,
  PHOENIX_ROOIVALK_SITE,
  type PhoenixRooivalkOptions,
  phoenixRooivalkOptions,
  REPLICAS,
} from './phoenix-rooivalk';
import { IRSA_ROLE_ANNOTATION } from './kubernetes-jobs';
import type { PlatformLayout, PlatformOptions, SimulatedPlatform } from './platform';
import { type TableContents, tableChecksum } from './simulated-rds-recovery';

/**
 * The Phoenix Rooivalk DR site in us-gov-east-1, as the example `cdk.json` describes it: EKS
 * cluster `phoenix-rooivalk-dr` (reachable, storage class `gp3-encrypted`, namespace
 * `phoenix-rooivalk` holding no applications yet); the production database's warm standby, a
 * cross-region read replica seconds behind it; copies of the production database's snapshots, as
 * RDS makes them: the nightly automated snapshot of each of the last days (taken early in the
 * 03:00 UTC backup window, copied into this region tens of minutes later) and a manual one taken
 * before a maintenance, so that a snapshot restore at the epoch (14:00 UTC) loses about eleven
 * hours of data; the backup bucket's blockchain data (daily, and one LATEST_BACKUP_LEAD_MS before
 * the epoch) with each day's integrity manifest; and the failover records of `api.phoenixrooivalk.mil`
 * in the private hosted zone, answering the production site's load balancer.
 */

export const PHOENIX_ROOIVALK_DR_SITE = {
  region: 'us-gov-east-1',
  clusterName: 'phoenix-rooivalk-dr',
  /** Where the restore goes (`dr.database` in cdk.json). */
  database: { kind: 'instance', identifier: 'phoenix-rooivalk-dr' },
  /** What the snapshots are copies of (`primary.database`). */
  sourceDatabase: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
  /** The production database's cross-region read replica (`disasterRecovery.standbyReplica`). */
  standbyReplica: { kind: 'instance', identifier: 'phoenix-rooivalk-dr-replica' },
  hostedZone: { id: 'Z1234567890ABC', name: 'phoenixrooivalk.mil' },
  recordName: 'api.phoenixrooivalk.mil',
  /** What the record answers until a DR run fails it over (`routing.primaryTarget`)... */
  primaryLoadBalancer: { dnsName: 'phoenix-rooivalk-prod-1a2b3c4d5e.us-gov-west-1.elb.amazonaws.com' },
  /** ...and after (`routing.drTarget`), with `routing.ttlSeconds`. */
  drLoadBalancer: { dnsName: 'phoenix-rooivalk-dr-6f7e8d9c0b.us-gov-east-1.elb.amazonaws.com' },
  recordTtlSeconds: 60,
  targetGroup: { name: 'phoenix-rooivalk-dr', id: '1234567890abcdef', healthCheckPath: '/' },
  /** The role the DR Lambda tasks run as, and the one the blockchain restore Job's pods assume. */
  taskRole: 'aor-disaster-recovery',
  restoreRole: 'phoenix-rooivalk-dr-blockchain-restore',
} as const;

export const DR_WORKER_NODES = ['10-40-1-21', '10-40-2-77', '10-40-3-140'] as const;
/** The automated backup window's start: the nightly snapshot, copied to the DR region every day. */
export const DAILY_SNAPSHOT_HOUR_UTC = 3;
/** RDS starts the nightly snapshot within the first minutes of the backup window. */
const DAILY_SNAPSHOT_MINUTES = [3, 12] as const;
/** The manual snapshot taken before a maintenance: this many days before the epoch, at this UTC time. */
const MANUAL_SNAPSHOT = { daysBefore: 2, time: 'T01:15:00Z', name: 'pre-maintenance' } as const;
/** The drill default: small enough that the restore Job takes minutes (16 GiB: ~2.5 min at 120 MiB/s). */
export const DR_BLOCKCHAIN_BACKUP_GIB = 16;
const BLOCKCHAIN_BACKUP_PARTS = 4;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The production database's tables: rows at the epoch, and how many more each hour brings. */
export const PHOENIX_ROOIVALK_TABLES: Readonly<Record<string, { rows: number; perHour: number }>> = {
  engagements: { rows: 48_213, perHour: 12 },
  sensor_tracks: { rows: 18_406_551, perHour: 41_000 },
  threat_assessments: { rows: 902_118, perHour: 1_900 },
  audit_events: { rows: 6_733_092, perHour: 7_400 },
  operators: { rows: 212, perHour: 0 },
};

export interface PhoenixRooivalkDrOptions extends Omit<PhoenixRooivalkOptions, 'database'> {
  /** The database a restore creates; `phoenix-rooivalk-dr` by default. */
  readonly database?: DatabaseRef;
  /** The production database whose snapshot copies the site holds. */
  readonly sourceDatabase?: DatabaseRef;
  readonly backupBucket?: string;
  /** Days of daily snapshots and backups; 7 by default. */
  readonly backupDays?: number;
  /** Size of each day's blockchain backup; DR_BLOCKCHAIN_BACKUP_GIB by default. */
  readonly blockchainBackupGiB?: number;
  /** The tag marking what a recovery run restored (the RDS adapter's `managedTagKey`). */
  readonly recoveryTagKey?: string;
  /** The warm standby; `phoenix-rooivalk-dr-replica` by default, none when null. */
  readonly standbyReplica?: DatabaseRef | null;
}

/** What the production database held at `t`, counted and hashed per table. */
export function tableContentsAt(seed: string, epoch: number, t: number): TableContents {
  return Object.fromEntries(
    Object.entries(PHOENIX_ROOIVALK_TABLES).map(([table, { rows, perHour }]) => {
      const count = Math.max(0, rows + Math.floor((perHour * (t - epoch)) / HOUR_MS));
      return [table, { rows: count, checksum: tableChecksum(seed, table, count) }];
    }),
  );
}

/** The DR site's layout: the production site's, in the DR region, with the DR cluster and database. */
export function phoenixRooivalkDrOptions(options: PhoenixRooivalkDrOptions = {}): PlatformOptions {
  const site = PHOENIX_ROOIVALK_DR_SITE;
  const base = phoenixRooivalkOptions({ ...options, clusterName: options.clusterName ?? site.clusterName });
  return {
    ...base,
    layout: { ...base.layout, region: site.region, database: options.database ?? site.database },
    nodes: DR_WORKER_NODES.map((address) => ({
      name: `ip-${address}.${site.region}.compute.internal`,
      podSubnet: address.split('-').slice(0, 3).join('.'),
    })),
    taskRole: site.taskRole,
    ...(options.recoveryTagKey === undefined ? {} : { recoveryTagKey: options.recoveryTagKey }),
  };
}

export function drTargetGroupArn(layout: Pick<PlatformLayout, 'partition' | 'region' | 'account'>): string {
  const { name, id } = PHOENIX_ROOIVALK_DR_SITE.targetGroup;
  return `arn:${layout.partition}:elasticloadbalancing:${layout.region}:${layout.account}:targetgroup/${name}/${id}`;
}

function utcDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** The blockchain backups' times: the last `days` daily ones before the latest one, then the latest. */
function blockchainBackupTimes(epoch: number, days: number): number[] {
  const latest = epoch - LATEST_BACKUP_LEAD_MS;
  let daily = Date.parse(`${utcDay(latest)}T00:00:00Z`) + DAILY_SNAPSHOT_HOUR_UTC * HOUR_MS;
  if (daily >= latest) daily -= DAY_MS;
  return [...Array.from({ length: days }, (_, index) => daily - (days - 1 - index) * DAY_MS), latest];
}

/**
 * The DR region's copies of the production database's snapshots: the nightly automated one of each
 * of the last `days` days whose copy has begun by the epoch, and the manual pre-maintenance one.
 * A copy is named by the copy job after its source and day; its recovery point is the original's.
 */
function databaseSnapshots(
  seed: string,
  epoch: number,
  source: string,
  days: number,
): { identifier: string; createdAt: number; availableAt: number }[] {
  const copyDone = (createdAt: number) =>
    createdAt +
    Math.round(between(RDS_SNAPSHOT_COPY_MIN_MS, RDS_SNAPSHOT_COPY_MAX_MS, seed, 'copy', createdAt));
  const nightly = Array.from({ length: days }, (_, index) => {
    const day = utcDay(epoch - index * DAY_MS);
    const [earliest, latest] = DAILY_SNAPSHOT_MINUTES;
    const minutes = Math.floor(between(earliest, latest, seed, 'automated-snapshot', day));
    const createdAt =
      Date.parse(`${day}T00:00:00Z`) + DAILY_SNAPSHOT_HOUR_UTC * HOUR_MS + minutes * MINUTE_MS;
    return { identifier: `${source}-${day}`, createdAt, availableAt: copyDone(createdAt) };
  }).filter((snapshot) => snapshot.createdAt <= epoch);
  const manualDay = utcDay(epoch - MANUAL_SNAPSHOT.daysBefore * DAY_MS);
  const manualAt = Date.parse(`${manualDay}${MANUAL_SNAPSHOT.time}`);
  return [
    ...nightly,
    {
      identifier: `${source}-${MANUAL_SNAPSHOT.name}-${manualDay}`,
      createdAt: manualAt,
      availableAt: copyDone(manualAt),
    },
  ];
}

/** What deploy/dr-cluster/recovery-namespaces.yaml and the deployer's Secret make in the DR cluster. */
export const DR_RECOVERY_PREREQUISITES = {
  restoreServiceAccount: 'aor-blockchain-restore',
  integritySecret: { name: 'aor-integrity-check', username: 'aor_integrity_check' },
} as const;

/**
 * The deployer's part of the DR cluster: the platform namespace and its `-drill` twin, each with
 * the restore Job's service account (IRSA: annotated with the restore role) and the integrity
 * check's Secret (a read-only database user).
 */
function addRecoveryNamespaces(platform: SimulatedPlatform): void {
  const { layout } = platform;
  const { restoreServiceAccount, integritySecret } = DR_RECOVERY_PREREQUISITES;
  const role = `arn:${layout.partition}:iam::${layout.account}:role/${PHOENIX_ROOIVALK_DR_SITE.restoreRole}`;
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  for (const namespace of [layout.namespace, `${layout.namespace}-drill`]) {
    platform.kubernetes.addObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    platform.kubernetes.addObject({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: restoreServiceAccount,
        namespace,
        annotations: { [IRSA_ROLE_ANNOTATION]: role },
      },
      automountServiceAccountToken: false,
    });
    platform.kubernetes.addObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: integritySecret.name, namespace },
      type: 'Opaque',
      data: { username: base64(integritySecret.username), password: base64(`simulated-${platform.seed}`) },
    });
  }
}

/** Fills a platform made from `phoenixRooivalkDrOptions` with the DR site (see the module's comment). */
export function populatePhoenixRooivalkDrSite(
  platform: SimulatedPlatform,
  options: PhoenixRooivalkDrOptions = {},
): void {
  const site = PHOENIX_ROOIVALK_DR_SITE;
  const { epoch, seed, layout } = platform;
  const source = options.sourceDatabase ?? site.sourceDatabase;
  const bucket = options.backupBucket ?? PHOENIX_ROOIVALK_SITE.backupBucket;
  const k8s = platform.kubernetes;
  k8s.addStorageClass(PHOENIX_ROOIVALK_SITE.storageClass);
  addRecoveryNamespaces(platform);

  const days = options.backupDays ?? 7;
  const snapshots = databaseSnapshots(seed, epoch, source.identifier, days);
  for (const snapshot of snapshots) {
    platform.rdsRecovery.addSnapshot({
      ...snapshot,
      source,
      tables: tableContentsAt(seed, epoch, snapshot.createdAt),
    });
  }
  const standby = options.standbyReplica === undefined ? site.standbyReplica : options.standbyReplica;
  if (standby) {
    platform.rdsRecovery.addStandby({
      database: standby,
      source: `arn:${layout.partition}:rds:${PHOENIX_ROOIVALK_SITE.region}:${layout.account}:db:${source.identifier}`,
      lagSeconds: (t) =>
        between(
          RDS_REPLICA_LAG_MIN_SECONDS,
          RDS_REPLICA_LAG_MAX_SECONDS,
          seed,
          'replica-lag',
          standby.identifier,
          Math.floor(t / MINUTE_MS),
        ),
      sourceContents: (t) => tableContentsAt(seed, epoch, t),
      tags: { team: 'platform' },
      // Operators protect the standby: promoting it is the only change AOR makes to it.
      deletionProtection: true,
    });
  }

  // Each day's manifest vouches for the day's blockchain backup and for the database snapshot a
  // restore of that day picks (the day's newest), whose rows it counts.
  const newestSnapshotOfDay = new Map<string, number>();
  for (const { createdAt } of snapshots.toSorted((a, b) => a.createdAt - b.createdAt)) {
    newestSnapshotOfDay.set(utcDay(createdAt), createdAt);
  }
  const times = blockchainBackupTimes(epoch, days);
  const backupTimes = new Map(times.map((time) => [utcDay(time), time]));
  const totalBytes = Math.round((options.blockchainBackupGiB ?? DR_BLOCKCHAIN_BACKUP_GIB) * 1024 ** 3);
  for (const [day, takenAt] of backupTimes) {
    for (let part = 1; part <= BLOCKCHAIN_BACKUP_PARTS; part += 1) {
      const share = Math.floor(totalBytes / BLOCKCHAIN_BACKUP_PARTS);
      const bytes =
        part === BLOCKCHAIN_BACKUP_PARTS ? totalBytes - share * (BLOCKCHAIN_BACKUP_PARTS - 1) : share;
      platform.putS3Object(
        `s3://${bucket}/blockchain/${day}/ledger-snapshot.part-${String(part).padStart(4, '0')}.tar.zst`,
        bytes,
        takenAt - (BLOCKCHAIN_BACKUP_PARTS - part) * 20_000,
      );
    }
    const snapshotAt = newestSnapshotOfDay.get(day) ?? takenAt;
    platform.putS3Text(
      `s3://${bucket}/manifests/${day}/integrity.json`,
      JSON.stringify({ day, tables: tableContentsAt(seed, epoch, snapshotAt) }),
      takenAt + 5_000,
    );
  }

  const route53 = platform.route53;
  // The private zone answers in both sites' VPCs; the DR stack deployed its failover records.
  route53.addHostedZone(site.hostedZone.id, site.hostedZone.name, [
    PHOENIX_ROOIVALK_SITE.region,
    site.region,
  ]);
  route53.deployFailover({
    hostedZoneId: site.hostedZone.id,
    recordName: site.recordName,
    primaryTarget: site.primaryLoadBalancer.dnsName,
    drTarget: site.drLoadBalancer.dnsName,
    ttlSeconds: site.recordTtlSeconds,
    alarmRegion: site.region,
  });
  route53.addTargetGroup(drTargetGroupArn(layout), site.targetGroup.healthCheckPath);
}

/**
 * The platform's application manifests for the DR site (what `kubectl apply -f kubernetes-dr/`
 * holds): the blockchain StatefulSet behind its headless peer Service, the API and the connection
 * pooler with their Services, and the shared ConfigMap, with images from the DR region's ECR.
 */
export function drApplicationManifests(
  layout: Pick<
    PlatformLayout,
    | 'namespace'
    | 'account'
    | 'region'
    | 'blockchainWorkload'
    | 'peerService'
    | 'scaleTarget'
    | 'connectionPooler'
  >,
): KubernetesManifest[] {
  const { namespace, account, region } = layout;
  const workload = (
    ref: { kind: 'Deployment' | 'StatefulSet'; name: string },
    replicas: number,
    container: { name: string; image: string; version: string },
    extra: Record<string, unknown> = {},
  ): KubernetesManifest => ({
    apiVersion: 'apps/v1',
    kind: ref.kind,
    metadata: { name: ref.name, namespace, labels: { app: ref.name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: ref.name } },
      ...extra,
      template: {
        metadata: { labels: { app: ref.name } },
        spec: {
          containers: [
            {
              name: container.name,
              image: imageUri(account, region, container.image, container.version),
              envFrom: [{ configMapRef: { name: 'phoenix-rooivalk-config' } }],
            },
          ],
        },
      },
    },
  });
  const service = (name: string, app: string, port: number, headless = false): KubernetesManifest => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app }, ports: [{ port }], ...(headless ? { clusterIP: 'None' } : {}) },
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'phoenix-rooivalk-config', namespace },
      data: { SITE: 'dr', REGION: region },
    },
    workload(
      layout.blockchainWorkload,
      REPLICAS.blockchainNodes,
      { name: 'node', image: 'blockchain-node', version: IMAGE_VERSIONS.blockchainNode },
      { serviceName: layout.peerService, podManagementPolicy: 'Parallel' },
    ),
    service(layout.peerService, layout.blockchainWorkload.name, 7051, true),
    workload(layout.scaleTarget, REPLICAS.api, {
      name: 'api',
      image: 'phoenix-api',
      version: IMAGE_VERSIONS.api,
    }),
    service(layout.scaleTarget.name, layout.scaleTarget.name, 8080),
    workload(layout.connectionPooler, REPLICAS.connectionPooler, {
      name: 'pgbouncer',
      image: 'pgbouncer',
      version: IMAGE_VERSIONS.connectionPooler,
    }),
    service(layout.connectionPooler.name, layout.connectionPooler.name, 6432),
  ];
}
