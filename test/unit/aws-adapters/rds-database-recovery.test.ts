import {
  CreateDBInstanceCommand,
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
  InvalidDBSnapshotStateFault,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  StorageQuotaExceededFault,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  RdsThrottledError,
} from '../../../lambdas/adapters/aws/rds-database-operations';
import {
  InvalidRestoreRequestError,
  RdsDatabaseRecovery,
  RestoreCapacityError,
  RestoreTargetConflictError,
  SnapshotNotAvailableError,
  SnapshotNotFoundError,
} from '../../../lambdas/adapters/aws/rds-database-recovery';
import { InvalidBackupDateError } from '../../../lambdas/adapters/aws/s3-backup-catalog';
import type { DatabaseSnapshot, RestoreRequest } from '../../../lambdas/core/recovery/ports';

const RUN_TAG = 'aor:recovery-run';
const RUN = 'dr-20261105-0001';
const $metadata = {};
const rdsArn = (resource: string) => `arn:aws-us-gov:rds:us-gov-east-1:123456789012:${resource}`;

const rds = mockClient(RDSClient);
const recovery = new RdsDatabaseRecovery(new RDSClient({ region: 'us-gov-east-1' }), {
  managedTagKey: RUN_TAG,
});

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
    target: { kind: 'instance', identifier: 'phoenix-rooivalk-dr' },
    instanceClass: 'db.r5.xlarge',
    subnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
    securityGroupIds: ['sg-0dr0database0001'],
    tags,
  };
}

