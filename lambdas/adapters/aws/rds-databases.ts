import {
  type DBCluster,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import type { DatabaseRef } from '../../core/operations/ports';
import { RECOVERY_PROMOTED_TAG, type RestoreStatus } from '../../core/recovery/ports';
import { hasAwsErrorName, translatingErrors } from './aws-errors';
import {
  ALREADY_EXISTS,
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  translateRdsError,
} from './rds-errors';

/**
 * The DR site's databases as the recovery adapters read them: an instance, or an Aurora cluster
 * with its writer, described once into one shape (status, tags, replication, protection), and the
 * one rule by which a run creates a database or resumes its own.
 */

/**
 * The database to restore into, or to protect, is not one this recovery run owns: it exists without the
 * run's tag, or carries another run's. It is never taken over.
 */
export class RestoreTargetConflictError extends Error {
  override name = 'RestoreTargetConflictError';
}

/** A create request lacks the run tag, without which the run's clean-up could not delete what it creates. */
export class InvalidRestoreRequestError extends Error {
  override name = 'InvalidRestoreRequestError';
}

/** Statuses that no waiting cures: the database has to be deleted and redone, or repaired by hand. */
const FAILED_STATUSES: ReadonlySet<string> = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'storage-full',
  'inaccessible-encryption-credentials',
]);

export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}

/** The run tag a create request carries; refused without one, as the run's clean-up could not delete what it makes. */
export function requireRunTag(
  target: DatabaseRef,
  tags: Readonly<Record<string, string>>,
  runTagKey: string,
): string {
  const runTag = tags[runTagKey];
  if (runTag === undefined) {
    throw new InvalidRestoreRequestError(
      `creating ${target.identifier} without the ${runTagKey} tag: the run's clean-up could not delete it`,
    );
  }
  return runTag;
}

/**
 * What every instance a run creates is: private, its tags copied to its snapshots, and deletable
 * until the run succeeds (its clean-up must be able to delete it).
 */
export function runInstanceSettings(tags: Readonly<Record<string, string>>) {
  return {
    PubliclyAccessible: false,
    CopyTagsToSnapshot: true,
    DeletionProtection: false,
    Tags: awsTags(tags),
  };
}

/** A database's tag by key, however its tags are held. */
export type TagLookup = (key: string) => string | undefined;

/**
 * Why a run may not create (or take over) a database that exists: every case but its own run tag,
 * which is a retry resuming it.
 */
export function ownershipConflict(
  subject: string,
  tag: TagLookup,
  runTagKey: string,
  runTag: string,
): RestoreTargetConflictError | undefined {
  const owner = tag(runTagKey);
  if (owner === runTag) return undefined;
  const promotedBy = tag(RECOVERY_PROMOTED_TAG);
  return new RestoreTargetConflictError(
    promotedBy !== undefined
      ? `${subject} already exists: recovery run ${promotedBy} made it the site's database`
      : owner === undefined
        ? `${subject} already exists and was not created by a recovery run`
        : `${subject} already exists, created by recovery run ${owner}`,
  );
}

export function awsTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function noun(database: DatabaseRef): string {
  return database.kind === 'instance' ? 'DB instance' : 'DB cluster';
}

/** An instance, or an Aurora cluster seen through its writer, as one record. */
export interface DescribedDatabase {
  readonly ref: DatabaseRef;
  readonly arn: string | undefined;
  /** The status holding it back: a failed one first, else whichever of cluster and writer is not yet available. */
  readonly status: string;
  readonly available: boolean;
  readonly failed: boolean;
  readonly endpoint: string | undefined;
  readonly tags: readonly Tag[];
  /** Its replication source while it is a read replica (instance) or replica cluster (Aurora). */
  readonly replicaOf: string | undefined;
  /** RDS's `read replication` status info: `replicating`, `error`, `stopped`, `terminated`, … */
  readonly replication: string | undefined;
  readonly deletionProtection: boolean;
  readonly backupRetentionPeriod: number | undefined;
  /** Aurora: its instances (the writer first when known); an instance: none. */
  readonly members: readonly string[];
}

