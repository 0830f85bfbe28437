import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  InvalidDBClusterStateFault,
  InvalidDBInstanceStateFault,
  RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchThrottledError } from '../../../lambdas/adapters/aws/cloudwatch-metrics-reader';
import {
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  FailoverNotPossibleError,
  RdsDatabaseOperations,
  RdsThrottledError,
} from '../../../lambdas/adapters/aws/rds-database-operations';

const NOW = new Date('2026-11-05T10:00:00Z');
const FIVE_MINUTES_AGO = new Date('2026-11-05T09:55:00Z');

const rds = mockClient(RDSClient);
const cloudWatch = mockClient(CloudWatchClient);
const operations = new RdsDatabaseOperations(
  new RDSClient({ region: 'us-gov-west-1' }),
  new CloudWatchClient({ region: 'us-gov-west-1' }),
  () => NOW,
);

function connectionsQuery(dimension: string, identifier: string) {
  return {
    MetricDataQueries: [
      {
        Id: 'connections',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/RDS',
            MetricName: 'DatabaseConnections',
            Dimensions: [{ Name: dimension, Value: identifier }],
          },
          Period: 60,
          Stat: 'Average',
        },
      },
    ],
    StartTime: FIVE_MINUTES_AGO,
    EndTime: NOW,
    ScanBy: 'TimestampAscending',
  };
}

function connections(values: number[]) {
  return {
    MetricDataResults: [
      {
        Id: 'connections',
        Label: 'DatabaseConnections',
        StatusCode: 'Complete' as const,
        Timestamps: values.map((_, index) => new Date(FIVE_MINUTES_AGO.getTime() + index * 60_000)),
        Values: values,
      },
    ],
  };
}

const auroraCluster = {
  DBClusterIdentifier: 'phoenix-ledger',
  Status: 'available',
  MultiAZ: true,
  DBClusterMembers: [
    { DBInstanceIdentifier: 'ledger-a', IsClusterWriter: false, PromotionTier: 2 },
    { DBInstanceIdentifier: 'ledger-b', IsClusterWriter: true, PromotionTier: 1 },
    { DBInstanceIdentifier: 'ledger-c', IsClusterWriter: false, PromotionTier: 1 },
    { DBInstanceIdentifier: 'ledger-d', IsClusterWriter: false, PromotionTier: 1 },
  ],
};

beforeEach(() => {
  rds.reset();
  cloudWatch.reset();
  cloudWatch.on(GetMetricDataCommand).resolves(connections([]));
});

describe('health of a DB instance', () => {
  it('reads status and Multi-AZ from DescribeDBInstances and averages 5 minutes of DatabaseConnections', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'phoenix-ops', DBInstanceStatus: 'available', MultiAZ: true }],
    });
    cloudWatch.on(GetMetricDataCommand).resolves(connections([10, 20, 40, 50]));

    const health = await operations.health({ kind: 'instance', identifier: 'phoenix-ops' });

    expect(health).toEqual({
      identifier: 'phoenix-ops',
      kind: 'instance',
      status: 'available',
      available: true,
      multiAz: true,
      connections: 30,
    });
    expect(rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'phoenix-ops',
    });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual(
      connectionsQuery('DBInstanceIdentifier', 'phoenix-ops'),
    );
  });

  it('is unavailable while rebooting, and leaves connections undefined without datapoints', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'phoenix-ops', DBInstanceStatus: 'rebooting', MultiAZ: false }],
    });

    const health = await operations.health({ kind: 'instance', identifier: 'phoenix-ops' });

    expect(health.available).toBe(false);
    expect(health.status).toBe('rebooting');
    expect(health.multiAz).toBe(false);
    expect(health.connections).toBeUndefined();
  });
});

