import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DBClusterAlreadyExistsFault,
  DBClusterNotFoundFault,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InstanceQuotaExceededFault,
  InsufficientDBInstanceCapacityFault,
  InvalidDBClusterStateFault,
  InvalidDBInstanceStateFault,
  InvalidDBSnapshotStateFault,
  ModifyDBInstanceCommand,
  PromoteReadReplicaCommand,
  PromoteReadReplicaDBClusterCommand,
  RDSClient,
  RemoveTagsFromResourceCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  StorageQuotaExceededFault,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RdsDatabaseRecovery } from '../../../lambdas/adapters/aws/rds-database-recovery';
import {
  InvalidRestoreRequestError,
  RestoreTargetConflictError,
} from '../../../lambdas/adapters/aws/rds-databases';
import {
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  RdsThrottledError,
  RestoreCapacityError,
  SnapshotNotAvailableError,
  SnapshotNotFoundError,
} from '../../../lambdas/adapters/aws/rds-errors';
import {
  RehearsalNotSupportedError,
  StandbyNotPromotableError,
} from '../../../lambdas/adapters/aws/rds-standby-promotion';
import { InvalidBackupDateError } from '../../../lambdas/adapters/aws/s3-backup-catalog';
import type {
  DatabaseSnapshot,
  RehearsalRequest,
  RestoreRequest,
} from '../../../lambdas/core/recovery/ports';

const RUN_TAG = 'aor:recovery-run';
const PROMOTED_TAG = 'aor:recovery-promoted';
const POINT_TAG = 'aor:recovery-point';
const RUN = 'DR-20261105T031000Z-a1b2c3';
const FINAL = 'phoenix-rooivalk-dr-final-dr-20261105t031000z-a1b2c3';
const NOW = new Date('2026-11-05T14:00:00Z');
const $metadata = {};
const rdsArn = (resource: string) => `arn:aws-us-gov:rds:us-gov-east-1:123456789012:${resource}`;

const rds = mockClient(RDSClient);
const cloudWatch = mockClient(CloudWatchClient);
const recovery = new RdsDatabaseRecovery(
  new RDSClient({ region: 'us-gov-east-1' }),
  new CloudWatchClient({ region: 'us-gov-east-1' }),
  { managedTagKey: RUN_TAG, now: () => NOW },
);

