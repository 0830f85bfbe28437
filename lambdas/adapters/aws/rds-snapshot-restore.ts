import {
  CreateDBInstanceCommand,
  type DBClusterSnapshot,
  type DBSnapshot,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import type { DatabaseRef } from '../../core/operations/ports';
import type { DatabaseSnapshot, RestoreRequest, RestoreStatus } from '../../core/recovery/ports';
import { translatingErrors } from './aws-errors';
import {
  awsTags,
  describedCluster,
  type RdsDatabases,
  restoreStatusOf,
  runInstanceSettings,
  writerIdentifier,
} from './rds-databases';
import { SnapshotNotFoundError, translateRdsError } from './rds-errors';
import { assertBackupDay } from './s3-backup-catalog';

/**
 * The snapshot's recovery point: its newest transaction when RDS reports it, else when the original
 * was taken. In the DR region every snapshot is a copy, and a copy's `SnapshotCreateTime` is when
 * the copy was made, hours after the data it holds.
 */
function recoveryPoint(snapshot: DBSnapshot): Date | undefined {
  return snapshot.SnapshotDatabaseTime ?? snapshot.OriginalSnapshotCreateTime ?? snapshot.SnapshotCreateTime;
}

function fromInstanceSnapshot(snapshot: DBSnapshot): DatabaseSnapshot[] {
  const { DBSnapshotIdentifier, DBSnapshotArn, DBInstanceIdentifier, Status } = snapshot;
  const takenAt = recoveryPoint(snapshot);
  if (!DBSnapshotIdentifier || !DBSnapshotArn || !takenAt || !DBInstanceIdentifier || !Status) return [];
  return [
    {
      identifier: DBSnapshotIdentifier,
      arn: DBSnapshotArn,
      createdAt: takenAt.toISOString(),
      sourceDatabase: DBInstanceIdentifier,
      status: Status,
    },
  ];
}

/** A cluster snapshot has no original or database time to report: `SnapshotCreateTime` it is. */
function fromClusterSnapshot(snapshot: DBClusterSnapshot): DatabaseSnapshot[] {
  const {
    DBClusterSnapshotIdentifier,
    DBClusterSnapshotArn,
    SnapshotCreateTime,
    DBClusterIdentifier,
    Status,
  } = snapshot;
  if (
    !DBClusterSnapshotIdentifier ||
    !DBClusterSnapshotArn ||
    !SnapshotCreateTime ||
    !DBClusterIdentifier ||
    !Status
  )
    return [];
  return [
    {
      identifier: DBClusterSnapshotIdentifier,
      arn: DBClusterSnapshotArn,
      createdAt: SnapshotCreateTime.toISOString(),
      sourceDatabase: DBClusterIdentifier,
      status: Status,
    },
  ];
}

/** Follows RDS's `Marker` through every page of a listing. */
async function allPages<T>(
  fetchPage: (
    marker: string | undefined,
  ) => Promise<{ items: readonly T[] | undefined; marker: string | undefined }>,
): Promise<T[]> {
  const items: T[] = [];
  let marker: string | undefined;
  do {
    const page = await fetchPage(marker);
    items.push(...(page.items ?? []));
    marker = page.marker;
  } while (marker);
  return items;
}

/**
 * Snapshot mode: finds the platform's snapshots in the DR region and restores one into the target.
 *
 * Snapshots are found by the source database's identifier. In the DR region they are copies (copied
 * snapshots, or backups replicated across regions): a copy keeps the source's `DBInstanceIdentifier` (or
 * `DBClusterIdentifier`), and RDS lists it under that name although no such database exists in the region.
 */
export class RdsSnapshotRestore {
  constructor(
    private readonly rds: RDSClient,
    private readonly databases: RdsDatabases,
  ) {}

  async findSnapshot(query: {
    sourceDatabase: DatabaseRef;
    day?: string;
  }): Promise<DatabaseSnapshot | undefined> {
    const { sourceDatabase, day } = query;
    if (day !== undefined) assertBackupDay(day);
    const snapshots =
      sourceDatabase.kind === 'instance'
        ? (await this.instanceSnapshots(sourceDatabase.identifier)).flatMap(fromInstanceSnapshot)
        : (await this.clusterSnapshots(sourceDatabase.identifier)).flatMap(fromClusterSnapshot);
    // createdAt is ISO 8601 in UTC, so its first ten characters are the UTC day and text order is time order.
    return snapshots
      .filter((snapshot) => snapshot.status === 'available')
      .filter((snapshot) => day === undefined || snapshot.createdAt.startsWith(`${day}T`))
      .reduce<DatabaseSnapshot | undefined>(
        (newest, snapshot) => (newest && newest.createdAt >= snapshot.createdAt ? newest : snapshot),
        undefined,
      );
  }

  async startRestore(request: RestoreRequest): Promise<RestoreStatus> {
    const runTag = this.databases.runTagOf(request.target, request.tags);
    return request.target.kind === 'instance'
      ? this.restoreInstance(request, runTag)
      : this.restoreCluster(request, runTag);
  }

  private async restoreInstance(request: RestoreRequest, runTag: string): Promise<RestoreStatus> {
    const { target, snapshot } = request;
    return this.databases.createInstance(target, runTag, async () => {
      const result = await this.rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: target.identifier,
          // RDS takes the ARN for any snapshot and requires it for one shared from another account.
          DBSnapshotIdentifier: snapshot.arn,
          DBInstanceClass: request.instanceClass,
          DBSubnetGroupName: request.subnetGroupName,
          VpcSecurityGroupIds: [...request.securityGroupIds],
          ...runInstanceSettings(request.tags),
        }),
      );
      return result.DBInstance;
    });
  }

  /** Aurora restores the cluster's storage only; it takes an instance in the cluster to serve it. */
  private async restoreCluster(request: RestoreRequest, runTag: string): Promise<RestoreStatus> {
    const { target, snapshot } = request;
    const existing = await this.databases.ownExisting(target, runTag);
    const source = existing ? undefined : await this.clusterSnapshotOf(snapshot);
    const cluster = source
      ? await this.databases.createOrResume(
          `DB cluster ${target.identifier}`,
          runTag,
          async () => {
            const result = await this.rds.send(
              new RestoreDBClusterFromSnapshotCommand({
                DBClusterIdentifier: target.identifier,
                SnapshotIdentifier: snapshot.arn,
                // Without a version RDS takes the region's default for the engine, not the snapshot's.
                Engine: source.engine,
                EngineVersion: source.engineVersion,
                DBSubnetGroupName: request.subnetGroupName,
                VpcSecurityGroupIds: [...request.securityGroupIds],
                CopyTagsToSnapshot: true,
                DeletionProtection: false,
                Tags: awsTags(request.tags),
              }),
            );
            return result.DBCluster;
          },
          () => this.databases.cluster(target.identifier),
        )
      : await this.databases.cluster(target.identifier);
    const writerId = writerIdentifier(target.identifier);
    const engine = source?.engine ?? cluster?.Engine;
    const writer = await this.databases.createOrResume(
      `DB instance ${writerId}`,
      runTag,
      async () => {
        const result = await this.rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: writerId,
            DBClusterIdentifier: target.identifier,
            Engine: engine,
            DBInstanceClass: request.instanceClass,
            PubliclyAccessible: false,
            Tags: awsTags(request.tags),
          }),
        );
        return result.DBInstance;
      },
      () => this.databases.instance(writerId),
    );
    return restoreStatusOf(describedCluster(target, cluster ?? {}, writer), this.databases.runTagKey);
  }

  /** The engine to restore a cluster snapshot with, which the port's snapshot does not carry. */
  private async clusterSnapshotOf(
    snapshot: DatabaseSnapshot,
  ): Promise<{ engine: string; engineVersion: string | undefined }> {
    const found = (await this.clusterSnapshots(snapshot.sourceDatabase)).find(
      (each) => each.DBClusterSnapshotArn === snapshot.arn,
    );
    if (!found?.Engine) {
      throw new SnapshotNotFoundError(`no DB cluster snapshot ${snapshot.arn} of ${snapshot.sourceDatabase}`);
    }
    return { engine: found.Engine, engineVersion: found.EngineVersion };
  }

  /**
   * Automated and manual snapshots alike (RDS's default when no type is given); shared and public ones are
   * left out, as they are not the platform's backups.
   */
  private instanceSnapshots(identifier: string): Promise<DBSnapshot[]> {
    return allPages(async (marker) => {
      const page = await translatingErrors(
        () =>
          this.rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: identifier, Marker: marker })),
        translateRdsError(`snapshots of DB instance ${identifier}`),
      );
      return { items: page.DBSnapshots, marker: page.Marker };
    });
  }

  private clusterSnapshots(identifier: string): Promise<DBClusterSnapshot[]> {
    return allPages(async (marker) => {
      const page = await translatingErrors(
        () =>
          this.rds.send(
            new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: identifier, Marker: marker }),
          ),
        translateRdsError(`snapshots of DB cluster ${identifier}`),
      );
      return { items: page.DBClusterSnapshots, marker: page.Marker };
    });
  }
}