describe('health of an Aurora cluster', () => {
  it('names the writer and requires the writer instance itself to be available', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [auroraCluster] });
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'ledger-b', DBInstanceStatus: 'available' }],
    });
    cloudWatch.on(GetMetricDataCommand).resolves(connections([7]));

    const health = await operations.health({ kind: 'aurora-cluster', identifier: 'phoenix-ledger' });

    expect(health).toEqual({
      identifier: 'phoenix-ledger',
      kind: 'aurora-cluster',
      status: 'available',
      available: true,
      multiAz: true,
      connections: 7,
      writer: 'ledger-b',
    });
    expect(rds.commandCalls(DescribeDBClustersCommand)[0]?.args[0].input).toEqual({
      DBClusterIdentifier: 'phoenix-ledger',
    });
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'ledger-b',
    });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual(
      connectionsQuery('DBClusterIdentifier', 'phoenix-ledger'),
    );
  });

  it('is unavailable when the cluster reads available but its writer is rebooting', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [auroraCluster] });
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'ledger-b', DBInstanceStatus: 'rebooting' }],
    });

    const health = await operations.health({ kind: 'aurora-cluster', identifier: 'phoenix-ledger' });

    expect(health.status).toBe('available');
    expect(health.available).toBe(false);
  });

  it('is unavailable without any writer, and does not look one up', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          ...auroraCluster,
          DBClusterMembers: [{ DBInstanceIdentifier: 'ledger-a', IsClusterWriter: false }],
        },
      ],
    });

    const health = await operations.health({ kind: 'aurora-cluster', identifier: 'phoenix-ledger' });

    expect(health.available).toBe(false);
    expect(health.writer).toBeUndefined();
    expect(rds).not.toHaveReceivedCommand(DescribeDBInstancesCommand);
  });
});

describe('failover of a DB instance', () => {
  it('reboots a Multi-AZ instance with ForceFailover', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'phoenix-ops', DBInstanceStatus: 'available', MultiAZ: true }],
    });
    rds.on(RebootDBInstanceCommand).resolves({});

    const result = await operations.failover({ kind: 'instance', identifier: 'phoenix-ops' });

    expect(result).toEqual({ identifier: 'phoenix-ops', kind: 'instance', method: 'reboot-with-failover' });
    expect(rds).toHaveReceivedCommandExactlyOnceWith(RebootDBInstanceCommand, {
      DBInstanceIdentifier: 'phoenix-ops',
      ForceFailover: true,
    });
    expect(rds.commandCalls(RebootDBInstanceCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'phoenix-ops',
      ForceFailover: true,
    });
  });

  it('refuses a Single-AZ instance before any reboot is sent', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'phoenix-ops', DBInstanceStatus: 'available', MultiAZ: false }],
    });

    await expect(operations.failover({ kind: 'instance', identifier: 'phoenix-ops' })).rejects.toThrow(
      FailoverNotPossibleError,
    );
    expect(rds).not.toHaveReceivedCommand(RebootDBInstanceCommand);
  });

  it('refuses an instance that belongs to a cluster, which fails over as a cluster', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'ledger-b', MultiAZ: true, DBClusterIdentifier: 'phoenix-ledger' },
      ],
    });

    await expect(operations.failover({ kind: 'instance', identifier: 'ledger-b' })).rejects.toThrow(
      /fail over the cluster/,
    );
    expect(rds).not.toHaveReceivedCommand(RebootDBInstanceCommand);
  });
});

describe('failover of an Aurora cluster', () => {
  it('promotes the first reader of the lowest promotion tier', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [auroraCluster] });
    rds.on(FailoverDBClusterCommand).resolves({});

    const result = await operations.failover({ kind: 'aurora-cluster', identifier: 'phoenix-ledger' });

    expect(result).toEqual({
      identifier: 'phoenix-ledger',
      kind: 'aurora-cluster',
      method: 'aurora-failover',
      previousWriter: 'ledger-b',
      targetWriter: 'ledger-c',
    });
    expect(rds.commandCalls(FailoverDBClusterCommand)[0]?.args[0].input).toEqual({
      DBClusterIdentifier: 'phoenix-ledger',
      TargetDBInstanceIdentifier: 'ledger-c',
    });
  });

  it('promotes the first listed reader when no tiers are reported', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          ...auroraCluster,
          DBClusterMembers: [
            { DBInstanceIdentifier: 'ledger-b', IsClusterWriter: true },
            { DBInstanceIdentifier: 'ledger-d', IsClusterWriter: false },
            { DBInstanceIdentifier: 'ledger-a', IsClusterWriter: false },
          ],
        },
      ],
    });
    rds.on(FailoverDBClusterCommand).resolves({});

    const result = await operations.failover({ kind: 'aurora-cluster', identifier: 'phoenix-ledger' });

    expect(result.targetWriter).toBe('ledger-d');
    expect(rds).toHaveReceivedCommandWith(FailoverDBClusterCommand, {
      TargetDBInstanceIdentifier: 'ledger-d',
    });
  });

  it('refuses a cluster without a reader before any failover is sent', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        { ...auroraCluster, DBClusterMembers: [{ DBInstanceIdentifier: 'ledger-b', IsClusterWriter: true }] },
      ],
    });

    await expect(
      operations.failover({ kind: 'aurora-cluster', identifier: 'phoenix-ledger' }),
    ).rejects.toThrow(FailoverNotPossibleError);
    expect(rds).not.toHaveReceivedCommand(FailoverDBClusterCommand);
  });
});