const DR = { kind: 'instance', identifier: 'phoenix-rooivalk-dr' } as const;
const STANDBY = { kind: 'instance', identifier: 'phoenix-rooivalk-dr-replica' } as const;
const TWIN = { kind: 'instance', identifier: 'phoenix-rooivalk-dr-replica-drill' } as const;
const LEDGER_DR = { kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' } as const;
const PRODUCTION_ARN = 'arn:aws-us-gov:rds:us-gov-west-1:123456789012:db:phoenix-rooivalk-production';

function instanceSnapshot(identifier: string, created: string, Status = 'available') {
  return {
    DBSnapshotIdentifier: identifier,
    DBSnapshotArn: rdsArn(`snapshot:${identifier}`),
    DBInstanceIdentifier: 'phoenix-rooivalk-production',
    SnapshotCreateTime: new Date(created),
    Status,
  };
}

function copied(identifier: string, created: string): DatabaseSnapshot {
  return {
    identifier,
    arn: rdsArn(`snapshot:${identifier}`),
    createdAt: new Date(created).toISOString(),
    sourceDatabase: 'phoenix-rooivalk-production',
    status: 'available',
  };
}

const ledgerSnapshot: DatabaseSnapshot = {
  identifier: 'phoenix-ledger-2026-11-05',
  arn: rdsArn('cluster-snapshot:phoenix-ledger-2026-11-05'),
  createdAt: '2026-11-05T03:00:00.000Z',
  sourceDatabase: 'phoenix-ledger',
  status: 'available',
};

function instanceRequest(
  tags: Record<string, string> = { [RUN_TAG]: RUN, team: 'platform' },
): RestoreRequest {
  return {
    snapshot: copied('phoenix-rooivalk-production-2026-11-05', '2026-11-05T03:10:00Z'),
    target: DR,
    instanceClass: 'db.r5.xlarge',
    subnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
    securityGroupIds: ['sg-0dr0database0001'],
    tags,
  };
}

const clusterRequest: RestoreRequest = {
  snapshot: ledgerSnapshot,
  target: LEDGER_DR,
  instanceClass: 'db.r6g.large',
  subnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
  securityGroupIds: ['sg-0dr0database0001', 'sg-0dr0monitoring01'],
  tags: { [RUN_TAG]: RUN },
};

const ourTags = [{ Key: RUN_TAG, Value: RUN }];
const notFound = new DBInstanceNotFoundFault({ message: 'DBInstance not found', $metadata });

function instance(fields: Record<string, unknown> = {}) {
  return {
    DBInstanceIdentifier: DR.identifier,
    DBInstanceArn: rdsArn(`db:${DR.identifier}`),
    DBInstanceStatus: 'available',
    TagList: ourTags,
    ...fields,
  };
}

function standby(fields: Record<string, unknown> = {}) {
  return {
    DBInstanceIdentifier: STANDBY.identifier,
    DBInstanceArn: rdsArn(`db:${STANDBY.identifier}`),
    DBInstanceStatus: 'available',
    ReadReplicaSourceDBInstanceIdentifier: PRODUCTION_ARN,
    StatusInfos: [{ StatusType: 'read replication', Normal: true, Status: 'replicating' }],
    BackupRetentionPeriod: 14,
    DeletionProtection: true,
    TagList: [{ Key: 'team', Value: 'platform' }],
    ...fields,
  };
}

/** GetMetricData's answer: one datapoint per minute, each `[minute, value]`. */
function lagSeries(points: readonly (readonly [string, number])[]) {
  return {
    MetricDataResults: [
      {
        Id: 'lag',
        Label: 'lag',
        StatusCode: 'Complete' as const,
        Timestamps: points.map(([minute]) => new Date(minute)),
        Values: points.map(([, value]) => value),
      },
    ],
  };
}

beforeEach(() => {
  rds.reset();
  cloudWatch.reset();
  // Nothing exists unless a test says so.
  rds.on(DescribeDBInstancesCommand).rejects(notFound);
  rds
    .on(DescribeDBClustersCommand)
    .rejects(new DBClusterNotFoundFault({ message: 'DBCluster not found', $metadata }));
});

describe('findSnapshot of a DB instance', () => {
  it('follows Marker through every page, automated and manual alike, and returns the newest available', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({
        DBSnapshots: [
          instanceSnapshot('rds:phoenix-rooivalk-production-2026-11-04-03-10', '2026-11-04T03:10:00Z'),
          instanceSnapshot('phoenix-rooivalk-production-2026-11-05', '2026-11-05T03:10:00Z'),
        ],
        Marker: 'page-2',
      })
      .resolvesOnce({
        DBSnapshots: [
          // Newer, but its copy into the DR region is still running.
          instanceSnapshot('phoenix-rooivalk-production-2026-11-06', '2026-11-06T03:10:00Z', 'copying'),
          instanceSnapshot('rds:phoenix-rooivalk-production-2026-11-03-03-10', '2026-11-03T03:10:00Z'),
        ],
      });

    const snapshot = await recovery.findSnapshot({
      sourceDatabase: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
    });

    expect(snapshot).toEqual(copied('phoenix-rooivalk-production-2026-11-05', '2026-11-05T03:10:00Z'));
    expect(rds.commandCalls(DescribeDBSnapshotsCommand).map((call) => call.args[0].input)).toEqual([
      { DBInstanceIdentifier: 'phoenix-rooivalk-production', Marker: undefined },
      { DBInstanceIdentifier: 'phoenix-rooivalk-production', Marker: 'page-2' },
    ]);
  });

  it('dates a copy by the data it holds, not by when it was copied, and picks the newest data', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          // Copied late in the morning, but of the nightly snapshot: its data is from 03:07.
          ...instanceSnapshot('phoenix-rooivalk-production-2026-11-05', '2026-11-05T11:40:00Z'),
          OriginalSnapshotCreateTime: new Date('2026-11-05T03:19:00Z'),
          SnapshotDatabaseTime: new Date('2026-11-05T03:07:00Z'),
        },
        {
          // A manual snapshot taken at 09:00 and copied at 09:30: newer data, copied earlier.
          ...instanceSnapshot('phoenix-rooivalk-production-pre-release', '2026-11-05T09:30:00Z'),
          OriginalSnapshotCreateTime: new Date('2026-11-05T09:00:00Z'),
        },
      ],
    });

    const snapshot = await recovery.findSnapshot({
      sourceDatabase: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
    });

    expect(snapshot).toMatchObject({
      identifier: 'phoenix-rooivalk-production-pre-release',
      createdAt: '2026-11-05T09:00:00.000Z',
    });
    const nightly = await recovery.findSnapshot({
      sourceDatabase: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
      day: '2026-11-05',
    });
    expect(nightly?.identifier).toBe('phoenix-rooivalk-production-pre-release');
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          ...instanceSnapshot('phoenix-rooivalk-production-2026-11-05', '2026-11-05T11:40:00Z'),
          OriginalSnapshotCreateTime: new Date('2026-11-05T03:19:00Z'),
          SnapshotDatabaseTime: new Date('2026-11-05T03:07:00Z'),
        },
      ],
    });
    expect(
      (
        await recovery.findSnapshot({
          sourceDatabase: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
        })
      )?.createdAt,
    ).toBe('2026-11-05T03:07:00.000Z');
  });

  it('with a day, returns the newest snapshot created on that UTC day', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        instanceSnapshot('early', '2026-11-04T00:05:00Z'),
        instanceSnapshot('late', '2026-11-04T23:59:00Z'),
        // 2026-11-04 in US time zones, but 2026-11-05 in UTC.
        instanceSnapshot('next-day', '2026-11-05T01:00:00Z'),
      ],
    });

    const snapshot = await recovery.findSnapshot({
      sourceDatabase: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
      day: '2026-11-04',
    });

    expect(snapshot?.identifier).toBe('late');
  });

  it('returns undefined when no available snapshot matches, rather than throwing', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        instanceSnapshot('failed-copy', '2026-11-05T03:10:00Z', 'failed'),
        instanceSnapshot('other-day', '2026-11-03T03:10:00Z'),
      ],
    });
    const sourceDatabase = { kind: 'instance' as const, identifier: 'phoenix-rooivalk-production' };

    await expect(recovery.findSnapshot({ sourceDatabase, day: '2026-11-05' })).resolves.toBeUndefined();
    rds.on(DescribeDBSnapshotsCommand).resolves({});
    await expect(recovery.findSnapshot({ sourceDatabase })).resolves.toBeUndefined();
  });

  it('refuses a day that is not a UTC date before asking RDS', async () => {
    const sourceDatabase = { kind: 'instance' as const, identifier: 'phoenix-rooivalk-production' };

    for (const day of ['latest', '2026-11-5', '2026-02-30']) {
      await expect(recovery.findSnapshot({ sourceDatabase, day })).rejects.toThrow(InvalidBackupDateError);
    }
    expect(rds).not.toHaveReceivedCommand(DescribeDBSnapshotsCommand);
  });

  it('maps throttling to RdsThrottledError', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(
      recovery.findSnapshot({
        sourceDatabase: { kind: 'instance', identifier: 'phoenix-rooivalk-production' },
      }),
    ).rejects.toMatchObject({ name: 'RdsThrottledError', retryable: true });
  });
});

