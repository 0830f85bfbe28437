import {
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  FailoverNotPossibleError,
} from '../../lambdas/adapters/aws/rds-database-operations';
import type {
  DatabaseHealth,
  DatabaseKind,
  DatabaseOperations,
  DatabaseRef,
  FailoverResult,
} from '../../lambdas/core/operations/ports';
import type { OperationRunner } from './calls';
import { between, wobble } from './deterministic';
import {
  AURORA_FAILOVER_MAX_MS,
  AURORA_FAILOVER_MIN_MS,
  CLOUDWATCH_GET_METRIC_DATA_MS,
  METRIC_PERIOD_MS,
  RDS_API_MS,
  RDS_MULTI_AZ_FAILOVER_MAX_MS,
  RDS_MULTI_AZ_FAILOVER_MIN_MS,
} from './durations';
import { metricPeriods } from './simulated-cloudwatch';

/**
 * Simulated RDS: Multi-AZ instances and Aurora clusters whose status follows the failovers started
 * on them, and whose `DatabaseConnections` metric follows both failovers and connection outages.
 */

/** The window `DatabaseHealth.connections` averages over, as the RDS adapter reads it. */
const CONNECTIONS_WINDOW_MS = 5 * 60_000;
/** Aurora's lowest promotion priority; a member without a tier is promoted last. */
const LOWEST_PROMOTION_TIER = 15;

export interface DatabaseInstanceDefinition {
  readonly identifier: string;
  readonly multiAz: boolean;
  /** RDS status outside failovers; `available` by default. */
  readonly status?: string;
  /** Client connections in normal operation. */
  readonly connections: number;
  /** Set for an Aurora cluster's member instance. */
  readonly clusterIdentifier?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Set for a read replica: its source (an identifier, or an ARN in another region). */
  readonly replicaOf?: string;
  readonly deletionProtection?: boolean;
}

export interface AuroraClusterDefinition {
  readonly identifier: string;
  readonly members: readonly {
    readonly instance: string;
    readonly writer: boolean;
    readonly promotionTier?: number;
  }[];
  readonly connections: number;
  readonly status?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

interface Failover {
  readonly startedAt: number;
  readonly endsAt: number;
  /** Aurora: the reader promoted to writer when the failover ends. */
  readonly targetWriter?: string;
}

/** Clients cannot connect from `at` until healed: by a failover that completes, or by `healedAt`. */
export interface ConnectionOutage {
  readonly at: number;
  /** When something outside RDS (the pooler's restart) restores connections; null while nothing has. */
  readonly healedAt: () => number | null;
}

interface DatabaseRecord {
  readonly kind: DatabaseKind;
  readonly identifier: string;
  readonly multiAz: boolean;
  status: string;
  readonly connections: number;
  readonly clusterIdentifier?: string;
  readonly members: readonly { readonly instance: string; readonly promotionTier?: number }[];
  readonly initialWriter?: string;
  readonly failovers: Failover[];
  readonly outages: ConnectionOutage[];
  /** AddTagsToResource and RemoveTagsFromResource change them. */
  readonly tags: Record<string, string>;
  readonly replicaOf: string | undefined;
  /** When a promotion ended its replication (RDS stops reporting its source); null while a replica. */
  replicationEndedAt: number | null;
  deletionProtection: boolean;
  /** Statuses from set times on, overriding `status` (a restore: creating, backing-up, available). */
  readonly phases: { at: number; status: string }[];
  /** When it disappears from DescribeDBInstances (deleted); null while it exists. */
  goneAt: number | null;
}

export class RdsWorld {
  private readonly databases = new Map<string, DatabaseRecord>();

  constructor(private readonly seed: string) {}

  addInstance(definition: DatabaseInstanceDefinition): void {
    this.databases.set(key('instance', definition.identifier), {
      kind: 'instance',
      identifier: definition.identifier,
      multiAz: definition.multiAz,
      status: definition.status ?? 'available',
      connections: definition.connections,
      ...(definition.clusterIdentifier ? { clusterIdentifier: definition.clusterIdentifier } : {}),
      members: [],
      failovers: [],
      outages: [],
      tags: { ...definition.tags },
      replicaOf: definition.replicaOf,
      replicationEndedAt: null,
      deletionProtection: definition.deletionProtection ?? false,
      phases: [],
      goneAt: null,
    });
  }

  addAuroraCluster(definition: AuroraClusterDefinition): void {
    for (const member of definition.members) {
      this.addInstance({
        identifier: member.instance,
        multiAz: false,
        connections: 0,
        clusterIdentifier: definition.identifier,
      });
    }
    this.databases.set(key('aurora-cluster', definition.identifier), {
      kind: 'aurora-cluster',
      identifier: definition.identifier,
      multiAz: definition.members.length > 1,
      status: definition.status ?? 'available',
      connections: definition.connections,
      members: definition.members.map(({ instance, promotionTier }) => ({
        instance,
        ...(promotionTier === undefined ? {} : { promotionTier }),
      })),
      initialWriter: definition.members.find((member) => member.writer)?.instance,
      failovers: [],
      outages: [],
      tags: { ...definition.tags },
      replicaOf: undefined,
      replicationEndedAt: null,
      deletionProtection: false,
      phases: [],
      goneAt: null,
    });
  }