const clusterRequest: RestoreRequest = {
  snapshot: ledgerSnapshot,
  target: { kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' },
  instanceClass: 'db.r6g.large',
  subnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
  securityGroupIds: ['sg-0dr0database0001', 'sg-0dr0monitoring01'],
  tags: { [RUN_TAG]: RUN },
};

const ourTags = [{ Key: RUN_TAG, Value: RUN }];

beforeEach(() => {
  rds.reset();
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

  it('resumes its own restore when a retry finds the instance already there with the same run tag', async () => {
    rds
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ message: 'DB instance already exists', $metadata }));
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'phoenix-rooivalk-dr' }).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'phoenix-rooivalk-dr',
          DBInstanceStatus: 'available',
          Endpoint: { Address: 'phoenix-rooivalk-dr.c1.us-gov-east-1.rds.amazonaws.com', Port: 5432 },
          TagList: ourTags,
        },
      ],
    });

    await expect(recovery.startRestore(instanceRequest())).resolves.toEqual({
      identifier: 'phoenix-rooivalk-dr',
      status: 'available',
      available: true,
      failed: false,
      endpoint: 'phoenix-rooivalk-dr.c1.us-gov-east-1.rds.amazonaws.com',
    });
  });

  it.each([
    {
      owner: 'nobody',
      TagList: [{ Key: 'team', Value: 'platform' }],
      message: /not created by a recovery run/,
    },
    {
      owner: 'another run',
      TagList: [{ Key: RUN_TAG, Value: 'dr-20261001-0003' }],
      message: /dr-20261001-0003/,
    },
  ])('refuses an existing instance created by $owner', async ({ TagList, message }) => {
    rds
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ message: 'DB instance already exists', $metadata }));
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'phoenix-rooivalk-dr', DBInstanceStatus: 'available', TagList }],
    });

    const failure = await recovery.startRestore(instanceRequest()).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(RestoreTargetConflictError);
    expect(failure).toMatchObject({ name: 'RestoreTargetConflictError', message });
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

  it('after a lost response, resumes its own cluster and creates the writer that is still missing', async () => {
    rds
      .on(RestoreDBClusterFromSnapshotCommand)
      .rejects(new DBClusterAlreadyExistsFault({ message: 'exists', $metadata }));
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'available', TagList: ourTags }],
    });
    rds.on(CreateDBInstanceCommand).resolves({
      DBInstance: { DBInstanceIdentifier: 'phoenix-ledger-dr-writer', DBInstanceStatus: 'creating' },
    });

    const status = await recovery.startRestore(clusterRequest);

    expect(status).toMatchObject({ status: 'creating', available: false, failed: false });
    expect(rds).toHaveReceivedCommandWith(DescribeDBClustersCommand, {
      DBClusterIdentifier: 'phoenix-ledger-dr',
    });
    expect(rds).toHaveReceivedCommandTimes(CreateDBInstanceCommand, 1);
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
    });
  });

  it('refuses an existing cluster without the run tag and creates no instance in it', async () => {
    rds
      .on(RestoreDBClusterFromSnapshotCommand)
      .rejects(new DBClusterAlreadyExistsFault({ message: 'exists', $metadata }));
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'available', TagList: [] }],
    });

    await expect(recovery.startRestore(clusterRequest)).rejects.toThrow(RestoreTargetConflictError);
    expect(rds).not.toHaveReceivedCommand(CreateDBInstanceCommand);
  });

  it('reports a snapshot missing from the source cluster listing as SnapshotNotFoundError', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });

    await expect(recovery.startRestore(clusterRequest)).rejects.toThrow(SnapshotNotFoundError);
    expect(rds).not.toHaveReceivedCommand(RestoreDBClusterFromSnapshotCommand);
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

      await expect(
        recovery.restoreStatus({ kind: 'instance', identifier: 'phoenix-rooivalk-dr' }),
      ).resolves.toEqual({
        identifier: 'phoenix-rooivalk-dr',
        status,
        available,
        failed,
        endpoint: undefined,
      });
      expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
        DBInstanceIdentifier: 'phoenix-rooivalk-dr',
      });
    },
  );

  it('is undefined for a database that does not exist', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'not found', $metadata }));
    rds
      .on(DescribeDBClustersCommand)
      .rejects(new DBClusterNotFoundFault({ message: 'not found', $metadata }));

    await expect(
      recovery.restoreStatus({ kind: 'instance', identifier: 'phoenix-rooivalk-dr' }),
    ).resolves.toBeUndefined();
    await expect(
      recovery.restoreStatus({ kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' }),
    ).resolves.toBeUndefined();
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
        rds
          .on(DescribeDBInstancesCommand)
          .rejects(new DBInstanceNotFoundFault({ message: 'not found', $metadata }));
      }

      await expect(
        recovery.restoreStatus({ kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' }),
      ).resolves.toEqual({
        identifier: 'phoenix-ledger-dr',
        endpoint: 'writer.example',
        ...expected,
      });
      expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
        DBInstanceIdentifier: 'phoenix-ledger-dr-writer',
      });
    },
  );
});

describe('deleteRestored of a DB instance', () => {
  it('deletes a tagged instance without a final snapshot and with its automated backups', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'phoenix-rooivalk-dr', DBInstanceStatus: 'available', TagList: ourTags },
      ],
    });
    rds.on(DeleteDBInstanceCommand).resolves({});

    await expect(
      recovery.deleteRestored({ kind: 'instance', identifier: 'phoenix-rooivalk-dr' }),
    ).resolves.toEqual({
      deleted: true,
    });
    expect(rds.commandCalls(DeleteDBInstanceCommand).map((call) => call.args[0].input)).toEqual([
      { DBInstanceIdentifier: 'phoenix-rooivalk-dr', SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
    ]);
  });

  it('refuses to delete an instance without the managed tag key', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'phoenix-rooivalk-dr',
          DBInstanceStatus: 'available',
          TagList: [{ Key: 'aor:recovery', Value: RUN }],
        },
      ],
    });

    await expect(
      recovery.deleteRestored({ kind: 'instance', identifier: 'phoenix-rooivalk-dr' }),
    ).rejects.toThrow(RestoreTargetConflictError);
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('reports an absent instance as not deleted, whether absent before or during the delete', async () => {
    const notFound = new DBInstanceNotFoundFault({ message: 'not found', $metadata });
    rds.on(DescribeDBInstancesCommand).rejectsOnce(notFound);

    await expect(
      recovery.deleteRestored({ kind: 'instance', identifier: 'phoenix-rooivalk-dr' }),
    ).resolves.toEqual({
      deleted: false,
    });
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);

    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'phoenix-rooivalk-dr', DBInstanceStatus: 'available', TagList: ourTags },
      ],
    });
    rds.on(DeleteDBInstanceCommand).rejects(notFound);
    await expect(
      recovery.deleteRestored({ kind: 'instance', identifier: 'phoenix-rooivalk-dr' }),
    ).resolves.toEqual({
      deleted: false,
    });
  });

  it('does not delete again an instance already being deleted', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'phoenix-rooivalk-dr', DBInstanceStatus: 'deleting', TagList: ourTags },
      ],
    });

    await expect(
      recovery.deleteRestored({ kind: 'instance', identifier: 'phoenix-rooivalk-dr' }),
    ).resolves.toEqual({
      deleted: true,
    });
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });
});