describe('findSnapshot of an Aurora cluster', () => {
  it('pages through DescribeDBClusterSnapshots and returns the newest available', async () => {
    rds
      .on(DescribeDBClusterSnapshotsCommand)
      .resolvesOnce({
        DBClusterSnapshots: [
          {
            DBClusterSnapshotIdentifier: 'rds:phoenix-ledger-2026-11-04-03-00',
            DBClusterSnapshotArn: rdsArn('cluster-snapshot:rds:phoenix-ledger-2026-11-04-03-00'),
            DBClusterIdentifier: 'phoenix-ledger',
            SnapshotCreateTime: new Date('2026-11-04T03:00:00Z'),
            Status: 'available',
          },
        ],
        Marker: 'next',
      })
      .resolvesOnce({
        DBClusterSnapshots: [
          {
            DBClusterSnapshotIdentifier: 'phoenix-ledger-2026-11-05',
            DBClusterSnapshotArn: ledgerSnapshot.arn,
            DBClusterIdentifier: 'phoenix-ledger',
            SnapshotCreateTime: new Date('2026-11-05T03:00:00Z'),
            Status: 'available',
          },
        ],
      });

    const snapshot = await recovery.findSnapshot({
      sourceDatabase: { kind: 'aurora-cluster', identifier: 'phoenix-ledger' },
    });

    expect(snapshot).toEqual(ledgerSnapshot);
    expect(rds.commandCalls(DescribeDBClusterSnapshotsCommand).map((call) => call.args[0].input)).toEqual([
      { DBClusterIdentifier: 'phoenix-ledger', Marker: undefined },
      { DBClusterIdentifier: 'phoenix-ledger', Marker: 'next' },
    ]);
    expect(rds).not.toHaveReceivedCommand(DescribeDBSnapshotsCommand);
  });
});

describe('startRestore of a DB instance', () => {
  it('restores from the snapshot ARN, private, tagged, deletable, with tags copied to its snapshots', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({
      DBInstance: { DBInstanceIdentifier: 'phoenix-rooivalk-dr', DBInstanceStatus: 'creating' },
    });

    const status = await recovery.startRestore(instanceRequest());

    expect(status).toEqual({
      identifier: 'phoenix-rooivalk-dr',
      status: 'creating',
      available: false,
      failed: false,
      endpoint: undefined,
      deletionProtection: false,
    });
    expect(rds).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: 'phoenix-rooivalk-dr',
      DBSnapshotIdentifier: rdsArn('snapshot:phoenix-rooivalk-production-2026-11-05'),
      DBInstanceClass: 'db.r5.xlarge',
      DBSubnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
      VpcSecurityGroupIds: ['sg-0dr0database0001'],
      PubliclyAccessible: false,
      CopyTagsToSnapshot: true,
      DeletionProtection: false,
      Tags: [
        { Key: RUN_TAG, Value: RUN },
        { Key: 'team', Value: 'platform' },
      ],
    });
    // Multi-AZ and the rest are left to RDS's defaults.
    expect(
      Object.keys(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]?.args[0].input ?? {}),
    ).toEqual([
      'DBInstanceIdentifier',
      'DBSnapshotIdentifier',
      'DBInstanceClass',
      'DBSubnetGroupName',
      'VpcSecurityGroupIds',
      'PubliclyAccessible',
      'CopyTagsToSnapshot',
      'DeletionProtection',
      'Tags',
    ]);
  });

  it('resumes its own restore, found before restoring, without asking RDS to restore again', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'phoenix-rooivalk-dr' }).resolves({
      DBInstances: [
        instance({
          Endpoint: { Address: 'phoenix-rooivalk-dr.c1.us-gov-east-1.rds.amazonaws.com', Port: 5432 },
        }),
      ],
    });

    await expect(recovery.startRestore(instanceRequest())).resolves.toEqual({
      identifier: 'phoenix-rooivalk-dr',
      status: 'available',
      available: true,
      failed: false,
      endpoint: 'phoenix-rooivalk-dr.c1.us-gov-east-1.rds.amazonaws.com',
      runTag: RUN,
      deletionProtection: false,
    });
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
  });

  it.each([
    {
      owner: 'nobody',
      TagList: [{ Key: 'team', Value: 'platform' }],
      message: /not created by a recovery run/,
    },
    {
      owner: 'another run',
      TagList: [{ Key: RUN_TAG, Value: 'DR-20261001T000000Z-000003' }],
      message: /DR-20261001T000000Z-000003/,
    },
    {
      owner: 'a run that promoted it',
      TagList: [{ Key: PROMOTED_TAG, Value: 'DR-20261001T000000Z-000003' }],
      message: /recovery run DR-20261001T000000Z-000003 made it the site's database/,
    },
  ])(
    'refuses an existing instance made by $owner before anything is created',
    async ({ TagList, message }) => {
      rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance({ TagList })] });

      const failure = await recovery.startRestore(instanceRequest()).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(RestoreTargetConflictError);
      expect(failure).toMatchObject({ name: 'RestoreTargetConflictError', message });
      expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    },
  );

  it('refuses an instance another run created between its check and its restore', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(notFound)
      .resolves({ DBInstances: [instance({ TagList: [{ Key: RUN_TAG, Value: 'DR-other' }] })] });
    rds
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ message: 'DB instance already exists', $metadata }));

    await expect(recovery.startRestore(instanceRequest())).rejects.toThrow(
      /created by recovery run DR-other/,
    );
  });

  it('refuses a request without the managed tag, which compensation would need to delete the copy', async () => {
    await expect(recovery.startRestore(instanceRequest({ team: 'platform' }))).rejects.toThrow(
      InvalidRestoreRequestError,
    );
    expect(rds.calls()).toHaveLength(0);
  });

  it.each([
    {
      error: new InvalidDBSnapshotStateFault({ message: 'copying', $metadata }),
      expected: SnapshotNotAvailableError,
    },
    { error: new DBSnapshotNotFoundFault({ message: 'gone', $metadata }), expected: SnapshotNotFoundError },
    {
      error: new InstanceQuotaExceededFault({ message: 'quota', $metadata }),
      expected: RestoreCapacityError,
    },
    { error: new StorageQuotaExceededFault({ message: 'quota', $metadata }), expected: RestoreCapacityError },
    {
      error: new InsufficientDBInstanceCapacityFault({ message: 'no db.r5.xlarge', $metadata }),
      expected: RestoreCapacityError,
    },
    { error: Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }), expected: RdsThrottledError },
  ])('maps $error.name to $expected.name', async ({ error, expected }) => {
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(error);

    const failure = await recovery.startRestore(instanceRequest()).catch((thrown: unknown) => thrown);

    expect(failure).toBeInstanceOf(expected);
    expect(failure).toMatchObject({ name: expected.name, cause: error });
  });
});

