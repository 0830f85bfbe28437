import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  type DBCluster,
  type DBClusterMember,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  type RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import type {
  DatabaseHealth,
  DatabaseOperations,
  DatabaseRef,
  FailoverResult,
} from '../../core/operations/ports';
import { translatingErrors } from './aws-errors';
import { readMetricSeries } from './cloudwatch-metrics-reader';
import { DatabaseNotFoundError, translateRdsError } from './rds-errors';

// The errors this adapter throws, where its callers have always found them.
export { DatabaseNotFoundError, DatabaseStateConflictError, RdsThrottledError } from './rds-errors';

const CONNECTIONS_WINDOW_MS = 5 * 60_000;
/** Aurora's lowest promotion priority (tier 0 is promoted first); a member reporting no tier sorts last. */
const LOWEST_PROMOTION_TIER = 15;

/**
 * Nothing to fail over to (a Single-AZ instance, a cluster without a reader), so the action would be an
 * outage rather than a failover; or the instance belongs to a cluster, which fails over as a whole.
 */
export class FailoverNotPossibleError extends Error {
  override name = 'FailoverNotPossibleError';
}

export class RdsDatabaseOperations implements DatabaseOperations {
  constructor(
    private readonly rds: RDSClient,
    private readonly cloudWatch: CloudWatchClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async health(database: DatabaseRef): Promise<DatabaseHealth> {
    const [state, connections] = await Promise.all([
      database.kind === 'instance'
        ? this.instanceState(database.identifier)
        : this.clusterState(database.identifier),
      this.averageConnections(database),
    ]);
    return { ...state, connections };
  }

  async failover(database: DatabaseRef): Promise<FailoverResult> {
    return database.kind === 'instance'
      ? this.failoverInstance(database.identifier)
      : this.failoverCluster(database.identifier);
  }

  private async failoverInstance(identifier: string): Promise<FailoverResult> {
    const instance = await this.describeInstance(identifier);
    if (instance.DBClusterIdentifier) {
      throw new FailoverNotPossibleError(
        `${identifier} belongs to DB cluster ${instance.DBClusterIdentifier}; fail over the cluster instead`,
      );
    }
    if (instance.MultiAZ !== true) {
      throw new FailoverNotPossibleError(
        `${identifier} is not Multi-AZ: with no standby, a reboot would take the database down`,
      );
    }
    await translatingErrors(
      () =>
        this.rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: identifier, ForceFailover: true })),
      translateRdsError(identifier),
    );
    return { identifier, kind: 'instance', method: 'reboot-with-failover' };
  }

  private async failoverCluster(identifier: string): Promise<FailoverResult> {
    const cluster = await this.describeCluster(identifier);
    const target = promotionCandidate(cluster.DBClusterMembers ?? []);
    if (!target) {
      throw new FailoverNotPossibleError(`cluster ${identifier} has no reader to promote`);
    }
    await translatingErrors(
      () =>
        this.rds.send(
          new FailoverDBClusterCommand({
            DBClusterIdentifier: identifier,
            TargetDBInstanceIdentifier: target,
          }),
        ),
      translateRdsError(identifier),
    );
    return {
      identifier,
      kind: 'aurora-cluster',
      method: 'aurora-failover',
      previousWriter: writerOf(cluster),
      targetWriter: target,
    };
  }

  private async instanceState(identifier: string): Promise<Omit<DatabaseHealth, 'connections'>> {
    const instance = await this.describeInstance(identifier);
    const status = instance.DBInstanceStatus ?? 'unknown';
    return {
      identifier,
      kind: 'instance',
      status,
      available: status === 'available',
      multiAz: instance.MultiAZ === true,
    };
  }

  private async clusterState(identifier: string): Promise<Omit<DatabaseHealth, 'connections'>> {
    const cluster = await this.describeCluster(identifier);
    const status = cluster.Status ?? 'unknown';
    const writer = writerOf(cluster);
    // A cluster reads `available` while its writer instance is rebooting or failed: exactly the outage a
    // health check exists to see, so the writer's own status decides.
    const writerStatus = writer && (await this.describeInstance(writer)).DBInstanceStatus;
    return {
      identifier,
      kind: 'aurora-cluster',
      status,
      available: status === 'available' && writerStatus === 'available',
      multiAz: cluster.MultiAZ === true,
      writer,
    };
  }

  private async describeInstance(identifier: string): Promise<DBInstance> {
    const result = await translatingErrors(
      () => this.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })),
      translateRdsError(identifier),
    );
    const instance = result.DBInstances?.[0];
    if (!instance) throw new DatabaseNotFoundError(`DB instance ${identifier} not found`);
    return instance;
  }

  private async describeCluster(identifier: string): Promise<DBCluster> {
    const result = await translatingErrors(
      () => this.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier })),
      translateRdsError(identifier),
    );
    const cluster = result.DBClusters?.[0];
    if (!cluster) throw new DatabaseNotFoundError(`DB cluster ${identifier} not found`);
    return cluster;
  }

  private async averageConnections(database: DatabaseRef): Promise<number | undefined> {
    const end = this.now();
    const series = await readMetricSeries(
      this.cloudWatch,
      {
        Id: 'connections',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/RDS',
            MetricName: 'DatabaseConnections',
            Dimensions: [
              {
                Name: database.kind === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier',
                Value: database.identifier,
              },
            ],
          },
          Period: 60,
          Stat: 'Average',
        },
      },
      { start: new Date(end.getTime() - CONNECTIONS_WINDOW_MS), end },
    );
    const values = series.flatMap((each) => each.points.map((point) => point.value));
    return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;
  }
}

function writerOf(cluster: DBCluster): string | undefined {
  return cluster.DBClusterMembers?.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier;
}

/**
 * The reader to promote: the lowest promotion tier, as the operators ranked them, and among equals the
 * first listed. Naming the target (rather than letting Aurora choose) lets the result report the new writer.
 */
function promotionCandidate(members: readonly DBClusterMember[]): string | undefined {
  const readers = members.filter((member) => !member.IsClusterWriter && member.DBInstanceIdentifier);
  const tier = (member: DBClusterMember) => member.PromotionTier ?? LOWEST_PROMOTION_TIER;
  return [...readers].sort((a, b) => tier(a) - tier(b))[0]?.DBInstanceIdentifier;
}