describe('deleteRestored of an Aurora cluster', () => {
  it('deletes its instances not yet deleting, then the cluster without a final snapshot', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'available', TagList: ourTags }],
    });
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'phoenix-ledger-dr-writer', DBInstanceStatus: 'available' },
        { DBInstanceIdentifier: 'phoenix-ledger-dr-reader', DBInstanceStatus: 'deleting' },
      ],
    });
    rds.on(DeleteDBInstanceCommand).resolves({});
    rds.on(DeleteDBClusterCommand).resolves({});

    await expect(
      recovery.deleteRestored({ kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' }),
    ).resolves.toEqual({ deleted: true });
    expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
      Filters: [{ Name: 'db-cluster-id', Values: ['phoenix-ledger-dr'] }],
    });
    expect(rds.commandCalls(DeleteDBInstanceCommand).map((call) => call.args[0].input)).toEqual([
      { DBInstanceIdentifier: 'phoenix-ledger-dr-writer' },
    ]);
    expect(rds.commandCalls(DeleteDBClusterCommand).map((call) => call.args[0].input)).toEqual([
      { DBClusterIdentifier: 'phoenix-ledger-dr', SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
    ]);
  });

  it('refuses an untagged cluster and touches none of its instances', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'available' }],
    });

    await expect(
      recovery.deleteRestored({ kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' }),
    ).rejects.toThrow(RestoreTargetConflictError);
    expect(rds).not.toHaveReceivedCommand(DescribeDBInstancesCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBClusterCommand);
  });

  it('maps a cluster RDS will not delete yet to the retryable DatabaseStateConflictError', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'phoenix-ledger-dr', Status: 'available', TagList: ourTags }],
    });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    rds
      .on(DeleteDBClusterCommand)
      .rejects(
        new InvalidDBClusterStateFault({ message: 'contains DB instances in non-deleting state', $metadata }),
      );

    await expect(
      recovery.deleteRestored({ kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' }),
    ).rejects.toThrow(DatabaseStateConflictError);
  });

  it('reports an absent cluster as not deleted', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });

    await expect(
      recovery.deleteRestored({ kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr' }),
    ).resolves.toEqual({ deleted: false });
    expect(rds).not.toHaveReceivedCommand(DeleteDBClusterCommand);
  });
});

describe('errors the workflow matches', () => {
  it('reports the cluster vanishing before its writer is created as DatabaseNotFoundError', async () => {
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({ DBCluster: { Status: 'creating' } });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [{ DBClusterSnapshotArn: ledgerSnapshot.arn, Engine: 'aurora-postgresql' }],
    });
    rds
      .on(CreateDBInstanceCommand)
      .rejects(new DBClusterNotFoundFault({ message: 'cluster gone', $metadata }));

    await expect(recovery.startRestore(clusterRequest)).rejects.toThrow(DatabaseNotFoundError);
  });
});
