import {
  AddTagsToResourceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import type { DatabaseRef } from '../../core/operations/ports';
import { type Deletion, type Protection, RECOVERY_PROMOTED_TAG } from '../../core/recovery/ports';
import { translatingErrors } from './aws-errors';
import {
  arnOf,
  awsTags,
  type DescribedDatabase,
  noun,
  type RdsDatabases,
  RestoreTargetConflictError,
  type TagLookup,
  tagValue,
} from './rds-databases';
import { DatabaseNotFoundError, SnapshotNotFoundError, translateRdsError } from './rds-errors';

/**
 * RDS deletes a database in these states only without a final snapshot. One still `creating` holds
 * nothing its source snapshot does not (RDS refuses a final snapshot of it until it is available).
 */
const NO_FINAL_SNAPSHOT_STATUSES: ReadonlySet<string> = new Set([
  'creating',
  'failed',
  'incompatible-restore',
  'incompatible-network',
]);

/** Between a database's identifier and the run's in its final snapshot's name; the IAM grant matches on it. */
export const FINAL_SNAPSHOT_INFIX = '-final-';

/**
 * The final snapshot a run's clean-up takes of a database: named after the database and the run,
 * in the letters, digits and single hyphens RDS allows.
 */
export function finalSnapshotName(identifier: string, runId: string): string {
  const run = runId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${identifier}${FINAL_SNAPSHOT_INFIX}${run}`.slice(0, 255).replace(/-$/, '');
}

/** Why a clean-up must keep this database; undefined when it is `runId`'s to delete. */
export function keptReason(
  tag: TagLookup,
  deletionProtection: boolean,
  runTagKey: string,
  runId: string,
): string | undefined {
  const runTag = tag(runTagKey);
  if (runTag === undefined) {
    const promotedBy = tag(RECOVERY_PROMOTED_TAG);
    return promotedBy === undefined
      ? `it has no ${runTagKey} tag: no recovery run created it`
      : `recovery run ${promotedBy} made it the site's database (${RECOVERY_PROMOTED_TAG})`;
  }
  if (runTag !== runId) return `recovery run ${runTag} created it, not ${runId}`;
  if (deletionProtection) return 'its deletion protection is on';
  return undefined;
}

/**
 * The final snapshot a delete of `runId`'s database takes; none for a read replica, or a database
 * RDS could not bring up, which RDS deletes only without one.
 */
export function finalSnapshotOf(
  database: { readonly ref: DatabaseRef; readonly replicaOf: string | undefined; readonly status: string },
  runId: string,
): string | undefined {
  return database.replicaOf === undefined && !NO_FINAL_SNAPSHOT_STATUSES.has(database.status)
    ? finalSnapshotName(database.ref.identifier, runId)
    : undefined;
}

/**
 * The end of what a run brought up: deleted by its own clean-up only (the tag read at the moment of
 * deleting, a final snapshot named after the run, automated backups retained for their retention
 * period), or, at a real run's success, protected and marked as the site's database for good.
 */
export class RdsRecoveredDatabases {
  constructor(
    private readonly rds: RDSClient,
    private readonly databases: RdsDatabases,
  ) {}