describe('startRestore of an Aurora cluster', () => {
  beforeEach(() => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        {
          DBClusterSnapshotIdentifier: ledgerSnapshot.identifier,
          DBClusterSnapshotArn: ledgerSnapshot.arn,
          DBClusterIdentifier: 'phoenix-ledger',
          SnapshotCreateTime: new Date(ledgerSnapshot.createdAt),
          Status: 'available',
          Engine: 'aurora-postgresql',
          EngineVersion: '16.4',
        },
      ],
    });
  });

  it('restores the cluster with the snapshot engine and version, then creates its writer', async () => {
    rds.on(DescribeDBClustersCommand).rejects(new DBClusterNotFoundFault({ message: 'none', $metadata }));
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({
      DBCluster: { DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'creating' },
    });
    rds.on(CreateDBInstanceCommand).resolves({
      DBInstance: { DBInstanceIdentifier: 'phoenix-ledger-dr-writer', DBInstanceStatus: 'creating' },
    });

    const status = await recovery.startRestore(clusterRequest);

    expect(status).toMatchObject({ identifier: 'phoenix-ledger-dr', status: 'creating', available: false });
    expect(rds).toHaveReceivedCommandWith(DescribeDBClusterSnapshotsCommand, {
      DBClusterIdentifier: 'phoenix-ledger',
    });
    expect(rds.commandCalls(RestoreDBClusterFromSnapshotCommand)[0]?.args[0].input).toEqual({
      DBClusterIdentifier: 'phoenix-ledger-dr',
      SnapshotIdentifier: ledgerSnapshot.arn,
      Engine: 'aurora-postgresql',
      EngineVersion: '16.4',
      DBSubnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
      VpcSecurityGroupIds: ['sg-0dr0database0001', 'sg-0dr0monitoring01'],
      CopyTagsToSnapshot: true,
      DeletionProtection: false,
      Tags: ourTags,
    });
    expect(rds.commandCalls(CreateDBInstanceCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'phoenix-ledger-dr-writer',
      DBClusterIdentifier: 'phoenix-ledger-dr',
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.r6g.large',
      PubliclyAccessible: false,
      Tags: ourTags,
    });
  });

  it('resumes its own cluster, found before restoring, and creates the writer that is still missing', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'phoenix-ledger-dr',
          Status: 'available',
          Engine: 'aurora-postgresql',
          TagList: ourTags,
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    rds.on(CreateDBInstanceCommand).resolves({
      DBInstance: { DBInstanceIdentifier: 'phoenix-ledger-dr-writer', DBInstanceStatus: 'creating' },
    });

    const status = await recovery.startRestore(clusterRequest);

    expect(status).toMatchObject({ status: 'creating', available: false, failed: false });
    expect(rds).not.toHaveReceivedCommand(RestoreDBClusterFromSnapshotCommand);
    expect(rds).toHaveReceivedCommandTimes(CreateDBInstanceCommand, 1);
    expect(rds).toHaveReceivedCommandWith(CreateDBInstanceCommand, { Engine: 'aurora-postgresql' });
  });

  it('resumes both when the cluster and its writer already exist with the run tag', async () => {
    rds
      .on(RestoreDBClusterFromSnapshotCommand)
      .rejects(new DBClusterAlreadyExistsFault({ message: 'exists', $metadata }));
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'phoenix-ledger-dr',
          Status: 'available',
          Endpoint: 'phoenix-ledger-dr.cluster-c1.us-gov-east-1.rds.amazonaws.com',
          TagList: ourTags,
        },
      ],
    });
    rds
      .on(CreateDBInstanceCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ message: 'exists', $metadata }));
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'phoenix-ledger-dr-writer' }).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'phoenix-ledger-dr-writer', DBInstanceStatus: 'available', TagList: ourTags },
      ],
    });

    await expect(recovery.startRestore(clusterRequest)).resolves.toEqual({
      identifier: 'phoenix-ledger-dr',
      status: 'available',
      available: true,
      failed: false,
      endpoint: 'phoenix-ledger-dr.cluster-c1.us-gov-east-1.rds.amazonaws.com',
      runTag: RUN,
      deletionProtection: false,
    });
  });

  it('refuses an existing cluster without the run tag and creates no instance in it', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'available', TagList: [] }],
    });

    await expect(recovery.startRestore(clusterRequest)).rejects.toThrow(RestoreTargetConflictError);
    expect(rds).not.toHaveReceivedCommand(RestoreDBClusterFromSnapshotCommand);
    expect(rds).not.toHaveReceivedCommand(CreateDBInstanceCommand);
  });

  it('reports a snapshot missing from the source cluster listing as SnapshotNotFoundError', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });

    await expect(recovery.startRestore(clusterRequest)).rejects.toThrow(SnapshotNotFoundError);
    expect(rds).not.toHaveReceivedCommand(RestoreDBClusterFromSnapshotCommand);
  });

  it('reports the cluster vanishing before its writer is created as DatabaseNotFoundError', async () => {
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({ DBCluster: { Status: 'creating' } });
    rds
      .on(CreateDBInstanceCommand)
      .rejects(new DBClusterNotFoundFault({ message: 'cluster gone', $metadata }));

    await expect(recovery.startRestore(clusterRequest)).rejects.toThrow(DatabaseNotFoundError);
  });
});

