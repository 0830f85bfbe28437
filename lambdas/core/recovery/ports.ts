/**
 * Ports of the disaster recovery workflow, beside `ClusterOperations` (the DR site's cluster) and
 * `DatabaseRef` (operations/ports). Each has an AWS adapter and a simulated one for drills.
 */
import type { DatabaseRef } from '../operations/ports';

/**
 * What the DR database adapters leave on a database a run made the site's writable one (a standby
 * promoted, or a restore kept at the run's success): `aor:recovery-promoted=<run id>`. A database
 * with it carries no `aor:recovery-run` tag, so no run's clean-up ever matches it.
 */
export const RECOVERY_PROMOTED_TAG = 'aor:recovery-promoted';
/**
 * Beside the promoted mark on a promoted standby: the recovery point measured just before the
 * promotion (ISO 8601), so that a retried promotion still reports it once replication has ended.
 */
export const RECOVERY_POINT_TAG = 'aor:recovery-point';

export interface DatabaseSnapshot {
  readonly identifier: string;
  readonly arn: string;
  /**
   * The recovery point of a restore from it (ISO 8601): its newest transaction (RDS
   * `SnapshotDatabaseTime`), else when the original was taken (`OriginalSnapshotCreateTime`); never
   * when a cross-region copy was made, which is what `SnapshotCreateTime` says of a copy.
   */
  readonly createdAt: string;
  readonly sourceDatabase: string;
  readonly status: string;
}

export interface RestoreRequest {
  readonly snapshot: DatabaseSnapshot;
  /** The instance (or Aurora cluster) to create in the DR region. */
  readonly target: DatabaseRef;
  readonly instanceClass: string;
  readonly subnetGroupName: string;
  readonly securityGroupIds: readonly string[];
  /** Tags that mark what a recovery run created (`aor:recovery-run` required), so its clean-up deletes only its own. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface RestoreStatus {
  readonly identifier: string;
  /** RDS status: `creating`, `backing-up`, `modifying`, `rebooting`, `available`, `failed`, `incompatible-restore`, … */
  readonly status: string;
  readonly available: boolean;
  /** A status no waiting will cure. */
  readonly failed: boolean;
  readonly endpoint?: string;
  /** Its `aor:recovery-run` tag: the run that created it, the only one that may delete it. */
  readonly runTag?: string;
  /** Its `aor:recovery-promoted` tag: the run that made it the site's writable database. */
  readonly promotedBy?: string;
  /** Still a read replica of this source (an identifier or ARN): readable, not yet writable. */
  readonly replicaOf?: string;
  readonly deletionProtection: boolean;
}

export interface ReplicaStatus extends RestoreStatus {
  /** RDS's replication state while it is a replica: `replicating`, `error`, `stopped`, `terminated`, … */
  readonly replication?: string;
  /**
   * The newest lag CloudWatch has for it (`ReplicaLag` of an instance, `AuroraBinlogReplicaLag` of
   * an Aurora replica cluster), in seconds; null when there is none in the last hour (replication
   * inactive all that time, or not a replica).
   */
  readonly lagSeconds: number | null;
  /** The newest data it is known to hold: the end of that lag's minute less the lag; null with no lag. */
  readonly recoveryPoint: string | null;
}

/** A promotion RDS has accepted; poll `restoreStatus` until `available` with no `replicaOf`. */
export interface Promotion {
  readonly identifier: string;
  readonly status: string;
  /** The run that promoted it: this run, or the one whose promotion a retry found. */
  readonly promotedBy: string;
  /** The replica lag read just before the promotion, seconds; null when CloudWatch had none. */
  readonly lagSeconds: number | null;
  /** The recovery point: the newest data the promoted database holds (its RPO's start); null when unknown. */
  readonly recoveryPoint: string | null;
}

/**
 * A drill's rehearsal of a promotion, which must never promote the standby itself (that ends its
 * replication). Its tags, as a restore's, must carry `aor:recovery-run`.
 */
export interface RehearsalRequest extends Pick<
  RestoreRequest,
  'instanceClass' | 'securityGroupIds' | 'tags'
> {
  /** The standby replica whose promotion is rehearsed: only read from. */
  readonly standby: DatabaseRef;
  /** Its `-drill` twin: a read replica of the standby that the drill creates, promotes and deletes. */
  readonly target: DatabaseRef;
}

/** What a clean-up did with a database: deleted (after a final snapshot where RDS takes one), or kept and why. */
export interface Deletion {
  /** RDS accepted its deletion (now, or an earlier attempt did: it is `deleting`). */
  readonly deleted: boolean;
  /** The final snapshot, named after the run; absent where RDS takes none (a read replica, a failed restore). */
  readonly finalSnapshot?: string;
  /** Why it exists and was not deleted: not this run's, promoted, or protected. */
  readonly kept?: string;
}

export interface Protection {
  readonly identifier: string;
  readonly deletionProtection: true;
  readonly promotedBy: string;
}