/** The ARN to tag a described database by; RDS always returns it, so its absence is a passing fault. */
export function arnOf(database: Pick<DescribedDatabase, 'arn' | 'ref'>): string {
  if (database.arn === undefined) {
    throw new DatabaseStateConflictError(
      `${noun(database.ref)} ${database.ref.identifier} was described without its ARN; try again`,
    );
  }
  return database.arn;
}

/** The one instance created in a restored Aurora cluster; a fixed name lets a retried restore find it. */
export function writerIdentifier(clusterIdentifier: string): string {
  return `${clusterIdentifier}-writer`;
}

function replicationStatus(infos: readonly { StatusType?: string; Status?: string }[] | undefined) {
  return infos?.find((info) => info.StatusType === 'read replication')?.Status;
}

export function describedInstance(ref: DatabaseRef, instance: DBInstance): DescribedDatabase {
  const status = instance.DBInstanceStatus ?? 'unknown';
  return {
    ref,
    arn: instance.DBInstanceArn,
    status,
    available: status === 'available',
    failed: FAILED_STATUSES.has(status),
    endpoint: instance.Endpoint?.Address,
    tags: instance.TagList ?? [],
    replicaOf:
      instance.ReadReplicaSourceDBInstanceIdentifier ?? instance.ReadReplicaSourceDBClusterIdentifier,
    replication: replicationStatus(instance.StatusInfos),
    deletionProtection: instance.DeletionProtection === true,
    backupRetentionPeriod: instance.BackupRetentionPeriod,
    members: [],
  };
}

/**
 * A cluster serves connections only once its writer instance is available too: a restored one has
 * none until AOR creates it, so its status is the writer's while the cluster's own reads `available`.
 */
export function describedCluster(
  ref: DatabaseRef,
  cluster: DBCluster,
  writer: DBInstance | undefined,
): DescribedDatabase {
  const clusterStatus = cluster.Status ?? 'unknown';
  const statuses = [clusterStatus, writer?.DBInstanceStatus].filter((status) => status !== undefined);
  const status =
    statuses.find((each) => FAILED_STATUSES.has(each)) ??
    statuses.find((each) => each !== 'available') ??
    clusterStatus;
  const members = (cluster.DBClusterMembers ?? [])
    .toSorted((a, b) => Number(b.IsClusterWriter === true) - Number(a.IsClusterWriter === true))
    .flatMap((member) => (member.DBInstanceIdentifier ? [member.DBInstanceIdentifier] : []));
  return {
    ref,
    arn: cluster.DBClusterArn,
    status,
    available: clusterStatus === 'available' && writer?.DBInstanceStatus === 'available',
    failed: FAILED_STATUSES.has(status),
    endpoint: cluster.Endpoint,
    tags: cluster.TagList ?? [],
    replicaOf: cluster.ReplicationSourceIdentifier,
    replication: replicationStatus(cluster.StatusInfos),
    deletionProtection: cluster.DeletionProtection === true,
    backupRetentionPeriod: cluster.BackupRetentionPeriod,
    members,
  };
}

export function restoreStatusOf(database: DescribedDatabase, runTagKey: string): RestoreStatus {
  const runTag = tagValue(database.tags, runTagKey);
  const promotedBy = tagValue(database.tags, RECOVERY_PROMOTED_TAG);
  return {
    identifier: database.ref.identifier,
    status: database.status,
    available: database.available,
    failed: database.failed,
    endpoint: database.endpoint,
    ...(runTag === undefined ? {} : { runTag }),
    ...(promotedBy === undefined ? {} : { promotedBy }),
    ...(database.replicaOf === undefined ? {} : { replicaOf: database.replicaOf }),
    deletionProtection: database.deletionProtection,
  };
}

export class RdsDatabases {
  constructor(
    private readonly rds: RDSClient,
    /** Tag key whose value names the recovery run that created a database, e.g. `aor:recovery-run`. */
    readonly runTagKey: string,
  ) {}