describe('restoreStatus', () => {
  it.each([
    { status: 'creating', available: false, failed: false },
    { status: 'backing-up', available: false, failed: false },
    { status: 'modifying', available: false, failed: false },
    { status: 'available', available: true, failed: false },
    { status: 'failed', available: false, failed: true },
    { status: 'incompatible-restore', available: false, failed: true },
    { status: 'incompatible-parameters', available: false, failed: true },
    { status: 'incompatible-network', available: false, failed: true },
    { status: 'incompatible-option-group', available: false, failed: true },
    { status: 'storage-full', available: false, failed: true },
    { status: 'inaccessible-encryption-credentials', available: false, failed: true },
    { status: 'inaccessible-encryption-credentials-recoverable', available: false, failed: false },
  ])(
    'an instance that is $status: available $available, failed $failed',
    async ({ status, available, failed }) => {
      rds.on(DescribeDBInstancesCommand).resolves({
        DBInstances: [{ DBInstanceIdentifier: 'phoenix-rooivalk-dr', DBInstanceStatus: status }],
      });

      await expect(recovery.restoreStatus(DR)).resolves.toEqual({
        identifier: 'phoenix-rooivalk-dr',
        status,
        available,
        failed,
        endpoint: undefined,
        deletionProtection: false,
      });
      expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
        DBInstanceIdentifier: 'phoenix-rooivalk-dr',
      });
    },
  );

  it('reports the run that made it, the run that promoted it, its replication source and its protection', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        standby({
          DBInstanceStatus: 'modifying',
          TagList: [{ Key: PROMOTED_TAG, Value: RUN }],
        }),
      ],
    });

    await expect(recovery.restoreStatus(STANDBY)).resolves.toMatchObject({
      status: 'modifying',
      promotedBy: RUN,
      replicaOf: PRODUCTION_ARN,
      deletionProtection: true,
    });
  });

  it('is undefined for a database that does not exist', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    rds
      .on(DescribeDBClustersCommand)
      .rejects(new DBClusterNotFoundFault({ message: 'not found', $metadata }));

    await expect(recovery.restoreStatus(DR)).resolves.toBeUndefined();
    await expect(recovery.restoreStatus(LEDGER_DR)).resolves.toBeUndefined();
  });

  it.each([
    { cluster: 'creating', writer: undefined, status: 'creating', available: false, failed: false },
    { cluster: 'available', writer: 'creating', status: 'creating', available: false, failed: false },
    { cluster: 'available', writer: 'available', status: 'available', available: true, failed: false },
    {
      cluster: 'creating',
      writer: 'incompatible-parameters',
      status: 'incompatible-parameters',
      available: false,
      failed: true,
    },
    {
      cluster: 'incompatible-restore',
      writer: 'creating',
      status: 'incompatible-restore',
      available: false,
      failed: true,
    },
    // The storage is restored, but with no instance nothing serves it.
    { cluster: 'available', writer: undefined, status: 'available', available: false, failed: false },
  ])(
    'an Aurora cluster $cluster with writer $writer is $status',
    async ({ cluster, writer, ...expected }) => {
      rds.on(DescribeDBClustersCommand).resolves({
        DBClusters: [
          { DBClusterIdentifier: 'phoenix-ledger-dr', Status: cluster, Endpoint: 'writer.example' },
        ],
      });
      if (writer) {
        rds.on(DescribeDBInstancesCommand).resolves({
          DBInstances: [{ DBInstanceIdentifier: 'phoenix-ledger-dr-writer', DBInstanceStatus: writer }],
        });
      } else {
        rds.on(DescribeDBInstancesCommand).rejects(notFound);
      }

      await expect(recovery.restoreStatus(LEDGER_DR)).resolves.toEqual({
        identifier: 'phoenix-ledger-dr',
        endpoint: 'writer.example',
        deletionProtection: false,
        ...expected,
      });
      expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
        DBInstanceIdentifier: 'phoenix-ledger-dr-writer',
      });
    },
  );
});

describe('replicaStatus', () => {
  it('reads the newest real ReplicaLag of the last hour, and the recovery point it implies', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [standby()] });
    cloudWatch.on(GetMetricDataCommand).resolves(
      lagSeries([
        ['2026-11-05T13:56:00Z', 2],
        ['2026-11-05T13:57:00Z', 3.5],
        ['2026-11-05T13:58:00Z', 2.5],
      ]),
    );

    const status = await recovery.replicaStatus(STANDBY);

    expect(status).toMatchObject({
      identifier: STANDBY.identifier,
      status: 'available',
      replicaOf: PRODUCTION_ARN,
      replication: 'replicating',
      lagSeconds: 2.5,
      // The 13:58 minute ends at 13:59:00; 2.5 s before that is the newest data it surely holds.
      recoveryPoint: '2026-11-05T13:58:57.500Z',
    });
    const query = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(query?.MetricDataQueries?.[0]?.MetricStat).toEqual({
      Metric: {
        Namespace: 'AWS/RDS',
        MetricName: 'ReplicaLag',
        Dimensions: [{ Name: 'DBInstanceIdentifier', Value: STANDBY.identifier }],
      },
      Period: 60,
      Stat: 'Maximum',
    });
    expect(query?.StartTime).toEqual(new Date('2026-11-05T13:00:00Z'));
    expect(query?.EndTime).toEqual(NOW);
  });

  it('skips the -1 a replica reports while its replication is not running, to the last real reading', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        standby({ StatusInfos: [{ StatusType: 'read replication', Normal: false, Status: 'error' }] }),
      ],
    });
    cloudWatch.on(GetMetricDataCommand).resolves(
      lagSeries([
        ['2026-11-05T13:40:00Z', 1],
        ['2026-11-05T13:41:00Z', -1],
        ['2026-11-05T13:42:00Z', -1],
      ]),
    );

    await expect(recovery.replicaStatus(STANDBY)).resolves.toMatchObject({
      replication: 'error',
      lagSeconds: 1,
      recoveryPoint: '2026-11-05T13:40:59.000Z',
    });
  });

  it('has no lag to report without readings, and asks none of a database that is not a replica', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [standby()] });
    cloudWatch.on(GetMetricDataCommand).resolves(lagSeries([['2026-11-05T13:42:00Z', -1]]));
    await expect(recovery.replicaStatus(STANDBY)).resolves.toMatchObject({
      lagSeconds: null,
      recoveryPoint: null,
    });

    cloudWatch.reset();
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance()] });
    await expect(recovery.replicaStatus(DR)).resolves.toMatchObject({
      lagSeconds: null,
      recoveryPoint: null,
    });
    expect(cloudWatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    await expect(recovery.replicaStatus(STANDBY)).resolves.toBeUndefined();
  });
});