  /** Sets the status RDS reports outside failovers (`storage-full`, `stopped`, …). */
  setStatus(database: DatabaseRef, status: string): void {
    this.require(database).status = status;
  }

  addOutage(database: DatabaseRef, outage: ConnectionOutage): void {
    this.require(database).outages.push(outage);
  }

  /**
   * From `at` on, the database passes through these statuses at their times; what was scheduled
   * after `at` has not happened and is withdrawn.
   */
  scheduleStatuses(
    database: DatabaseRef,
    at: number,
    phases: readonly { at: number; status: string }[],
  ): void {
    const record = this.require(database);
    const kept = record.phases.filter((phase) => phase.at <= at);
    record.phases.splice(0, record.phases.length, ...kept, ...phases);
  }

  /** The database disappears at `at` (its deletion finished). */
  removeAt(database: DatabaseRef, at: number): void {
    this.require(database).goneAt = at;
  }

  /** Whether DescribeDBInstances (or DescribeDBClusters) finds it at `t`. */
  exists(database: DatabaseRef, t: number): boolean {
    const record = this.databases.get(key(database.kind, database.identifier));
    return record !== undefined && (record.goneAt === null || t < record.goneAt);
  }

  tags(database: DatabaseRef): Readonly<Record<string, string>> {
    return this.require(database).tags;
  }

  /** AddTagsToResource: sets these tags, replacing the values of keys it has. */
  addTags(database: DatabaseRef, tags: Readonly<Record<string, string>>): void {
    Object.assign(this.require(database).tags, tags);
  }

  /** RemoveTagsFromResource. */
  removeTags(database: DatabaseRef, keys: readonly string[]): void {
    const { tags } = this.require(database);
    for (const key of keys) delete tags[key];
  }

  /** Its replication source at `t`, while it is a read replica that no promotion has ended. */
  replicaOf(database: DatabaseRef, t: number): string | undefined {
    const record = this.require(database);
    return record.replicationEndedAt !== null && t >= record.replicationEndedAt
      ? undefined
      : record.replicaOf;
  }

  /** A promotion ends the replica's replication at `at`: from then on it is a database of its own. */
  endReplication(database: DatabaseRef, at: number): void {
    this.require(database).replicationEndedAt = at;
  }

  deletionProtection(database: DatabaseRef): boolean {
    return this.require(database).deletionProtection;
  }

  setDeletionProtection(database: DatabaseRef, enabled: boolean): void {
    this.require(database).deletionProtection = enabled;
  }

  status(database: DatabaseRef, t: number): string {
    const record = this.require(database, t);
    const failingOver = record.failovers.some((failover) => failover.startedAt <= t && t < failover.endsAt);
    if (failingOver) return record.kind === 'instance' ? 'rebooting' : 'failing-over';
    return record.phases.filter((phase) => phase.at <= t).at(-1)?.status ?? record.status;
  }

  writer(database: DatabaseRef, t: number): string | undefined {
    const record = this.require(database);
    return record.failovers
      .filter((failover) => failover.endsAt <= t)
      .reduce<string | undefined>(
        (writer, failover) => failover.targetWriter ?? writer,
        record.initialWriter,
      );
  }

  /** Whether clients can use the database at `t`: what `DatabaseHealth.available` reports. */
  available(database: DatabaseRef, t: number): boolean {
    if (this.status(database, t) !== 'available') return false;
    const writer = database.kind === 'aurora-cluster' ? this.writer(database, t) : undefined;
    return writer === undefined || this.status({ kind: 'instance', identifier: writer }, t) === 'available';
  }

  /** The one-minute `DatabaseConnections` datapoint starting at `minute`. */
  connectionsDatapoint(database: DatabaseRef, minute: number): number {
    const record = this.require(database);
    const sampledAt = minute + METRIC_PERIOD_MS / 2;
    if (!this.available(database, sampledAt)) return 0;
    const cut = record.outages.some((outage) => {
      if (sampledAt < outage.at) return false;
      const healedAt = [
        outage.healedAt(),
        ...record.failovers
          .filter((failover) => failover.startedAt >= outage.at)
          .map((failover) => failover.endsAt),
      ].filter((time): time is number => time !== null);
      return healedAt.length === 0 || sampledAt < Math.min(...healedAt);
    });
    if (cut) return 0;
    return Math.max(
      0,
      Math.round(
        record.connections + wobble(record.connections * 0.06, this.seed, record.identifier, minute),
      ),
    );
  }

  /** Average of the `DatabaseConnections` datapoints of the five minutes before `t`. */
  averageConnections(database: DatabaseRef, t: number): number | undefined {
    const values = metricPeriods(CONNECTIONS_WINDOW_MS, t).map((minute) =>
      this.connectionsDatapoint(database, minute),
    );
    return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;
  }

