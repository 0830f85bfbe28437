import { DatabaseStateConflictError } from '../../lambdas/adapters/aws/rds-database-operations';
import {
  InvalidRestoreRequestError,
  RestoreTargetConflictError,
  SnapshotNotAvailableError,
  SnapshotNotFoundError,
} from '../../lambdas/adapters/aws/rds-database-recovery';
import { assertBackupDay } from '../../lambdas/adapters/aws/s3-backup-catalog';
import type { DatabaseRef } from '../../lambdas/core/operations/ports';
import type {
  DatabaseRecovery,
  DatabaseSnapshot,
  RestoreRequest,
  RestoreStatus,
} from '../../lambdas/core/recovery/ports';
import type { OperationRunner } from './calls';
import { between, hexId } from './deterministic';
import {
  RDS_API_MS,
  RDS_DELETE_MS,
  RDS_RESTORE_BACKING_UP_MAX_MS,
  RDS_RESTORE_BACKING_UP_MIN_MS,
  RDS_RESTORE_CREATING_MAX_MS,
  RDS_RESTORE_CREATING_MIN_MS,
} from './durations';
import type { RdsWorld } from './simulated-rds';

/**
 * Simulated RDS in the DR region: snapshot copies of the production database, restores from them
 * (`creating`, `backing-up`, `available`, 15-25 minutes) into instances of the shared `RdsWorld`,
 * and their deletion. What a restored database holds is its snapshot's tables, which the
 * validation Jobs count.
 */

/** Rows and content hash of each table, as a snapshot captured them and an integrity manifest lists them. */
export type TableContents = Readonly<Record<string, { readonly rows: number; readonly checksum: string }>>;

export interface SnapshotDefinition {
  readonly identifier: string;
  /** The production database it is a copy of; RDS lists copies under the source's identifier. */
  readonly source: DatabaseRef;
  readonly createdAt: number;
  /** `available` by default; `copying` while a cross-region copy is under way. */
  readonly status?: string;
  readonly tables: TableContents;
}

/** Where the recovery happens: ARNs and endpoints are built from these. */
export interface RecoverySite {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** Statuses in which a restored database accepts connections. */
const ACCEPTING_CONNECTIONS: ReadonlySet<string> = new Set(['available', 'backing-up']);
/** DescribeDBSnapshots' default page size. */
const SNAPSHOT_PAGE_SIZE = 100;

/** The content hash a table with this many rows has: equal rows, equal hash; anything else differs. */
export function tableChecksum(seed: string, table: string, rows: number): string {
  return hexId(64, seed, 'table', table, rows);
}

interface Restore {
  readonly target: DatabaseRef;
  readonly snapshot: SnapshotDefinition;
  readonly endpoint: string;
  /** The status it ends in when RDS cannot bring it up; null for a restore that succeeds. */
  readonly failure: string | null;
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

function restoreKey(database: DatabaseRef): string {
  return `${database.kind}|${database.identifier}`;
}

export class RdsRecoveryWorld {
  /** While set, restores started end in this status after `creating`: RDS could not start the restored database. */
  failingRestoreStatus: string | null = null;
  /** Rows restored databases lack, by table (a snapshot that does not hold what its manifest vouches for). */
  readonly missingRows = new Map<string, number>();
  private readonly snapshots: SnapshotDefinition[] = [];
  private readonly restores = new Map<string, Restore>();

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

  /** Snapshots of `source` that exist at `t`, newest first, as the port describes them. */
  snapshotsOf(source: DatabaseRef, t: number): DatabaseSnapshot[] {
    return this.snapshots
      .filter(
        (snapshot) =>
          snapshot.source.kind === source.kind &&
          snapshot.source.identifier === source.identifier &&
          snapshot.createdAt <= t,
      )
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((snapshot) => this.describeSnapshot(snapshot));
  }