describe('promoteReplica', () => {
  beforeEach(() => {
    cloudWatch.on(GetMetricDataCommand).resolves(lagSeries([['2026-11-05T13:58:00Z', 3]]));
  });

  it('reads the lag, marks the replica promoted by the run, then promotes it keeping its backup retention', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [standby()] });
    rds.on(PromoteReadReplicaCommand).resolves({
      DBInstance: { DBInstanceIdentifier: STANDBY.identifier, DBInstanceStatus: 'modifying' },
    });

    const promotion = await recovery.promoteReplica(STANDBY, RUN);

    expect(promotion).toEqual({
      identifier: STANDBY.identifier,
      status: 'modifying',
      promotedBy: RUN,
      lagSeconds: 3,
      recoveryPoint: '2026-11-05T13:58:57.000Z',
    });
    const sent = rds.calls().map((call) => call.args[0].constructor.name);
    expect(sent).toEqual([
      'DescribeDBInstancesCommand',
      'AddTagsToResourceCommand',
      'PromoteReadReplicaCommand',
    ]);
    expect(rds.commandCalls(AddTagsToResourceCommand)[0]?.args[0].input).toEqual({
      ResourceName: rdsArn(`db:${STANDBY.identifier}`),
      Tags: [
        { Key: PROMOTED_TAG, Value: RUN },
        { Key: POINT_TAG, Value: '2026-11-05T13:58:57.000Z' },
      ],
    });
    expect(rds.commandCalls(PromoteReadReplicaCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: STANDBY.identifier,
      BackupRetentionPeriod: 14,
    });
  });

  it('keeps backups a week when the replica kept none (RDS would keep one day)', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [standby({ BackupRetentionPeriod: 0 })] });
    rds.on(PromoteReadReplicaCommand).resolves({});

    await recovery.promoteReplica(STANDBY, RUN);

    expect(rds).toHaveReceivedCommandWith(PromoteReadReplicaCommand, { BackupRetentionPeriod: 7 });
  });

  it.each([
    { state: 'still promoting', fields: { DBInstanceStatus: 'rebooting' } },
    {
      state: 'promoted',
      fields: { DBInstanceStatus: 'backing-up', ReadReplicaSourceDBInstanceIdentifier: undefined },
    },
  ])('reports its own promotion again when a retry finds it $state, sending nothing', async ({ fields }) => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        standby({
          ...fields,
          TagList: [
            { Key: PROMOTED_TAG, Value: RUN },
            { Key: POINT_TAG, Value: '2026-11-05T13:50:01.000Z' },
          ],
        }),
      ],
    });

    await expect(recovery.promoteReplica(STANDBY, RUN)).resolves.toEqual({
      identifier: STANDBY.identifier,
      status: fields.DBInstanceStatus,
      promotedBy: RUN,
      lagSeconds: null,
      recoveryPoint: '2026-11-05T13:50:01.000Z',
    });
    expect(rds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
    expect(rds).not.toHaveReceivedCommand(PromoteReadReplicaCommand);
    expect(cloudWatch).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  it('promotes again a replica its run marked but RDS refused to promote (it was backing up)', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        standby({ DBInstanceStatus: 'backing-up', TagList: [{ Key: PROMOTED_TAG, Value: RUN }] }),
      ],
    });
    rds.on(PromoteReadReplicaCommand).resolves({});

    await recovery.promoteReplica(STANDBY, RUN);

    expect(rds).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
  });

  it.each([
    { by: 'nobody', TagList: [], message: /is not a read replica: there is nothing to promote/ },
    {
      by: 'another run',
      TagList: [{ Key: PROMOTED_TAG, Value: 'DR-earlier' }],
      message: /no longer a read replica: recovery run DR-earlier promoted it/,
    },
  ])('refuses a standalone database promoted by $by', async ({ TagList, message }) => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [standby({ ReadReplicaSourceDBInstanceIdentifier: undefined, TagList })],
    });

    const failure = await recovery.promoteReplica(STANDBY, RUN).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(StandbyNotPromotableError);
    expect(failure).toMatchObject({ name: 'StandbyNotPromotableError', message });
    expect(rds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
    expect(rds).not.toHaveReceivedCommand(PromoteReadReplicaCommand);
  });

  it('maps RDS refusing the promotion in the replica’s state to the retryable DatabaseStateConflictError', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [standby()] });
    rds
      .on(PromoteReadReplicaCommand)
      .rejects(new InvalidDBInstanceStateFault({ message: 'backing-up', $metadata }));

    await expect(recovery.promoteReplica(STANDBY, RUN)).rejects.toThrow(DatabaseStateConflictError);
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    await expect(recovery.promoteReplica(STANDBY, RUN)).rejects.toThrow(DatabaseNotFoundError);
  });

  it('promotes an Aurora replica cluster, its lag read from AuroraBinlogReplicaLag', async () => {
    const cluster = { kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr-replica' } as const;
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: cluster.identifier,
          DBClusterArn: rdsArn(`cluster:${cluster.identifier}`),
          Status: 'available',
          ReplicationSourceIdentifier: 'arn:aws-us-gov:rds:us-gov-west-1:123456789012:cluster:phoenix-ledger',
          DBClusterMembers: [{ DBInstanceIdentifier: 'ledger-replica-1', IsClusterWriter: true }],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'ledger-replica-1', DBInstanceStatus: 'available' }],
    });
    rds.on(PromoteReadReplicaDBClusterCommand).resolves({ DBCluster: { Status: 'promoting' } });

    await expect(recovery.promoteReplica(cluster, RUN)).resolves.toMatchObject({ status: 'promoting' });
    expect(rds).toHaveReceivedCommandWith(PromoteReadReplicaDBClusterCommand, {
      DBClusterIdentifier: cluster.identifier,
    });
    expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
      DBInstanceIdentifier: 'ledger-replica-1',
    });
    expect(
      cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[0]?.MetricStat
        ?.Metric,
    ).toEqual({
      Namespace: 'AWS/RDS',
      MetricName: 'AuroraBinlogReplicaLag',
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: cluster.identifier }],
    });
  });
});

