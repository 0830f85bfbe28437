import {
  ownershipConflict,
  RestoreTargetConflictError,
  requireRunTag,
} from '../../lambdas/adapters/aws/rds-databases';
import {
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  SnapshotNotAvailableError,
  SnapshotNotFoundError,
} from '../../lambdas/adapters/aws/rds-errors';
import {
  finalSnapshotName,
  finalSnapshotOf,
  keptReason,
} from '../../lambdas/adapters/aws/rds-recovered-databases';
import {
  assertRehearsable,
  assertReplicating,
  type Lag,
  lagFromDatapoints,
  promotionStep,
  promotionTags,
  taggedRecoveryPoint,
} from '../../lambdas/adapters/aws/rds-standby-promotion';
import { assertBackupDay } from '../../lambdas/adapters/aws/s3-backup-catalog';
import type { DatabaseRef } from '../../lambdas/core/operations/ports';
import {
  type DatabaseRecovery,
  type DatabaseSnapshot,
  type Deletion,
  type Promotion,
  type Protection,
  RECOVERY_PROMOTED_TAG,
  type RehearsalRequest,
  type ReplicaStatus,
  type RestoreRequest,
  type RestoreStatus,
} from '../../lambdas/core/recovery/ports';
import type { OperationRunner } from './calls';
import { between, hexId } from './deterministic';
import {
  CLOUDWATCH_GET_METRIC_DATA_MS,
  METRIC_PERIOD_MS,
  RDS_API_MS,
  RDS_CASCADING_REPLICA_LAG_SECONDS,
  RDS_DELETE_MS,
  RDS_FINAL_SNAPSHOT_MS,
  RDS_PROMOTION_BACKING_UP_MAX_MS,
  RDS_PROMOTION_BACKING_UP_MIN_MS,
  RDS_PROMOTION_MODIFYING_MAX_MS,
  RDS_PROMOTION_MODIFYING_MIN_MS,
  RDS_PROMOTION_REBOOTING_MAX_MS,
  RDS_PROMOTION_REBOOTING_MIN_MS,
  RDS_REPLICA_CREATING_MAX_MS,
  RDS_REPLICA_CREATING_MIN_MS,
  RDS_RESTORE_BACKING_UP_MAX_MS,
  RDS_RESTORE_BACKING_UP_MIN_MS,
  RDS_RESTORE_CREATING_MAX_MS,
  RDS_RESTORE_CREATING_MIN_MS,
} from './durations';
import { metricPeriods } from './simulated-cloudwatch';
import type { RdsWorld } from './simulated-rds';

/**
 * Simulated RDS in the DR region, as the RDS recovery adapter meets it: snapshot copies of the
 * production database and restores from them (`creating`, `backing-up`, `available`, 15-25 minutes);
 * the warm standby, a cross-region read replica whose `ReplicaLag` CloudWatch reports each minute,
 * its promotion (`modifying`, `rebooting`, `backing-up`, a few minutes) and a drill's twin of it;
 * and the end of what a run brought up: deleted after a final snapshot when its run tag is the
 * run's, or protected and marked promoted. What a database holds is its snapshot's tables, or its
 * source's as they were one lag ago, which the validation Jobs count.
 */

/** Rows and content hash of each table, as a snapshot captured them and an integrity manifest lists them. */
export type TableContents = Readonly<Record<string, { readonly rows: number; readonly checksum: string }>>;

export interface SnapshotDefinition {
  readonly identifier: string;
  /** The database it was taken of; RDS lists a copy under the source's identifier. */
  readonly source: DatabaseRef;
  /** The recovery point: when the original was taken (a copy keeps it as `OriginalSnapshotCreateTime`). */
  readonly createdAt: number;
  /** When it can be restored: its cross-region copy (or its creation) finished; `createdAt` by default. */
  readonly availableAt?: number;
  /** What it reads until then: `copying` by default. */
  readonly pendingStatus?: string;
  /** A status it keeps whatever the time (`failed`, say); unset, it follows `availableAt`. */
  readonly status?: string;
  readonly tables: TableContents;
}

export interface StandbyDefinition {
  /** The read replica in the DR region. */
  readonly database: DatabaseRef;
  /** Its source in the primary region (an ARN, as RDS reports a cross-region source). */
  readonly source: string;
  /** Its `ReplicaLag` at `t` in seconds; null while replication is not running (RDS reports -1). */
  readonly lagSeconds: (t: number) => number | null;
  /** What its source held at `t`: the replica holds it one lag later. */
  readonly sourceContents: (t: number) => TableContents;
  readonly tags?: Readonly<Record<string, string>>;
  readonly deletionProtection?: boolean;
}