  restoreStatus(target: DatabaseRef, t: number): RestoreStatus | undefined {
    if (!this.rds.exists(target, t)) return undefined;
    const status = this.rds.status(target, t);
    const restore = this.restores.get(restoreKey(target));
    // RDS publishes the endpoint once the instance is up, from `backing-up` on.
    const endpoint = restore && status !== 'creating' ? { endpoint: restore.endpoint } : {};
    return {
      identifier: target.identifier,
      status,
      available: status === 'available',
      failed: restore?.failure === status,
      ...endpoint,
    };
  }

  /** The RDS adapter refuses, before sending anything, a restore compensation could not undo. */
  assertRestoreRequest(request: RestoreRequest): void {
    if (request.tags[this.managedTagKey] === undefined) {
      throw new InvalidRestoreRequestError(
        `restore of ${request.target.identifier} lacks the ${this.managedTagKey} tag, so compensation could not delete it`,
      );
    }
  }

  /**
   * RestoreDBInstanceFromDBSnapshot (or RestoreDBClusterFromSnapshot) arriving at `t`; undefined when
   * the target exists already (DBInstanceAlreadyExists), for `resumeRestore` to judge.
   */
  createRestore(request: RestoreRequest, t: number): RestoreStatus | undefined {
    const { target, snapshot } = request;
    if (this.rds.exists(target, t)) return undefined;
    const subject = `${noun(target)} ${target.identifier}`;
    const source = this.snapshots.find(
      (each) => this.describeSnapshot(each).arn === snapshot.arn && each.source.kind === target.kind,
    );
    if (!source || source.createdAt > t) {
      throw new SnapshotNotFoundError(`${subject}: DBSnapshot not found: ${snapshot.arn}`);
    }
    if ((source.status ?? 'available') !== 'available') {
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
    const phase = (min: number, max: number, what: string) =>
      Math.round(between(min, max, this.seed, what, subject, t));
    const created = t + phase(RDS_RESTORE_CREATING_MIN_MS, RDS_RESTORE_CREATING_MAX_MS, 'restore');
    const backedUp = created + phase(RDS_RESTORE_BACKING_UP_MIN_MS, RDS_RESTORE_BACKING_UP_MAX_MS, 'backup');
    this.rds.scheduleStatuses(target, t, [
      { at: t, status: 'creating' },
      ...(failure === null
        ? [
            { at: created, status: 'backing-up' },
            { at: backedUp, status: 'available' },
          ]
        : [{ at: created, status: failure }]),
    ]);
    this.restores.set(restoreKey(target), {
      target,
      snapshot: source,
      endpoint: this.endpoint(target),
      failure,
    });
    return this.requireStatus(target, t);
  }

  /** The database a refused create found, described at `t`: this run's own is resumed, another's refused. */
  resumeRestore(request: RestoreRequest, t: number): RestoreStatus {
    const { target } = request;
    const subject = `${noun(target)} ${target.identifier}`;
    const runTag = request.tags[this.managedTagKey];
    const owner = this.rds.exists(target, t) ? this.rds.tags(target)[this.managedTagKey] : undefined;
    if (this.rds.exists(target, t) && owner !== runTag) {
      throw new RestoreTargetConflictError(
        owner === undefined
          ? `${subject} already exists and was not created by a recovery run`
          : `${subject} already exists, created by recovery run ${owner}`,
      );
    }
    return this.requireStatus(target, t);
  }

  /**
   * What DeleteDBInstance would meet at `t`: nothing (`absent`), a deletion under way (`deleting`),
   * or a database to delete; one without the managed tag is refused, as the RDS adapter refuses it.
   */
  deletion(target: DatabaseRef, t: number): 'absent' | 'deleting' | 'deletable' {
    if (!this.rds.exists(target, t)) return 'absent';
    if (this.rds.tags(target)[this.managedTagKey] === undefined) {
      throw new RestoreTargetConflictError(
        `${noun(target)} ${target.identifier} has no ${this.managedTagKey} tag: it was not restored by a recovery run and is not deleted`,
      );
    }
    return this.rds.status(target, t) === 'deleting' ? 'deleting' : 'deletable';
  }

  /** `deleting` from `t` for RDS_DELETE_MS, then gone; whatever it was about to become never happens. */
  startDeletion(target: DatabaseRef, t: number): void {
    this.rds.scheduleStatuses(target, t, [{ at: t, status: 'deleting' }]);
    this.rds.removeAt(target, t + RDS_DELETE_MS);
  }

  /** The restored database whose endpoint is `host`, as a client connecting at `t` finds it. */
  connect(host: string, t: number): RestoredDatabaseConnection | undefined {
    const restore = [...this.restores.values()].find(
      (each) => each.endpoint === host.toLowerCase() && this.rds.exists(each.target, t),
    );
    if (!restore) return undefined;
    const status = this.rds.status(restore.target, t);
    const tables = Object.fromEntries(
      Object.entries(restore.snapshot.tables).map(([table, contents]) => {
        const missing = this.missingRows.get(table) ?? 0;
        if (missing === 0) return [table, contents];
        const rows = Math.max(0, contents.rows - missing);
        return [table, { rows, checksum: tableChecksum(this.seed, table, rows) }];
      }),
    );
    return {
      identifier: restore.target.identifier,
      status,
      acceptsConnections: ACCEPTING_CONNECTIONS.has(status),
      tables,
    };
  }

  /** Every restored database's endpoint, for the checks to look for in a Job's spec. */
  endpoints(): string[] {
    return [...this.restores.values()].map((restore) => restore.endpoint);
  }

  private describeSnapshot(snapshot: SnapshotDefinition): DatabaseSnapshot {
    const { partition, region, account } = this.site;
    const type = snapshot.source.kind === 'instance' ? 'snapshot' : 'cluster-snapshot';
    return {
      identifier: snapshot.identifier,
      arn: `arn:${partition}:rds:${region}:${account}:${type}:${snapshot.identifier}`,
      createdAt: new Date(snapshot.createdAt).toISOString(),
      sourceDatabase: snapshot.source.identifier,
      status: snapshot.status ?? 'available',
    };
  }

  /** RDS endpoints share a suffix per account and region. */
  private endpoint(target: DatabaseRef): string {
    const { region, account } = this.site;
    const suffix = hexId(12, this.seed, 'rds-endpoint', account, region);
    const cluster = target.kind === 'aurora-cluster' ? 'cluster-' : '';
    return `${target.identifier}.${cluster}${suffix}.${region}.rds.amazonaws.com`;
  }

  private requireStatus(target: DatabaseRef, t: number): RestoreStatus {
    const status = this.restoreStatus(target, t);
    if (status) return status;
    // The adapter's answer when a create reported a database that a describe then did not find.
    throw new DatabaseStateConflictError(
      `${noun(target)} ${target.identifier} was reported to exist, then was not found; try again`,
    );
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

  startRestore(request: RestoreRequest): Promise<RestoreStatus> {
    return this.run('startRestore', [request], async (call) => {
      this.world.assertRestoreRequest(request);
      await call.spend(RDS_API_MS);
      const created = this.world.createRestore(request, call.now());
      if (created) return created;
      await call.spend(RDS_API_MS);
      return this.world.resumeRestore(request, call.now());
    });
  }

  restoreStatus(target: DatabaseRef): Promise<RestoreStatus | undefined> {
    return this.run('restoreStatus', [target], async (call) => {
      await call.spend(RDS_API_MS);
      return this.world.restoreStatus(target, call.now());
    });
  }

  /** A describe, then DeleteDBInstance (no final snapshot: the database is a copy). */
  deleteRestored(target: DatabaseRef): Promise<{ deleted: boolean }> {
    return this.run('deleteRestored', [target], async (call) => {
      await call.spend(RDS_API_MS);
      const found = this.world.deletion(target, call.now());
      if (found !== 'deletable') return { deleted: found === 'deleting' };
      await call.spend(RDS_API_MS);
      this.world.startDeletion(target, call.now());
      return { deleted: true };
    });
  }
}
