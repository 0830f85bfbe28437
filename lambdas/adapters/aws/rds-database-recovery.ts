import {
  CreateDBInstanceCommand,
  type DBCluster,
  type DBClusterSnapshot,
  type DBInstance,
  type DBSnapshot,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type Tag,
} from '@aws-sdk/client-rds';
import type { DatabaseRef } from '../../core/operations/ports';
import type {
  DatabaseRecovery,
  DatabaseSnapshot,
  RestoreRequest,
  RestoreStatus,
} from '../../core/recovery/ports';
import { awsErrorMessage, hasAwsErrorName, isThrottling, translatingErrors } from './aws-errors';
import {
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  RdsThrottledError,
} from './rds-database-operations';
import { assertBackupDay } from './s3-backup-catalog';

/** The snapshot a restore names is gone (deleted, or an automated one past its retention). */
export class SnapshotNotFoundError extends Error {
  override name = 'SnapshotNotFoundError';
}

/** The snapshot exists but cannot be restored yet, typically because its copy into this region still runs. */
export class SnapshotNotAvailableError extends Error {
  override name = 'SnapshotNotAvailableError';
}

/**
 * The database to restore into, or to delete, is not one this recovery run owns: it exists without the
 * run's tag, or carries another run's. It is never taken over or deleted.
 */
export class RestoreTargetConflictError extends Error {
  override name = 'RestoreTargetConflictError';
}

/** RDS lacks the quota or capacity for the restore (instances, storage, or the instance class in the AZs). */
export class RestoreCapacityError extends Error {
  override name = 'RestoreCapacityError';
}

/** The restore request lacks the managed tag, without which compensation could not delete what it creates. */
export class InvalidRestoreRequestError extends Error {
  override name = 'InvalidRestoreRequestError';
}

export interface RdsDatabaseRecoveryOptions {
  /** Tag key whose value names the recovery run that created a database, e.g. `aor:recovery-run`. */
  readonly managedTagKey: string;
}

/** Wire codes (`DBInstanceNotFound`) and the SDK's exception names (`DBInstanceNotFoundFault`) alike. */
const DATABASE_NOT_FOUND = ['DBInstanceNotFound', 'DBInstanceNotFoundFault', 'DBClusterNotFoundFault'];
const ALREADY_EXISTS = [
  'DBInstanceAlreadyExists',
  'DBInstanceAlreadyExistsFault',
  'DBClusterAlreadyExistsFault',
];
const SNAPSHOT_NOT_FOUND = [
  'DBSnapshotNotFound',
  'DBSnapshotNotFoundFault',
  'DBClusterSnapshotNotFoundFault',
];
const SNAPSHOT_NOT_AVAILABLE = [
  'InvalidDBSnapshotState',
  'InvalidDBSnapshotStateFault',
  'InvalidDBClusterSnapshotStateFault',
];
const STATE_CONFLICT = [
  'InvalidDBInstanceState',
  'InvalidDBInstanceStateFault',
  'InvalidDBClusterStateFault',
];
const NO_CAPACITY = [
  'InstanceQuotaExceeded',
  'InstanceQuotaExceededFault',
  'StorageQuotaExceeded',
  'StorageQuotaExceededFault',
  'InsufficientDBInstanceCapacity',
  'InsufficientDBInstanceCapacityFault',
  'DBClusterQuotaExceededFault',
  'InsufficientDBClusterCapacityFault',
  'InsufficientStorageClusterCapacity',
  'InsufficientStorageClusterCapacityFault',
];

/** Statuses that no waiting cures: the restore has to be deleted and redone, or repaired by hand. */
const FAILED_STATUSES: ReadonlySet<string> = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'storage-full',
  'inaccessible-encryption-credentials',
]);

function translateRecoveryError(subject: string): (error: unknown) => unknown {
  return (error) => {
    const options = { cause: error };
    const reason = `${subject}: ${awsErrorMessage(error)}`;
    if (isThrottling(error)) return new RdsThrottledError(`RDS throttled a request for ${reason}`, options);
    if (hasAwsErrorName(error, DATABASE_NOT_FOUND)) return new DatabaseNotFoundError(reason, options);
    if (hasAwsErrorName(error, SNAPSHOT_NOT_FOUND)) return new SnapshotNotFoundError(reason, options);
    if (hasAwsErrorName(error, SNAPSHOT_NOT_AVAILABLE)) return new SnapshotNotAvailableError(reason, options);
    if (hasAwsErrorName(error, STATE_CONFLICT)) return new DatabaseStateConflictError(reason, options);
    if (hasAwsErrorName(error, NO_CAPACITY)) return new RestoreCapacityError(reason, options);
    return error;
  };
}

/** The one instance created in a restored Aurora cluster; a fixed name lets a retried restore find it. */
function writerIdentifier(clusterIdentifier: string): string {
  return `${clusterIdentifier}-writer`;
}

function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}

function statusOf(identifier: string, status: string, available: boolean, endpoint?: string): RestoreStatus {
  return { identifier, status, available, failed: FAILED_STATUSES.has(status), endpoint };
}