/** Where the recovery happens: ARNs and endpoints are built from these. */
export interface RecoverySite {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** Statuses in which a database accepts connections (a replica's reads included, while it is being modified). */
const ACCEPTING_CONNECTIONS: ReadonlySet<string> = new Set(['available', 'backing-up', 'modifying']);
/** DescribeDBSnapshots' default page size. */
const SNAPSHOT_PAGE_SIZE = 100;
/** How far back the adapter looks for the newest lag reading. */
const LAG_LOOKBACK_MS = 60 * 60_000;

/** The content hash a table with this many rows has: equal rows, equal hash; anything else differs. */
export function tableChecksum(seed: string, table: string, rows: number): string {
  return hexId(64, seed, 'table', table, rows);
}

/** A database of the DR site that serves data: a restore, a standby, a drill's twin. */
interface Served {
  readonly database: DatabaseRef;
  readonly endpoint: string;
  /** A restore's: its snapshot's tables. */
  readonly restored?: TableContents;
  /** A replica's: what the production database held at `t`, which the replica holds one lag later. */
  readonly source?: (t: number) => TableContents;
  /** A replica's lag at `t`, null while replication is not running. */
  lagSeconds?: (t: number) => number | null;
  /** The status a failed restore or promotion ends in; null while none has failed. */
  failure: string | null;
  /** From a promotion on, what it holds no longer follows its source. */
  frozen: { readonly at: number; readonly contents: TableContents } | null;
}

/** What a client connecting to a restored database's endpoint finds. */
export interface RestoredDatabaseConnection {
  readonly identifier: string;
  readonly status: string;
  readonly acceptsConnections: boolean;
  readonly tables: TableContents;
}

function noun(database: DatabaseRef): string {
  return database.kind === 'instance' ? 'DB instance' : 'DB cluster';
}

function subjectOf(database: DatabaseRef): string {
  return `${noun(database)} ${database.identifier}`;
}

function key(database: DatabaseRef): string {
  return `${database.kind}|${database.identifier}`;
}

function snapshotStatus(snapshot: SnapshotDefinition, t: number): string {
  if (snapshot.status !== undefined) return snapshot.status;
  return t < (snapshot.availableAt ?? snapshot.createdAt)
    ? (snapshot.pendingStatus ?? 'copying')
    : 'available';
}

export class RdsRecoveryWorld {
  /** While set, restores started end in this status after `creating`: RDS could not start the restored database. */
  failingRestoreStatus: string | null = null;
  /** While set, promotions started end in this status after their reboot: the replica could not come up on its own. */
  failingPromotionStatus: string | null = null;
  /** Rows restored databases lack, by table (a snapshot that does not hold what its manifest vouches for). */
  readonly missingRows = new Map<string, number>();
  private readonly snapshots: SnapshotDefinition[] = [];
  private readonly served = new Map<string, Served>();

  constructor(
    private readonly rds: RdsWorld,
    private readonly site: RecoverySite,
    private readonly seed: string,
    /** The tag that marks what a recovery run restored, as the RDS adapter is configured with it. */
    readonly managedTagKey: string,
  ) {}

  addSnapshot(snapshot: SnapshotDefinition): void {
    this.snapshots.push(snapshot);
  }

  /** Snapshots of `source` that exist at `t`, newest recovery point first, as the port describes them. */
  snapshotsOf(source: DatabaseRef, t: number): DatabaseSnapshot[] {
    return this.snapshots
      .filter(
        (snapshot) =>
          snapshot.source.kind === source.kind &&
          snapshot.source.identifier === source.identifier &&
          snapshot.createdAt <= t,
      )
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((snapshot) => this.describeSnapshot(snapshot, t));
  }

  /** The warm standby: a read replica of the production database, replicating from the start. */
  addStandby(definition: StandbyDefinition): void {
    const { database } = definition;
    this.rds.addInstance({
      identifier: database.identifier,
      multiAz: false,
      connections: 0,
      replicaOf: definition.source,
      tags: definition.tags ?? {},
      deletionProtection: definition.deletionProtection ?? false,
    });
    this.served.set(key(database), {
      database,
      endpoint: this.endpoint(database),
      source: definition.sourceContents,
      lagSeconds: definition.lagSeconds,
      failure: null,
      frozen: null,
    });
  }

  /**
   * From `from`, the replica replays its source's changes `rate` times as fast as they come (a
   * replica that cannot keep up): its lag grows by `1 - rate` seconds every second. Undone by the
   * returned function.
   */
  slowReplica(replica: DatabaseRef, from: number, rate: number): () => void {
    const served = this.requireServed(replica);
    const normal = served.lagSeconds;
    if (!normal) throw new DatabaseNotFoundError(`${subjectOf(replica)} is not a read replica`);
    served.lagSeconds = (t) => {
      const lag = normal(t);
      return lag === null || t < from ? lag : lag + ((1 - rate) * (t - from)) / 1000;
    };
    return () => {
      served.lagSeconds = normal;
    };
  }

  describe(database: DatabaseRef, t: number): RestoreStatus | undefined {
    if (!this.rds.exists(database, t)) return undefined;
    const status = this.rds.status(database, t);
    const served = this.served.get(key(database));
    const tags = this.rds.tags(database);
    const runTag = tags[this.managedTagKey];
    const promotedBy = tags[RECOVERY_PROMOTED_TAG];
    const replicaOf = this.rds.replicaOf(database, t);
    // RDS publishes the endpoint once the instance is up, from `backing-up` (or, for a replica, `available`) on.
    const endpoint = served && status !== 'creating' ? { endpoint: served.endpoint } : {};
    return {
      identifier: database.identifier,
      status,
      available: status === 'available',
      failed: served?.failure === status,
      ...endpoint,
      ...(runTag === undefined ? {} : { runTag }),
      ...(promotedBy === undefined ? {} : { promotedBy }),
      ...(replicaOf === undefined ? {} : { replicaOf }),
      deletionProtection: this.rds.deletionProtection(database),
    };
  }

  /** The run tag a create request carries; the RDS adapter refuses one without, before sending anything. */
  runTagOf(target: DatabaseRef, tags: Readonly<Record<string, string>>): string {
    return requireRunTag(target, tags, this.managedTagKey);
  }

  /** The target as the adapter's check before creating finds it: the run's own, nothing, or refused. */
  ownExisting(target: DatabaseRef, runTag: string, t: number): RestoreStatus | undefined {
    if (!this.rds.exists(target, t)) return undefined;
    const tags = this.rds.tags(target);
    const conflict = ownershipConflict(subjectOf(target), (name) => tags[name], this.managedTagKey, runTag);
    if (conflict) throw conflict;
    return this.requireStatus(target, t);
  }

  /** RestoreDBInstanceFromDBSnapshot (or RestoreDBClusterFromSnapshot) arriving at `t`, for a target that does not exist. */
  createRestore(request: RestoreRequest, t: number): RestoreStatus {
    const { target, snapshot } = request;
    const subject = subjectOf(target);
    const source = this.snapshots.find(
      (each) => this.describeSnapshot(each, t).arn === snapshot.arn && each.source.kind === target.kind,
    );
    if (!source || source.createdAt > t) {
      throw new SnapshotNotFoundError(`${subject}: DBSnapshot not found: ${snapshot.arn}`);
    }
    if (snapshotStatus(source, t) !== 'available') {
      throw new SnapshotNotAvailableError(
        `${subject}: Snapshot ${source.identifier} must be in available state`,
      );
    }
    const tags = { ...request.tags };
    if (target.kind === 'instance') {
      this.rds.addInstance({ identifier: target.identifier, multiAz: false, connections: 0, tags });
    } else {
      this.rds.addAuroraCluster({
        identifier: target.identifier,
        members: [{ instance: `${target.identifier}-writer`, writer: true }],
        connections: 0,
        tags,
      });
    }
    const failure = this.failingRestoreStatus;
    const created =
      t + this.phase(RDS_RESTORE_CREATING_MIN_MS, RDS_RESTORE_CREATING_MAX_MS, 'restore', target, t);
    const backedUp =
      created + this.phase(RDS_RESTORE_BACKING_UP_MIN_MS, RDS_RESTORE_BACKING_UP_MAX_MS, 'backup', target, t);
    this.rds.scheduleStatuses(target, t, [
      { at: t, status: 'creating' },
      ...(failure === null
        ? [
            { at: created, status: 'backing-up' },
            { at: backedUp, status: 'available' },
          ]
        : [{ at: created, status: failure }]),
    ]);
    this.served.set(key(target), {
      database: target,
      endpoint: this.endpoint(target),
      restored: source.tables,
      failure,
      frozen: null,
    });
    return this.requireStatus(target, t);
  }

  /** The lag the adapter reads at `t`: the newest real `ReplicaLag` datapoint of the last hour. */
  lag(replica: DatabaseRef, t: number): Lag {
    const served = this.served.get(key(replica));
    const lagAt = served?.lagSeconds;
    if (!lagAt) return { lagSeconds: null, recoveryPoint: null };
    const points = metricPeriods(LAG_LOOKBACK_MS, t)
      .filter((minute) => this.rds.replicaOf(replica, minute + METRIC_PERIOD_MS) !== undefined)
      .map((minute) => {
        // The minute's Maximum: its lag as it ends, or -1 if replication was not running then.
        const lag = lagAt(minute + METRIC_PERIOD_MS);
        return { timestamp: new Date(minute), value: lag === null ? -1 : lag };
      });
    return lagFromDatapoints(points, new Date(t));
  }

  /** What the adapter decides for a promotion at `t` (sent, resumed or refused), with the lag it reads first. */
  planPromotion(replica: DatabaseRef, runId: string, t: number): { step: 'promote' | 'resume'; lag: Lag } {
    const status = this.requireStatus(replica, t);
    const tags = this.rds.tags(replica);
    const step = promotionStep(
      subjectOf(replica),
      { replicaOf: status.replicaOf, status: status.status },
      (name) => tags[name],
      runId,
    );
    return step === 'resume'
      ? { step, lag: { lagSeconds: null, recoveryPoint: taggedRecoveryPoint((name) => tags[name]) } }
      : { step, lag: this.lag(replica, t) };
  }

  /** AddTagsToResource of the promotion's mark, then PromoteReadReplica arriving at `t`. */
  promote(replica: DatabaseRef, runId: string, lag: Lag, t: number): string {
    this.rds.addTags(replica, promotionTags(runId, lag.recoveryPoint));
    if (this.rds.status(replica, t) !== 'available') {
      throw new DatabaseStateConflictError(
        `${subjectOf(replica)}: DB instance is not in available state: ${this.rds.status(replica, t)}`,
      );
    }
    const served = this.requireServed(replica);
    const failure = this.failingPromotionStatus;
    const modified =
      t + this.phase(RDS_PROMOTION_MODIFYING_MIN_MS, RDS_PROMOTION_MODIFYING_MAX_MS, 'modify', replica, t);
    const rebooted =
      modified +
      this.phase(RDS_PROMOTION_REBOOTING_MIN_MS, RDS_PROMOTION_REBOOTING_MAX_MS, 'reboot', replica, t);
    const backedUp =
      rebooted +
      this.phase(RDS_PROMOTION_BACKING_UP_MIN_MS, RDS_PROMOTION_BACKING_UP_MAX_MS, 'backup', replica, t);
    this.rds.scheduleStatuses(replica, t, [
      { at: t, status: 'modifying' },
      { at: modified, status: 'rebooting' },
      ...(failure === null
        ? [
            { at: rebooted, status: 'backing-up' },
            { at: backedUp, status: 'available' },
          ]
        : [{ at: rebooted, status: failure }]),
    ]);
    this.rds.endReplication(replica, rebooted);
    served.failure = failure;
    // Replication stops as the promotion starts: the database holds what it had replayed by then.
    served.frozen = { at: t, contents: this.contentsAt(replica, t) ?? {} };
    return 'modifying';
  }

  /** CreateDBInstanceReadReplica of the standby arriving at `t`, for a twin that does not exist. */
  createRehearsal(request: RehearsalRequest, t: number): RestoreStatus {
    const { standby, target } = request;
    assertRehearsable(standby, target);
    assertReplicating(standby, this.requireStatus(standby, t).replicaOf);
    const standbyServed = this.requireServed(standby);
    this.rds.addInstance({
      identifier: target.identifier,
      multiAz: false,
      connections: 0,
      replicaOf: standby.identifier,
      tags: { ...request.tags },
    });
    const created =
      t + this.phase(RDS_REPLICA_CREATING_MIN_MS, RDS_REPLICA_CREATING_MAX_MS, 'replica', target, t);
    this.rds.scheduleStatuses(target, t, [
      { at: t, status: 'creating' },
      { at: created, status: 'available' },
    ]);
    this.served.set(key(target), {
      database: target,
      endpoint: this.endpoint(target),
      ...(standbyServed.source ? { source: standbyServed.source } : {}),
      // The standby's lag as it is at the time (slowed, say), and the hop from it.
      lagSeconds: (at) => {
        const lag = standbyServed.lagSeconds?.(at) ?? null;
        return lag === null ? null : lag + RDS_CASCADING_REPLICA_LAG_SECONDS;
      },
      failure: null,
      frozen: null,
    });
    return this.requireStatus(target, t);
  }

  /**
   * What a clean-up decides for `target` at `t`, as the adapter does: nothing there, kept (and
   * why), a deletion already under way, or a deletion to send with this final snapshot.
   */
  planDeletion(
    target: DatabaseRef,
    runId: string,
    t: number,
  ): { absent: true } | { kept: string } | { deleting: true } | { finalSnapshot: string | undefined } {
    const status = this.describe(target, t);
    if (!status) return { absent: true };
    const tags = this.rds.tags(target);
    const kept = keptReason((name) => tags[name], status.deletionProtection, this.managedTagKey, runId);
    if (kept !== undefined) return { kept };
    if (status.status === 'deleting') return { deleting: true };
    return {
      finalSnapshot: finalSnapshotOf(
        { ref: target, replicaOf: status.replicaOf, status: status.status },
        runId,
      ),
    };
  }

  /**
   * DeleteDBInstance arriving at `t`: `deleting` while its final snapshot is taken (if any), then for
   * RDS_DELETE_MS, then gone; whatever it was about to become never happens. Its automated backups
   * are retained, as the adapter asks.
   */
  startDeletion(target: DatabaseRef, finalSnapshot: string | undefined, t: number): void {
    const snapshotMs = finalSnapshot === undefined ? 0 : RDS_FINAL_SNAPSHOT_MS;
    if (finalSnapshot !== undefined) {
      this.snapshots.push({
        identifier: finalSnapshot,
        source: target,
        createdAt: t,
        availableAt: t + snapshotMs,
        pendingStatus: 'creating',
        tables: this.contentsAt(target, t) ?? {},
      });
    }
    this.rds.scheduleStatuses(target, t, [{ at: t, status: 'deleting' }]);
    this.rds.removeAt(target, t + snapshotMs + RDS_DELETE_MS);
  }

  /** Whether this run's final snapshot of `target` exists (a retried clean-up reports it again). */
  hasSnapshot(target: DatabaseRef, identifier: string, t: number): boolean {
    return this.snapshotsOf(target, t).some((snapshot) => snapshot.identifier === identifier);
  }

  /** The adapter's refusal to protect what is not the run's; undefined when it may. */
  protectionConflict(target: DatabaseRef, runId: string, t: number): RestoreTargetConflictError | undefined {
    const status = this.requireStatus(target, t);
    if (status.runTag === runId || status.promotedBy === runId) return undefined;
    const tags = this.rds.tags(target);
    const why = keptReason((name) => tags[name], false, this.managedTagKey, runId);
    return new RestoreTargetConflictError(`${subjectOf(target)} is not recovery run ${runId}'s: ${why}`);
  }

  setDeletionProtection(target: DatabaseRef): void {
    this.rds.setDeletionProtection(target, true);
  }

  markPromoted(target: DatabaseRef, runId: string): void {
    this.rds.addTags(target, { [RECOVERY_PROMOTED_TAG]: runId });
  }

  removeRunTag(target: DatabaseRef): void {
    this.rds.removeTags(target, [this.managedTagKey]);
  }

  /** The database whose endpoint is `host`, as a client connecting at `t` finds it. */
  connect(host: string, t: number): RestoredDatabaseConnection | undefined {
    const served = [...this.served.values()].find(
      (each) => each.endpoint === host.toLowerCase() && this.rds.exists(each.database, t),
    );
    if (!served) return undefined;
    const status = this.rds.status(served.database, t);
    const tables = Object.fromEntries(
      Object.entries(this.contentsAt(served.database, t) ?? {}).map(([table, contents]) => {
        const missing = this.missingRows.get(table) ?? 0;
        if (missing === 0) return [table, contents];
        const rows = Math.max(0, contents.rows - missing);
        return [table, { rows, checksum: tableChecksum(this.seed, table, rows) }];
      }),
    );
    return {
      identifier: served.database.identifier,
      status,
      acceptsConnections: ACCEPTING_CONNECTIONS.has(status),
      tables,
    };
  }

  /** Every served database's endpoint, for the checks to look for in a Job's spec. */
  endpoints(): string[] {
    return [...this.served.values()].map((served) => served.endpoint);
  }

  private contentsAt(database: DatabaseRef, t: number): TableContents | undefined {
    const served = this.served.get(key(database));
    if (!served) return undefined;
    if (served.frozen && t >= served.frozen.at) return served.frozen.contents;
    if (served.restored) return served.restored;
    return served.source?.(t - 1000 * (served.lagSeconds?.(t) ?? 0));
  }

  /** RDS's replication state of a replica at `t`: `error` while its replication is not running. */
  replication(replica: DatabaseRef, t: number): string {
    return this.served.get(key(replica))?.lagSeconds?.(t) === null ? 'error' : 'replicating';
  }

  private phase(min: number, max: number, what: string, database: DatabaseRef, t: number): number {
    return Math.round(between(min, max, this.seed, what, subjectOf(database), t));
  }

  private describeSnapshot(snapshot: SnapshotDefinition, t: number): DatabaseSnapshot {
    const { partition, region, account } = this.site;
    const type = snapshot.source.kind === 'instance' ? 'snapshot' : 'cluster-snapshot';
    return {
      identifier: snapshot.identifier,
      arn: `arn:${partition}:rds:${region}:${account}:${type}:${snapshot.identifier}`,
      createdAt: new Date(snapshot.createdAt).toISOString(),
      sourceDatabase: snapshot.source.identifier,
      status: snapshotStatus(snapshot, t),
    };
  }

  /** RDS endpoints share a suffix per account and region. */
  private endpoint(target: DatabaseRef): string {
    const { region, account } = this.site;
    const suffix = hexId(12, this.seed, 'rds-endpoint', account, region);
    const cluster = target.kind === 'aurora-cluster' ? 'cluster-' : '';
    return `${target.identifier}.${cluster}${suffix}.${region}.rds.amazonaws.com`;
  }

  private requireServed(database: DatabaseRef): Served {
    const served = this.served.get(key(database));
    if (!served) throw new DatabaseNotFoundError(`${subjectOf(database)} not found`);
    return served;
  }

  private requireStatus(target: DatabaseRef, t: number): RestoreStatus {
    const status = this.describe(target, t);
    if (status) return status;
    throw new DatabaseNotFoundError(`${subjectOf(target)} not found`);
  }
}

/** `DatabaseRecovery` over the simulated DR region, with the RDS adapter's requests, results and error names. */
export class SimulatedDatabaseRecovery implements DatabaseRecovery {
  constructor(
    private readonly world: RdsRecoveryWorld,
    private readonly run: OperationRunner,
  ) {}

  findSnapshot(query: { sourceDatabase: DatabaseRef; day?: string }): Promise<DatabaseSnapshot | undefined> {
    return this.run('findSnapshot', [query], async (call) => {
      const { sourceDatabase, day } = query;
      if (day !== undefined) assertBackupDay(day);
      const listed = this.world.snapshotsOf(sourceDatabase, call.now());
      for (let page = 0; page < Math.max(1, Math.ceil(listed.length / SNAPSHOT_PAGE_SIZE)); page += 1) {
        await call.spend(RDS_API_MS);
      }
      return listed.find(
        (snapshot) =>
          snapshot.status === 'available' && (day === undefined || snapshot.createdAt.startsWith(`${day}T`)),
      );
    });
  }

  /** A describe of the target (the run's own is resumed, another's refused), then the restore. */
  startRestore(request: RestoreRequest): Promise<RestoreStatus> {
    return this.run('startRestore', [request], async (call) => {
      const runTag = this.world.runTagOf(request.target, request.tags);
      await call.spend(RDS_API_MS);
      const existing = this.world.ownExisting(request.target, runTag, call.now());
      if (existing) return existing;
      await call.spend(RDS_API_MS);
      return this.world.createRestore(request, call.now());
    });
  }

  restoreStatus(database: DatabaseRef): Promise<RestoreStatus | undefined> {
    return this.run('restoreStatus', [database], async (call) => {
      await call.spend(RDS_API_MS);
      return this.world.describe(database, call.now());
    });
  }

  /** A describe, and the replica's lag from CloudWatch while it is a replica. */
  replicaStatus(replica: DatabaseRef): Promise<ReplicaStatus | undefined> {
    return this.run('replicaStatus', [replica], async (call) => {
      await call.spend(RDS_API_MS);
      const status = this.world.describe(replica, call.now());
      if (!status) return undefined;
      if (status.replicaOf === undefined) return { ...status, lagSeconds: null, recoveryPoint: null };
      await call.spend(CLOUDWATCH_GET_METRIC_DATA_MS);
      const t = call.now();
      return { ...status, replication: this.world.replication(replica, t), ...this.world.lag(replica, t) };
    });
  }

  /** A describe, the lag from CloudWatch, the promotion's tags, then PromoteReadReplica. */
  promoteReplica(replica: DatabaseRef, runId: string): Promise<Promotion> {
    return this.run('promoteReplica', [replica, runId], async (call) => {
      await call.spend(RDS_API_MS);
      const plan = this.world.planPromotion(replica, runId, call.now());
      if (plan.step === 'resume') {
        const status = this.world.describe(replica, call.now());
        return {
          identifier: replica.identifier,
          status: status?.status ?? 'modifying',
          promotedBy: runId,
          ...plan.lag,
        };
      }
      await call.spend(CLOUDWATCH_GET_METRIC_DATA_MS + 2 * RDS_API_MS);
      const status = this.world.promote(replica, runId, plan.lag, call.now());
      return { identifier: replica.identifier, status, promotedBy: runId, ...plan.lag };
    });
  }

  /** A describe of the twin (the run's own is resumed), a describe of the standby, then CreateDBInstanceReadReplica. */
  startRehearsal(request: RehearsalRequest): Promise<RestoreStatus> {
    return this.run('startRehearsal', [request], async (call) => {
      const runTag = this.world.runTagOf(request.target, request.tags);
      if (request.standby.kind === 'instance') {
        await call.spend(RDS_API_MS);
        const existing = this.world.ownExisting(request.target, runTag, call.now());
        if (existing) return existing;
        await call.spend(2 * RDS_API_MS);
      }
      return this.world.createRehearsal(request, call.now());
    });
  }

  /** A describe (the tag read then), then DeleteDBInstance with a final snapshot where RDS takes one. */
  deleteRestored(target: DatabaseRef, runId: string): Promise<Deletion> {
    return this.run('deleteRestored', [target, runId], async (call) => {
      await call.spend(RDS_API_MS);
      const plan = this.world.planDeletion(target, runId, call.now());
      if ('absent' in plan) return { deleted: false };
      if ('kept' in plan) return { deleted: false, kept: plan.kept };
      if ('deleting' in plan) {
        await call.spend(RDS_API_MS);
        const name = finalSnapshotName(target.identifier, runId);
        const taken = this.world.hasSnapshot(target, name, call.now());
        return { deleted: true, ...(taken ? { finalSnapshot: name } : {}) };
      }
      await call.spend(RDS_API_MS);
      this.world.startDeletion(target, plan.finalSnapshot, call.now());
      return {
        deleted: true,
        ...(plan.finalSnapshot === undefined ? {} : { finalSnapshot: plan.finalSnapshot }),
      };
    });
  }

  /** A describe, then ModifyDBInstance, AddTagsToResource and RemoveTagsFromResource as each is still needed. */
  protectRecovered(target: DatabaseRef, runId: string): Promise<Protection> {
    return this.run('protectRecovered', [target, runId], async (call) => {
      await call.spend(RDS_API_MS);
      const conflict = this.world.protectionConflict(target, runId, call.now());
      if (conflict) throw conflict;
      const status = this.world.describe(target, call.now());
      if (!status?.deletionProtection) {
        await call.spend(RDS_API_MS);
        this.world.setDeletionProtection(target);
      }
      if (status?.promotedBy !== runId) {
        await call.spend(RDS_API_MS);
        this.world.markPromoted(target, runId);
      }
      if (status?.runTag !== undefined) {
        await call.spend(RDS_API_MS);
        this.world.removeRunTag(target);
      }
      return { identifier: target.identifier, deletionProtection: true, promotedBy: runId };
    });
  }
}