  isMultiAz(database: DatabaseRef): boolean {
    return this.require(database).multiAz;
  }

  /**
   * What a failover would do, as the RDS adapter decides it from a describe at `t`: refused for a
   * cluster member, a Single-AZ instance or a cluster without a reader; else the writer it promotes.
   */
  planFailover(database: DatabaseRef, t: number): FailoverResult {
    const record = this.require(database);
    const { identifier } = record;
    if (record.kind === 'instance') {
      if (record.clusterIdentifier) {
        throw new FailoverNotPossibleError(
          `${identifier} belongs to DB cluster ${record.clusterIdentifier}; fail over the cluster instead`,
        );
      }
      if (!record.multiAz) {
        throw new FailoverNotPossibleError(
          `${identifier} is not Multi-AZ: with no standby, a reboot would take the database down`,
        );
      }
      return { identifier, kind: 'instance', method: 'reboot-with-failover' };
    }
    const previousWriter = this.writer(database, t);
    const targetWriter = [...record.members]
      .filter((member) => member.instance !== previousWriter)
      .sort(
        (a, b) => (a.promotionTier ?? LOWEST_PROMOTION_TIER) - (b.promotionTier ?? LOWEST_PROMOTION_TIER),
      )[0]?.instance;
    if (!targetWriter) throw new FailoverNotPossibleError(`cluster ${identifier} has no reader to promote`);
    return {
      identifier,
      kind: 'aurora-cluster',
      method: 'aurora-failover',
      targetWriter,
      ...(previousWriter ? { previousWriter } : {}),
    };
  }

  /** RDS accepts the reboot or failover at `t` unless the database is busy (InvalidDBInstanceState). */
  startFailover(database: DatabaseRef, plan: FailoverResult, t: number): void {
    const record = this.require(database);
    if (this.status(database, t) !== 'available') {
      const noun = record.kind === 'instance' ? 'Database instance' : `DB cluster ${record.identifier}`;
      throw new DatabaseStateConflictError(`${record.identifier}: ${noun} is not in available state.`);
    }
    const [min, max] =
      record.kind === 'instance'
        ? [RDS_MULTI_AZ_FAILOVER_MIN_MS, RDS_MULTI_AZ_FAILOVER_MAX_MS]
        : [AURORA_FAILOVER_MIN_MS, AURORA_FAILOVER_MAX_MS];
    const duration = Math.round(
      between(min, max, this.seed, 'failover', record.identifier, record.failovers.length),
    );
    record.failovers.push({
      startedAt: t,
      endsAt: t + duration,
      ...(plan.targetWriter ? { targetWriter: plan.targetWriter } : {}),
    });
  }

  /** The database, as of `t` when given (a deleted one is gone from then on). */
  private require(database: DatabaseRef, t?: number): DatabaseRecord {
    const record = this.databases.get(key(database.kind, database.identifier));
    if (record && (t === undefined || record.goneAt === null || t < record.goneAt)) return record;
    const noun = database.kind === 'instance' ? 'DBInstance' : 'DBCluster';
    throw new DatabaseNotFoundError(`${database.identifier}: ${noun} ${database.identifier} not found.`);
  }
}

function key(kind: DatabaseKind, identifier: string): string {
  return `${kind}|${identifier}`;
}

/** `DatabaseOperations` over the simulated RDS, with the RDS adapter's results and error names. */
export class SimulatedDatabaseOperations implements DatabaseOperations {
  constructor(
    private readonly rds: RdsWorld,
    private readonly run: OperationRunner,
  ) {}

  health(database: DatabaseRef): Promise<DatabaseHealth> {
    return this.run('health', [database], async (call) => {
      // Describe (and, for Aurora, describe the writer) alongside the CloudWatch connections query.
      const describeMs = database.kind === 'instance' ? RDS_API_MS : 2 * RDS_API_MS;
      await call.spend(Math.max(describeMs, CLOUDWATCH_GET_METRIC_DATA_MS));
      const t = call.now();
      const status = this.rds.status(database, t);
      const writer = database.kind === 'aurora-cluster' ? this.rds.writer(database, t) : undefined;
      const connections = this.rds.averageConnections(database, t);
      return {
        identifier: database.identifier,
        kind: database.kind,
        status,
        available: this.rds.available(database, t),
        multiAz: this.rds.isMultiAz(database),
        ...(connections === undefined ? {} : { connections }),
        ...(writer === undefined ? {} : { writer }),
      };
    });
  }

  /** A describe, then RebootDBInstance with ForceFailover (or FailoverDBCluster), as the RDS adapter sends. */
  failover(database: DatabaseRef): Promise<FailoverResult> {
    return this.run('failover', [database], async (call) => {
      await call.spend(RDS_API_MS);
      const plan = this.rds.planFailover(database, call.now());
      await call.spend(RDS_API_MS);
      this.rds.startFailover(database, plan, call.now());
      return plan;
    });
  }
}