describe('startRehearsal', () => {
  const rehearsal: RehearsalRequest = {
    standby: STANDBY,
    target: TWIN,
    instanceClass: 'db.r5.xlarge',
    securityGroupIds: ['sg-0dr0database0001'],
    tags: { [RUN_TAG]: RUN, 'aor:dry-run': 'true' },
  };

  it('creates the twin as a read replica of the standby, tagged with the run, touching the standby no further', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TWIN.identifier }).rejects(notFound);
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: STANDBY.identifier }).resolves({
      DBInstances: [standby()],
    });
    rds.on(CreateDBInstanceReadReplicaCommand).resolves({
      DBInstance: {
        DBInstanceIdentifier: TWIN.identifier,
        DBInstanceStatus: 'creating',
        ReadReplicaSourceDBInstanceIdentifier: STANDBY.identifier,
        TagList: [{ Key: RUN_TAG, Value: RUN }],
      },
    });

    await expect(recovery.startRehearsal(rehearsal)).resolves.toEqual({
      identifier: TWIN.identifier,
      status: 'creating',
      available: false,
      failed: false,
      endpoint: undefined,
      runTag: RUN,
      replicaOf: STANDBY.identifier,
      deletionProtection: false,
    });
    expect(rds.commandCalls(CreateDBInstanceReadReplicaCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: TWIN.identifier,
      SourceDBInstanceIdentifier: STANDBY.identifier,
      DBInstanceClass: 'db.r5.xlarge',
      VpcSecurityGroupIds: ['sg-0dr0database0001'],
      PubliclyAccessible: false,
      CopyTagsToSnapshot: true,
      DeletionProtection: false,
      Tags: [
        { Key: RUN_TAG, Value: RUN },
        { Key: 'aor:dry-run', Value: 'true' },
      ],
    });
    expect(rds).not.toHaveReceivedCommand(PromoteReadReplicaCommand);
    expect(rds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
  });

  it('refuses a twin that exists without the run tag, and a standby that is no replica, creating nothing', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TWIN.identifier }).resolves({
      DBInstances: [{ DBInstanceIdentifier: TWIN.identifier, DBInstanceStatus: 'available', TagList: [] }],
    });
    await expect(recovery.startRehearsal(rehearsal)).rejects.toThrow(RestoreTargetConflictError);

    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TWIN.identifier }).rejects(notFound);
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: STANDBY.identifier }).resolves({
      DBInstances: [standby({ ReadReplicaSourceDBInstanceIdentifier: undefined })],
    });
    await expect(recovery.startRehearsal(rehearsal)).rejects.toThrow(StandbyNotPromotableError);
    await expect(recovery.startRehearsal({ ...rehearsal, tags: {} })).rejects.toThrow(
      InvalidRestoreRequestError,
    );
    expect(rds).not.toHaveReceivedCommand(CreateDBInstanceReadReplicaCommand);
  });

  it('cannot rehearse an Aurora replica cluster’s promotion without promoting it', async () => {
    const cluster = { kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr-replica' } as const;
    await expect(
      recovery.startRehearsal({
        ...rehearsal,
        standby: cluster,
        target: { ...cluster, identifier: `${cluster.identifier}-drill` },
      }),
    ).rejects.toThrow(RehearsalNotSupportedError);
    expect(rds.calls()).toHaveLength(0);
  });
});