export interface DatabaseRecovery {
  /** The newest available snapshot of `sourceDatabase`, or the newest one taken on `day` (YYYY-MM-DD, UTC). */
  findSnapshot(query: { sourceDatabase: DatabaseRef; day?: string }): Promise<DatabaseSnapshot | undefined>;
  /**
   * Restores the snapshot into the target. A target that exists is resumed when it carries this
   * run's tag and refused otherwise (`RestoreTargetConflictError`), before anything is created.
   */
  startRestore(request: RestoreRequest): Promise<RestoreStatus>;
  /** Any database of the DR site as it is now: a restore's, a promotion's or a rehearsal's progress. */
  restoreStatus(database: DatabaseRef): Promise<RestoreStatus | undefined>;
  /** The standby replica and its lag; undefined when it does not exist. */
  replicaStatus(replica: DatabaseRef): Promise<ReplicaStatus | undefined>;
  /**
   * Reads the replica's lag, marks it promoted by `runId`, then promotes it (irreversibly: its
   * replication ends). A retry finds its own promotion and reports it again; a database that is no
   * longer a replica, not promoted by this run, is refused (`StandbyNotPromotableError`).
   */
  promoteReplica(replica: DatabaseRef, runId: string): Promise<Promotion>;
  /**
   * A drill's stand-in for the standby: creates `request.target` as a read replica of the standby,
   * tagged with the run, for the drill to promote and delete. Resumed or refused as a restore is.
   */
  startRehearsal(request: RehearsalRequest): Promise<RestoreStatus>;
  /**
   * Deletes the database if, read at the moment of deleting, its `aor:recovery-run` tag is
   * `runId`: with a final snapshot named after the run, its automated backups retained. Anything
   * else is kept, and says why. Absent is `{ deleted: false }`.
   */
  deleteRestored(target: DatabaseRef, runId: string): Promise<Deletion>;
  /**
   * A real run's success: deletion protection on, `aor:recovery-promoted=<runId>` on, the
   * `aor:recovery-run` tag off (so no later clean-up can match it). Refuses a database that is not
   * this run's (`RestoreTargetConflictError`).
   */
  protectRecovered(target: DatabaseRef, runId: string): Promise<Protection>;
}

export interface BackupLocation {
  readonly bucket: string;
  /** `blockchain/<YYYY-MM-DD>/` */
  readonly prefix: string;
  readonly objects: number;
  readonly bytes: number;
  /** The newest object's last-modified time: the blockchain data's recovery point. */
  readonly takenAt: string;
}

export interface BackupCatalog {
  /** The blockchain backup of `day`, or the newest day's when `day` is unset. */
  findBlockchainBackup(query: { bucket: string; day?: string }): Promise<BackupLocation | undefined>;
  /** The integrity manifest of a backup day (`manifests/<day>/integrity.json`), parsed. */
  readIntegrityManifest(query: { bucket: string; day: string }): Promise<IntegrityManifest | undefined>;
}

/** What the backup says the data holds: row counts and/or checksums per table. */
export interface IntegrityManifest {
  readonly day: string;
  readonly tables: Readonly<Record<string, { readonly rows?: number; readonly checksum?: string }>>;
}

/**
 * How a DR run sends traffic to the DR site; the deployment chooses (`routing.mode`).
 * - `failover`: the record is a pair of failover CNAMEs deployed beforehand with the DR stack, and the
 *   run turns the PRIMARY's health check unhealthy with a datapoint in the DR region. Route 53's data
 *   plane then answers the SECONDARY: no control-plane call, so it works with us-gov-west-1 down.
 * - `upsert`: the run UPSERTs a simple CNAME through Route 53's control plane, which GovCloud homes in
 *   us-gov-west-1: it works only while that region is up.
 */
export const TRAFFIC_SWITCH_MODES = ['failover', 'upsert'] as const;
export type TrafficSwitchMode = (typeof TRAFFIC_SWITCH_MODES)[number];

/** The record a DR run moves to the DR site, as the deployment configures it. */
export interface TrafficRoutingSettings {
  readonly mode: TrafficSwitchMode;
  readonly hostedZoneId: string;
  readonly recordName: string;
  /** The DR site's load balancer DNS name: a CNAME's value (GovCloud has no alias to a load balancer). */
  readonly drTarget: string;
  /** The CNAME's TTL: resolvers may answer the old target this long after the switch. */
  readonly ttlSeconds: number;
  readonly targetGroupArn?: string;
  readonly healthCheckPath: string;
}

export interface TrafficSwitchRequest extends Pick<
  TrafficRoutingSettings,
  'mode' | 'hostedZoneId' | 'recordName' | 'drTarget' | 'ttlSeconds'
> {
  /** Why, for the change batch (upsert mode); a failover datapoint carries no text. */
  readonly comment: string;
}

export interface TrafficSwitch {
  readonly mode: TrafficSwitchMode;
  /** What to record: the failover datapoint (metric and time) or the Route 53 change id. */
  readonly reference: string;
}

export interface ResolvedTraffic {
  /** The record's CNAME target as the DR VPC's resolver answers it now (lower case, no root dot). */
  readonly answer: string;
  /** The answer is the DR target: clients resolving in the DR VPC are sent to the DR site. */
  readonly onDrSite: boolean;
}

export interface TrafficRouting {
  /**
   * Sends the record's traffic to the DR site, by `mode`. Idempotent: sending again repeats the
   * request (in failover mode, a fresh datapoint of the same signal), so a retry or a re-send while
   * waiting is safe.
   */
  sendTrafficToDrSite(request: TrafficSwitchRequest): Promise<TrafficSwitch>;
  /**
   * Whether it has happened, as clients in the DR VPC see it: a DNS query to the VPC's resolver, no
   * Route 53 API call. It has happened once `onDrSite`; until then the old answer may be cached for
   * up to the TTL after Route 53 switched.
   */
  trafficStatus(request: Pick<TrafficRoutingSettings, 'recordName' | 'drTarget'>): Promise<ResolvedTraffic>;
  /** Sets the target group's health check path (the seed's `modify-target-group`). */
  setHealthCheckPath(request: { targetGroupArn: string; path: string }): Promise<void>;
}

export interface SiteIdentity {
  /** STS GetCallerIdentity in the DR region: proves the region answers and who acts. */
  whoAmI(): Promise<{ account: string; arn: string }>;
}