function instanceRestoreStatus(identifier: string, instance: DBInstance | undefined): RestoreStatus {
  const status = instance?.DBInstanceStatus ?? 'unknown';
  return statusOf(identifier, status, status === 'available', instance?.Endpoint?.Address);
}

/**
 * A restored cluster serves connections only once its writer instance is available too. The status shown is
 * the one holding the restore back: a failed one first, else whichever is not yet available.
 */
function clusterRestoreStatus(
  identifier: string,
  cluster: DBCluster | undefined,
  writer: DBInstance | undefined,
): RestoreStatus {
  const clusterStatus = cluster?.Status ?? 'unknown';
  const statuses = [clusterStatus, writer?.DBInstanceStatus].filter((status) => status !== undefined);
  const status =
    statuses.find((each) => FAILED_STATUSES.has(each)) ??
    statuses.find((each) => each !== 'available') ??
    clusterStatus;
  const available = clusterStatus === 'available' && writer?.DBInstanceStatus === 'available';
  return statusOf(identifier, status, available, cluster?.Endpoint);
}

function fromInstanceSnapshot(snapshot: DBSnapshot): DatabaseSnapshot[] {
  const { DBSnapshotIdentifier, DBSnapshotArn, SnapshotCreateTime, DBInstanceIdentifier, Status } = snapshot;
  if (!DBSnapshotIdentifier || !DBSnapshotArn || !SnapshotCreateTime || !DBInstanceIdentifier || !Status)
    return [];
  return [
    {
      identifier: DBSnapshotIdentifier,
      arn: DBSnapshotArn,
      createdAt: SnapshotCreateTime.toISOString(),
      sourceDatabase: DBInstanceIdentifier,
      status: Status,
    },
  ];
}

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
 * Restores the platform's databases from snapshots in the DR region, and deletes what a recovery run
 * restored when the run is compensated. Everything it creates carries the run's tag (`managedTagKey`), and
 * that tag is what lets a retried restore resume its own database and compensation delete only its own.
 *
 * Snapshots are found by the source database's identifier. In the DR region they are copies (copied
 * snapshots, or backups replicated across regions): a copy keeps the source's `DBInstanceIdentifier` (or
 * `DBClusterIdentifier`), and RDS lists it under that name although no such database exists in the region.
 */
export class RdsDatabaseRecovery implements DatabaseRecovery {
  private readonly managedTagKey: string;