describe('deleteRestored', () => {
  it('deletes its own instance after a final snapshot named after the run, keeping its automated backups', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance()] });
    rds.on(DeleteDBInstanceCommand).resolves({});

    await expect(recovery.deleteRestored(DR, RUN)).resolves.toEqual({ deleted: true, finalSnapshot: FINAL });
    expect(rds.commandCalls(DeleteDBInstanceCommand).map((call) => call.args[0].input)).toEqual([
      {
        DBInstanceIdentifier: 'phoenix-rooivalk-dr',
        SkipFinalSnapshot: false,
        FinalDBSnapshotIdentifier: FINAL,
        DeleteAutomatedBackups: false,
      },
    ]);
  });

  it.each([
    {
      what: 'another run’s instance (a second run colliding with the first)',
      fields: { TagList: [{ Key: RUN_TAG, Value: 'DR-20261104T000000Z-first1' }] },
      kept: `recovery run DR-20261104T000000Z-first1 created it, not ${RUN}`,
    },
    {
      what: 'an instance no run created',
      fields: { TagList: [{ Key: 'aor:recovery', Value: RUN }] },
      kept: 'it has no aor:recovery-run tag: no recovery run created it',
    },
    {
      what: 'the database a run recovered',
      fields: {
        TagList: [{ Key: PROMOTED_TAG, Value: 'DR-20261104T000000Z-first1' }],
        DeletionProtection: true,
      },
      kept: "recovery run DR-20261104T000000Z-first1 made it the site's database (aor:recovery-promoted)",
    },
    {
      what: 'its own instance with deletion protection on',
      fields: { DeletionProtection: true },
      kept: 'its deletion protection is on',
    },
  ])('keeps $what, and says why', async ({ fields, kept }) => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance(fields)] });

    await expect(recovery.deleteRestored(DR, RUN)).resolves.toEqual({ deleted: false, kept });
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it.each([
    {
      what: 'a twin still replicating',
      fields: { ReadReplicaSourceDBInstanceIdentifier: STANDBY.identifier },
    },
    { what: 'a restore that failed', fields: { DBInstanceStatus: 'incompatible-restore' } },
    { what: 'a restore still being created', fields: { DBInstanceStatus: 'creating' } },
  ])('deletes $what without a final snapshot, which RDS takes of none of them', async ({ fields }) => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance(fields)] });
    rds.on(DeleteDBInstanceCommand).resolves({});

    await expect(recovery.deleteRestored(DR, RUN)).resolves.toEqual({ deleted: true });
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      SkipFinalSnapshot: true,
      FinalDBSnapshotIdentifier: undefined,
      DeleteAutomatedBackups: false,
    });
  });

  it('does not delete again an instance already being deleted, and reports the final snapshot it took', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [instance({ DBInstanceStatus: 'deleting' })] });
    rds.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: FINAL }).resolves({
      DBSnapshots: [instanceSnapshot(FINAL, '2026-11-05T14:00:00Z', 'creating')],
    });

    await expect(recovery.deleteRestored(DR, RUN)).resolves.toEqual({ deleted: true, finalSnapshot: FINAL });
    rds.on(DescribeDBSnapshotsCommand).rejects(new DBSnapshotNotFoundFault({ message: 'none', $metadata }));
    await expect(recovery.deleteRestored(DR, RUN)).resolves.toEqual({ deleted: true });
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('reports an absent instance as not deleted, whether absent before or during the delete', async () => {
    rds.on(DescribeDBInstancesCommand).rejectsOnce(notFound);

    await expect(recovery.deleteRestored(DR, RUN)).resolves.toEqual({ deleted: false });
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);

    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance()] });
    rds.on(DeleteDBInstanceCommand).rejects(notFound);
    await expect(recovery.deleteRestored(DR, RUN)).resolves.toEqual({ deleted: false });
  });

  it('deletes its own cluster’s instances, then the cluster after a final snapshot', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'phoenix-ledger-dr',
          Status: 'available',
          TagList: ourTags,
          DBClusterMembers: [
            { DBInstanceIdentifier: 'phoenix-ledger-dr-reader', IsClusterWriter: false },
            { DBInstanceIdentifier: 'phoenix-ledger-dr-writer', IsClusterWriter: true },
          ],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'phoenix-ledger-dr-writer' }).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'phoenix-ledger-dr-writer', DBInstanceStatus: 'available', TagList: ourTags },
      ],
    });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'phoenix-ledger-dr-reader' }).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'phoenix-ledger-dr-reader', DBInstanceStatus: 'deleting', TagList: ourTags },
      ],
    });
    rds.on(DeleteDBInstanceCommand).resolves({});
    rds.on(DeleteDBClusterCommand).resolves({});

    await expect(recovery.deleteRestored(LEDGER_DR, RUN)).resolves.toEqual({
      deleted: true,
      finalSnapshot: 'phoenix-ledger-dr-final-dr-20261105t031000z-a1b2c3',
    });
    expect(rds.commandCalls(DeleteDBInstanceCommand).map((call) => call.args[0].input)).toEqual([
      { DBInstanceIdentifier: 'phoenix-ledger-dr-writer' },
    ]);
    expect(rds.commandCalls(DeleteDBClusterCommand).map((call) => call.args[0].input)).toEqual([
      {
        DBClusterIdentifier: 'phoenix-ledger-dr',
        SkipFinalSnapshot: false,
        FinalDBSnapshotIdentifier: 'phoenix-ledger-dr-final-dr-20261105t031000z-a1b2c3',
        DeleteAutomatedBackups: false,
      },
    ]);
  });

  it('keeps a cluster holding an instance that is not the run’s, and deletes none of it', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'phoenix-ledger-dr',
          Status: 'available',
          TagList: ourTags,
          DBClusterMembers: [{ DBInstanceIdentifier: 'someones-reader' }],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'someones-reader', DBInstanceStatus: 'available', TagList: [] }],
    });

    await expect(recovery.deleteRestored(LEDGER_DR, RUN)).resolves.toEqual({
      deleted: false,
      kept: 'its instance someones-reader is kept: it has no aor:recovery-run tag: no recovery run created it',
    });
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBClusterCommand);
  });

  it('maps a cluster RDS will not delete yet to the retryable DatabaseStateConflictError', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'available', TagList: ourTags }],
    });
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    rds
      .on(DeleteDBClusterCommand)
      .rejects(
        new InvalidDBClusterStateFault({ message: 'contains DB instances in non-deleting state', $metadata }),
      );

    await expect(recovery.deleteRestored(LEDGER_DR, RUN)).rejects.toThrow(DatabaseStateConflictError);
  });
});

describe('protectRecovered', () => {
  it('turns deletion protection on, marks it promoted by the run, then takes the run tag off', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance()] });
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(AddTagsToResourceCommand).resolves({});
    rds.on(RemoveTagsFromResourceCommand).resolves({});

    await expect(recovery.protectRecovered(DR, RUN)).resolves.toEqual({
      identifier: DR.identifier,
      deletionProtection: true,
      promotedBy: RUN,
    });
    expect(rds.calls().map((call) => [call.args[0].constructor.name, call.args[0].input])).toEqual([
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: DR.identifier }],
      ['ModifyDBInstanceCommand', { DBInstanceIdentifier: DR.identifier, DeletionProtection: true }],
      [
        'AddTagsToResourceCommand',
        { ResourceName: rdsArn(`db:${DR.identifier}`), Tags: [{ Key: PROMOTED_TAG, Value: RUN }] },
      ],
      ['RemoveTagsFromResourceCommand', { ResourceName: rdsArn(`db:${DR.identifier}`), TagKeys: [RUN_TAG] }],
    ]);
  });

  it('only finishes what a retry finds undone: a promoted standby already protected needs nothing', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        standby({
          ReadReplicaSourceDBInstanceIdentifier: undefined,
          TagList: [{ Key: PROMOTED_TAG, Value: RUN }],
        }),
      ],
    });

    await expect(recovery.protectRecovered(STANDBY, RUN)).resolves.toMatchObject({ promotedBy: RUN });
    expect(rds.calls()).toHaveLength(1);
  });

  it('refuses a database that is not the run’s, changing nothing', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [instance({ TagList: [{ Key: RUN_TAG, Value: 'DR-other' }] })],
    });

    await expect(recovery.protectRecovered(DR, RUN)).rejects.toThrow(
      `DB instance phoenix-rooivalk-dr is not recovery run ${RUN}'s: recovery run DR-other created it, not ${RUN}`,
    );
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
    rds.on(DescribeDBInstancesCommand).rejects(notFound);
    await expect(recovery.protectRecovered(DR, RUN)).rejects.toThrow(DatabaseNotFoundError);
  });
});