  async deleteRestored(target: DatabaseRef, runId: string): Promise<Deletion> {
    const database = await this.databases.describe(target);
    if (!database) return { deleted: false };
    const kept = keptReason(
      (key) => tagValue(database.tags, key),
      database.deletionProtection,
      this.databases.runTagKey,
      runId,
    );
    if (kept !== undefined) return { deleted: false, kept };
    if (database.status === 'deleting') {
      // An earlier attempt's delete: its final snapshot is there if RDS took one.
      const name = finalSnapshotName(target.identifier, runId);
      return { deleted: true, ...((await this.snapshotExists(target, name)) ? { finalSnapshot: name } : {}) };
    }
    const finalSnapshot = finalSnapshotOf(database, runId);
    if (target.kind === 'aurora-cluster') return this.deleteCluster(database, runId, finalSnapshot);
    const deleted = await this.sendDelete(`DB instance ${target.identifier}`, () =>
      this.rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: target.identifier,
          SkipFinalSnapshot: finalSnapshot === undefined,
          FinalDBSnapshotIdentifier: finalSnapshot,
          // Kept for the retention period the instance had: RDS's default would delete them now.
          DeleteAutomatedBackups: false,
        }),
      ),
    );
    return { deleted, ...(deleted && finalSnapshot !== undefined ? { finalSnapshot } : {}) };
  }

  async protectRecovered(target: DatabaseRef, runId: string): Promise<Protection> {
    const subject = `${noun(target)} ${target.identifier}`;
    const database = await this.databases.require(target);
    const runTag = tagValue(database.tags, this.databases.runTagKey);
    const promotedBy = tagValue(database.tags, RECOVERY_PROMOTED_TAG);
    if (runTag !== runId && promotedBy !== runId) {
      const why = keptReason((key) => tagValue(database.tags, key), false, this.databases.runTagKey, runId);
      throw new RestoreTargetConflictError(`${subject} is not recovery run ${runId}'s: ${why}`);
    }
    const arn = arnOf(database);
    const send = (request: () => Promise<unknown>) => translatingErrors(request, translateRdsError(subject));
    // Protected first, then marked, then the run tag off: a retry after any step finishes the rest.
    if (!database.deletionProtection) {
      await send(() =>
        target.kind === 'instance'
          ? this.rds.send(
              new ModifyDBInstanceCommand({
                DBInstanceIdentifier: target.identifier,
                DeletionProtection: true,
              }),
            )
          : this.rds.send(
              new ModifyDBClusterCommand({
                DBClusterIdentifier: target.identifier,
                DeletionProtection: true,
              }),
            ),
      );
    }
    if (promotedBy !== runId) {
      await send(() =>
        this.rds.send(
          new AddTagsToResourceCommand({
            ResourceName: arn,
            Tags: awsTags({ [RECOVERY_PROMOTED_TAG]: runId }),
          }),
        ),
      );
    }
    const tagged = [...(runTag === undefined ? [] : [arn]), ...(await this.taggedMembers(database))];
    for (const resource of tagged) {
      await send(() =>
        this.rds.send(
          new RemoveTagsFromResourceCommand({ ResourceName: resource, TagKeys: [this.databases.runTagKey] }),
        ),
      );
    }
    return { identifier: target.identifier, deletionProtection: true, promotedBy: runId };
  }

  /**
   * An Aurora cluster is deleted once none of its instances remains in any state but `deleting`;
   * each of them must be the run's too, read as the cluster's tag is.
   */
  private async deleteCluster(
    database: DescribedDatabase,
    runId: string,
    finalSnapshot: string | undefined,
  ): Promise<Deletion> {
    const identifier = database.ref.identifier;
    const members = await Promise.all(
      database.members.map(async (member) => ({ member, instance: await this.databases.instance(member) })),
    );
    for (const { member, instance } of members) {
      const kept =
        instance &&
        keptReason(
          (key) => tagValue(instance.TagList, key),
          instance.DeletionProtection === true,
          this.databases.runTagKey,
          runId,
        );
      if (kept) return { deleted: false, kept: `its instance ${member} is kept: ${kept}` };
    }
    for (const { member, instance } of members) {
      if (instance && instance.DBInstanceStatus !== 'deleting') {
        // An instance of a cluster takes no final snapshot of its own: the cluster's is the one.
        await this.sendDelete(`DB instance ${member}`, () =>
          this.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: member })),
        );
      }
    }
    const deleted = await this.sendDelete(`DB cluster ${identifier}`, () =>
      this.rds.send(
        new DeleteDBClusterCommand({
          DBClusterIdentifier: identifier,
          SkipFinalSnapshot: finalSnapshot === undefined,
          FinalDBSnapshotIdentifier: finalSnapshot,
          DeleteAutomatedBackups: false,
        }),
      ),
    );
    return { deleted, ...(deleted && finalSnapshot !== undefined ? { finalSnapshot } : {}) };
  }

  /** The ARNs of a cluster's instances that still carry a run tag; none for an instance. */
  private async taggedMembers(database: DescribedDatabase): Promise<string[]> {
    const arns: string[] = [];
    for (const member of database.members) {
      const instance = await this.databases.instance(member);
      if (instance?.DBInstanceArn && tagValue(instance.TagList, this.databases.runTagKey) !== undefined) {
        arns.push(instance.DBInstanceArn);
      }
    }
    return arns;
  }

  private async snapshotExists(target: DatabaseRef, name: string): Promise<boolean> {
    try {
      const found = await translatingErrors(
        async () => {
          if (target.kind === 'instance') {
            const result = await this.rds.send(
              new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: name }),
            );
            return (result.DBSnapshots ?? []).length > 0;
          }
          const result = await this.rds.send(
            new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: name }),
          );
          return (result.DBClusterSnapshots ?? []).length > 0;
        },
        translateRdsError(`final snapshot ${name}`),
      );
      return found;
    } catch (error) {
      if (error instanceof SnapshotNotFoundError) return false;
      throw error;
    }
  }

  /** True once RDS accepted the delete; false when the database was gone before it could. */
  private async sendDelete(subject: string, request: () => Promise<unknown>): Promise<boolean> {
    try {
      await translatingErrors(request, translateRdsError(subject));
      return true;
    } catch (error) {
      if (error instanceof DatabaseNotFoundError) return false;
      throw error;
    }
  }
}