  constructor(
    private readonly rds: RDSClient,
    options: RdsDatabaseRecoveryOptions,
  ) {
    this.managedTagKey = options.managedTagKey;
  }

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
    const runTag = request.tags[this.managedTagKey];
    if (runTag === undefined) {
      throw new InvalidRestoreRequestError(
        `restore of ${request.target.identifier} lacks the ${this.managedTagKey} tag, so compensation could not delete it`,
      );
    }
    return request.target.kind === 'instance'
      ? this.restoreInstance(request, runTag)
      : this.restoreCluster(request, runTag);
  }

  async restoreStatus(target: DatabaseRef): Promise<RestoreStatus | undefined> {
    if (target.kind === 'instance') {
      const instance = await this.describeInstance(target.identifier);
      return instance && instanceRestoreStatus(target.identifier, instance);
    }
    const cluster = await this.describeCluster(target.identifier);
    if (!cluster) return undefined;
    return clusterRestoreStatus(
      target.identifier,
      cluster,
      await this.describeInstance(writerIdentifier(target.identifier)),
    );
  }

  async deleteRestored(target: DatabaseRef): Promise<{ deleted: boolean }> {
    return target.kind === 'instance'
      ? this.deleteInstance(target.identifier)
      : this.deleteCluster(target.identifier);
  }

  private async restoreInstance(request: RestoreRequest, runTag: string): Promise<RestoreStatus> {
    const { target, snapshot } = request;
    const instance = await this.createOrResume(
      `DB instance ${target.identifier}`,
      runTag,
      async () => {
        const result = await this.rds.send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier: target.identifier,
            // RDS takes the ARN for any snapshot and requires it for one shared from another account.
            DBSnapshotIdentifier: snapshot.arn,
            DBInstanceClass: request.instanceClass,
            DBSubnetGroupName: request.subnetGroupName,
            VpcSecurityGroupIds: [...request.securityGroupIds],
            PubliclyAccessible: false,
            CopyTagsToSnapshot: true,
            // Compensation must be able to delete what the run restored.
            DeletionProtection: false,
            Tags: awsTags(request.tags),
          }),
        );
        return result.DBInstance;
      },
      () => this.describeInstance(target.identifier),
    );
    return instanceRestoreStatus(target.identifier, instance);
  }

  /** Aurora restores the cluster's storage only; it takes an instance in the cluster to serve it. */
  private async restoreCluster(request: RestoreRequest, runTag: string): Promise<RestoreStatus> {
    const { target, snapshot } = request;
    const source = await this.clusterSnapshotOf(snapshot);
    const cluster = await this.createOrResume(
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
      () => this.describeCluster(target.identifier),
    );
    const writerId = writerIdentifier(target.identifier);
    const writer = await this.createOrResume(
      `DB instance ${writerId}`,
      runTag,
      async () => {
        const result = await this.rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: writerId,
            DBClusterIdentifier: target.identifier,
            Engine: source.engine,
            DBInstanceClass: request.instanceClass,
            PubliclyAccessible: false,
            Tags: awsTags(request.tags),
          }),
        );
        return result.DBInstance;
      },
      () => this.describeInstance(writerId),
    );
    return clusterRestoreStatus(target.identifier, cluster, writer);
  }

  /**
   * Creates a database; when it already exists, returns it if this run created it (Step Functions retrying
   * after a lost response) and refuses it otherwise.
   */
  private async createOrResume<T extends { TagList?: Tag[] }>(
    subject: string,
    runTag: string,
    create: () => Promise<T | undefined>,
    describeExisting: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    try {
      return await create();
    } catch (error) {
      if (!hasAwsErrorName(error, ALREADY_EXISTS)) throw translateRecoveryError(subject)(error);
    }
    const existing = await describeExisting();
    if (!existing) {
      throw new DatabaseStateConflictError(`${subject} was reported to exist, then was not found; try again`);
    }
    const owner = tagValue(existing.TagList, this.managedTagKey);
    if (owner !== runTag) {
      throw new RestoreTargetConflictError(
        owner === undefined
          ? `${subject} already exists and was not created by a recovery run`
          : `${subject} already exists, created by recovery run ${owner}`,
      );
    }
    return existing;
  }

  private async deleteInstance(identifier: string): Promise<{ deleted: boolean }> {
    const subject = `DB instance ${identifier}`;
    const instance = await this.describeInstance(identifier);
    if (!instance) return { deleted: false };
    this.assertManaged(subject, instance.TagList);
    if (instance.DBInstanceStatus === 'deleting') return { deleted: true };
    return this.sendDelete(subject, () =>
      this.rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: identifier,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      ),
    );
  }

  /** An Aurora cluster is deleted once none of its instances remains in any state but `deleting`. */
  private async deleteCluster(identifier: string): Promise<{ deleted: boolean }> {
    const subject = `DB cluster ${identifier}`;
    const cluster = await this.describeCluster(identifier);
    if (!cluster) return { deleted: false };
    this.assertManaged(subject, cluster.TagList);
    if (cluster.Status === 'deleting') return { deleted: true };
    const instances = await this.clusterInstances(identifier);
    const remaining = instances.flatMap(({ DBInstanceIdentifier: instanceId, DBInstanceStatus: status }) =>
      instanceId && status !== 'deleting' ? [instanceId] : [],
    );
    await Promise.all(
      remaining.map((instanceId) =>
        this.sendDelete(`DB instance ${instanceId}`, () =>
          this.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
        ),
      ),
    );
    return this.sendDelete(subject, () =>
      this.rds.send(
        new DeleteDBClusterCommand({
          DBClusterIdentifier: identifier,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      ),
    );
  }

  /** The port's delete has no tags to check against: only a database with the managed tag is ever deleted. */
  private assertManaged(subject: string, tags: readonly Tag[] | undefined): void {
    if (tagValue(tags, this.managedTagKey) === undefined) {
      throw new RestoreTargetConflictError(
        `${subject} has no ${this.managedTagKey} tag: it was not restored by a recovery run and is not deleted`,
      );
    }
  }

  private async sendDelete(subject: string, request: () => Promise<unknown>): Promise<{ deleted: boolean }> {
    try {
      await translatingErrors(request, translateRecoveryError(subject));
      return { deleted: true };
    } catch (error) {
      if (error instanceof DatabaseNotFoundError) return { deleted: false };
      throw error;
    }
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
        translateRecoveryError(`snapshots of DB instance ${identifier}`),
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
        translateRecoveryError(`snapshots of DB cluster ${identifier}`),
      );
      return { items: page.DBClusterSnapshots, marker: page.Marker };
    });
  }

  /** An Aurora cluster has at most 16 instances: they fit the first page of 100. */
  private async clusterInstances(identifier: string): Promise<DBInstance[]> {
    const result = await translatingErrors(
      () =>
        this.rds.send(
          new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: [identifier] }] }),
        ),
      translateRecoveryError(`instances of DB cluster ${identifier}`),
    );
    return result.DBInstances ?? [];
  }

  private async describeInstance(identifier: string): Promise<DBInstance | undefined> {
    return this.describeOrUndefined(`DB instance ${identifier}`, async () => {
      const result = await this.rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }),
      );
      return result.DBInstances?.[0];
    });
  }

  private async describeCluster(identifier: string): Promise<DBCluster | undefined> {
    return this.describeOrUndefined(`DB cluster ${identifier}`, async () => {
      const result = await this.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
      return result.DBClusters?.[0];
    });
  }

  private async describeOrUndefined<T>(
    subject: string,
    describe: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    try {
      return await translatingErrors(describe, translateRecoveryError(subject));
    } catch (error) {
      if (error instanceof DatabaseNotFoundError) return undefined;
      throw error;
    }
  }
}

function awsTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