  async describe(ref: DatabaseRef): Promise<DescribedDatabase | undefined> {
    if (ref.kind === 'instance') {
      const instance = await this.instance(ref.identifier);
      return instance && describedInstance(ref, instance);
    }
    const cluster = await this.cluster(ref.identifier);
    if (!cluster) return undefined;
    const writer =
      cluster.DBClusterMembers?.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier ??
      writerIdentifier(ref.identifier);
    return describedCluster(ref, cluster, await this.instance(writer));
  }

  async status(ref: DatabaseRef): Promise<RestoreStatus | undefined> {
    const database = await this.describe(ref);
    return database && restoreStatusOf(database, this.runTagKey);
  }

  /** The run tag a create request carries; refused without one, before anything is sent. */
  runTagOf(target: DatabaseRef, tags: Readonly<Record<string, string>>): string {
    return requireRunTag(target, tags, this.runTagKey);
  }

  /** Like `describe`, for a database that must exist. */
  async require(ref: DatabaseRef): Promise<DescribedDatabase> {
    const database = await this.describe(ref);
    if (!database) throw new DatabaseNotFoundError(`${noun(ref)} ${ref.identifier} not found`);
    return database;
  }

  /**
   * Refuses, before anything is created, a target that exists without this run's tag; returns the
   * run's own (a retry resuming it) and undefined when there is none.
   */
  async ownExisting(ref: DatabaseRef, runTag: string): Promise<DescribedDatabase | undefined> {
    const existing = await this.describe(ref);
    if (existing) this.assertOwn(`${noun(ref)} ${ref.identifier}`, existing.tags, runTag);
    return existing;
  }

  /** Creates an instance for the run, or resumes the run's own: refused if another's, before `create` is sent. */
  async createInstance(
    target: DatabaseRef,
    runTag: string,
    create: () => Promise<DBInstance | undefined>,
  ): Promise<RestoreStatus> {
    const existing = await this.ownExisting(target, runTag);
    if (existing) return restoreStatusOf(existing, this.runTagKey);
    const instance = await this.createOrResume(`DB instance ${target.identifier}`, runTag, create, () =>
      this.instance(target.identifier),
    );
    return restoreStatusOf(describedInstance(target, instance ?? {}), this.runTagKey);
  }

  /**
   * Creates a database; when it exists already (created between the check and the create, or by a
   * retried create whose answer was lost), returns it if it carries this run's tag and refuses it otherwise.
   */
  async createOrResume<T extends { TagList?: Tag[] }>(
    subject: string,
    runTag: string,
    create: () => Promise<T | undefined>,
    describeExisting: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    try {
      return await create();
    } catch (error) {
      if (!hasAwsErrorName(error, ALREADY_EXISTS)) throw translateRdsError(subject)(error);
    }
    const existing = await describeExisting();
    if (!existing) {
      throw new DatabaseStateConflictError(`${subject} was reported to exist, then was not found; try again`);
    }
    this.assertOwn(subject, existing.TagList, runTag);
    return existing;
  }

  instance(identifier: string): Promise<DBInstance | undefined> {
    return this.orUndefined(`DB instance ${identifier}`, async () => {
      const result = await this.rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }),
      );
      return result.DBInstances?.[0];
    });
  }

  cluster(identifier: string): Promise<DBCluster | undefined> {
    return this.orUndefined(`DB cluster ${identifier}`, async () => {
      const result = await this.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
      return result.DBClusters?.[0];
    });
  }

  private assertOwn(subject: string, tags: readonly Tag[] | undefined, runTag: string): void {
    const conflict = ownershipConflict(subject, (key) => tagValue(tags, key), this.runTagKey, runTag);
    if (conflict) throw conflict;
  }

  private async orUndefined<T>(
    subject: string,
    describe: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    try {
      return await translatingErrors(describe, translateRdsError(subject));
    } catch (error) {
      if (error instanceof DatabaseNotFoundError) return undefined;
      throw error;
    }
  }
}