describe('RDS errors become named errors', () => {
  const $metadata = {};

  it.each([
    {
      error: new DBInstanceNotFoundFault({ message: 'DBInstance phoenix-ops not found.', $metadata }),
      expected: DatabaseNotFoundError,
    },
    {
      error: Object.assign(new Error('not found'), { name: 'DBInstanceNotFound' }),
      expected: DatabaseNotFoundError,
    },
    { error: Object.assign(new Error('slow down'), { name: 'Throttling' }), expected: RdsThrottledError },
    {
      error: Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
      expected: RdsThrottledError,
    },
    {
      error: Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' }),
      expected: RdsThrottledError,
    },
    {
      error: Object.assign(new Error('too many'), {
        name: 'Unrecognised',
        $metadata: { httpStatusCode: 429 },
      }),
      expected: RdsThrottledError,
    },
  ])('DescribeDBInstances failing with $error.name → $expected.name', async ({ error, expected }) => {
    rds.on(DescribeDBInstancesCommand).rejects(error);

    const failure = await operations.health({ kind: 'instance', identifier: 'phoenix-ops' }).catch((e) => e);

    expect(failure).toBeInstanceOf(expected);
    expect(failure.name).toBe(expected.name);
    expect(failure.cause).toBe(error);
  });

  it('marks throttling retryable', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    const failure = await operations
      .failover({ kind: 'instance', identifier: 'phoenix-ops' })
      .catch((e) => e);

    expect(failure).toMatchObject({ name: 'RdsThrottledError', retryable: true });
  });

  it('maps a missing cluster to DatabaseNotFoundError', async () => {
    rds
      .on(DescribeDBClustersCommand)
      .rejects(new DBClusterNotFoundFault({ message: 'no such cluster', $metadata }));

    await expect(operations.failover({ kind: 'aurora-cluster', identifier: 'gone' })).rejects.toThrow(
      DatabaseNotFoundError,
    );
  });

  it('maps a reboot refused in the current state to DatabaseStateConflictError', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceIdentifier: 'phoenix-ops', MultiAZ: true }] });
    rds
      .on(RebootDBInstanceCommand)
      .rejects(new InvalidDBInstanceStateFault({ message: 'is modifying', $metadata }));

    await expect(operations.failover({ kind: 'instance', identifier: 'phoenix-ops' })).rejects.toThrow(
      DatabaseStateConflictError,
    );
  });

  it('maps a cluster failover refused in the current state to DatabaseStateConflictError', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [auroraCluster] });
    rds
      .on(FailoverDBClusterCommand)
      .rejects(new InvalidDBClusterStateFault({ message: 'failing-over', $metadata }));

    await expect(
      operations.failover({ kind: 'aurora-cluster', identifier: 'phoenix-ledger' }),
    ).rejects.toThrow(DatabaseStateConflictError);
  });

  it('maps an empty DescribeDBInstances answer to DatabaseNotFoundError', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });

    await expect(operations.health({ kind: 'instance', identifier: 'phoenix-ops' })).rejects.toThrow(
      DatabaseNotFoundError,
    );
  });

  it('lets errors it does not recognise through unchanged', async () => {
    const accessDenied = Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
    rds.on(DescribeDBInstancesCommand).rejects(accessDenied);

    await expect(operations.health({ kind: 'instance', identifier: 'phoenix-ops' })).rejects.toBe(
      accessDenied,
    );
  });

  it('reports CloudWatch throttling during a health check as CloudWatchThrottledError', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'phoenix-ops' }] });
    cloudWatch
      .on(GetMetricDataCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(operations.health({ kind: 'instance', identifier: 'phoenix-ops' })).rejects.toThrow(
      CloudWatchThrottledError,
    );
  });
});
