import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  AddTagsToResourceCommand,
  CreateDBInstanceReadReplicaCommand,
  PromoteReadReplicaCommand,
  PromoteReadReplicaDBClusterCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { DatabaseRef } from '../../core/operations/ports';
import {
  type Promotion,
  RECOVERY_POINT_TAG,
  RECOVERY_PROMOTED_TAG,
  type RehearsalRequest,
  type ReplicaStatus,
  type RestoreStatus,
} from '../../core/recovery/ports';
import { translatingErrors } from './aws-errors';
import { type MetricPoint, readMetricSeries } from './cloudwatch-metrics-reader';
import {
  arnOf,
  awsTags,
  noun,
  type RdsDatabases,
  restoreStatusOf,
  runInstanceSettings,
  type TagLookup,
  tagValue,
} from './rds-databases';
import { translateRdsError } from './rds-errors';

/** What a promotion cannot be done to: a database that is not (or no longer) a read replica, nor this run's promotion. */
export class StandbyNotPromotableError extends Error {
  override name = 'StandbyNotPromotableError';
}

/**
 * A drill cannot rehearse this standby's promotion without promoting the standby itself: RDS makes
 * Aurora replica clusters across regions only, so the standby can have no promotable twin beside it.
 */
export class RehearsalNotSupportedError extends Error {
  override name = 'RehearsalNotSupportedError';
}

/** RDS publishes replica lag once a minute. */
const LAG_PERIOD_SECONDS = 60;
/**
 * How far back the newest lag is looked for. A MySQL or MariaDB replica reports -1 while its
 * replication is not running (the source is down): the newest real reading before that, within the
 * hour, still bounds what it holds.
 */
const LAG_LOOKBACK_MS = 60 * 60_000;
/** A promoted database keeps automated backups this long when its replica kept none (the RDS console's default). */
const DEFAULT_BACKUP_RETENTION_DAYS = 7;
/** What the recovery point tag says when CloudWatch had no lag to measure it by. */
const UNKNOWN_RECOVERY_POINT = 'unknown';

export interface Lag {
  readonly lagSeconds: number | null;
  readonly recoveryPoint: string | null;
}

/** What a replica reads while RDS promotes it; anything else, a marked replica's promotion was refused or not sent. */
const PROMOTING_STATUSES: ReadonlySet<string> = new Set(['modifying', 'rebooting', 'promoting']);

/**
 * What a promotion of this database by `runId` is: one to send, or one RDS accepted from an earlier
 * attempt of the run (marked, and promoting or promoted) to report again. Refused when it is not a
 * replica any more and not this run's promotion.
 */
export function promotionStep(
  subject: string,
  database: { readonly replicaOf: string | undefined; readonly status: string },
  tag: TagLookup,
  runId: string,
): 'promote' | 'resume' {
  const promotedBy = tag(RECOVERY_PROMOTED_TAG);
  const underWay = database.replicaOf === undefined || PROMOTING_STATUSES.has(database.status);
  if (promotedBy === runId && underWay) return 'resume';
  if (database.replicaOf !== undefined) return 'promote';
  throw new StandbyNotPromotableError(
    promotedBy === undefined
      ? `${subject} is not a read replica: there is nothing to promote`
      : `${subject} is no longer a read replica: recovery run ${promotedBy} promoted it`,
  );
}

/** The recovery point a resumed promotion reports: the one its first attempt measured and tagged. */
export function taggedRecoveryPoint(tag: TagLookup): string | null {
  const value = tag(RECOVERY_POINT_TAG);
  return value === undefined || value === UNKNOWN_RECOVERY_POINT ? null : value;
}

/** The tags a promotion leaves on what it promotes, before it asks RDS to. */
export function promotionTags(runId: string, recoveryPoint: string | null): Record<string, string> {
  return { [RECOVERY_PROMOTED_TAG]: runId, [RECOVERY_POINT_TAG]: recoveryPoint ?? UNKNOWN_RECOVERY_POINT };
}

/**
 * The newest real lag reading (CloudWatch's Maximum over its minute, so the recovery point is never
 * later than the data) and the recovery point it implies: the end of that minute, or `now` for the
 * minute under way, less the lag. Negative readings say replication was not running.
 */
export function lagFromDatapoints(points: readonly MetricPoint[], now: Date): Lag {
  const newest = points
    .filter((point) => point.value >= 0)
    .reduce<MetricPoint | undefined>(
      (latest, point) => (latest && latest.timestamp >= point.timestamp ? latest : point),
      undefined,
    );
  if (!newest) return { lagSeconds: null, recoveryPoint: null };
  const minuteEnd = Math.min(newest.timestamp.getTime() + LAG_PERIOD_SECONDS * 1000, now.getTime());
  return {
    lagSeconds: newest.value,
    recoveryPoint: new Date(minuteEnd - Math.round(newest.value * 1000)).toISOString(),
  };
}

/** Refuses, before anything is sent, a rehearsal RDS could not stage: an Aurora standby's. */
export function assertRehearsable(standby: DatabaseRef, target: DatabaseRef): void {
  if (standby.kind !== 'instance' || target.kind !== 'instance') {
    throw new RehearsalNotSupportedError(
      `${noun(standby)} ${standby.identifier}: RDS makes Aurora replica clusters across regions only, so a drill could rehearse this promotion only by ending the standby's replication`,
    );
  }
}

/** Refuses to rehearse on a standby that is not a replica (any more): there is no promotion to rehearse. */
export function assertReplicating(standby: DatabaseRef, replicaOf: string | undefined): void {
  if (replicaOf === undefined) {
    throw new StandbyNotPromotableError(
      `${noun(standby)} ${standby.identifier} is not a read replica: there is no promotion to rehearse`,
    );
  }
}

/**
 * Warm-standby mode: the cross-region read replica in the DR region, its lag, its promotion to the
 * site's writable database, and a drill's rehearsal of that promotion on a twin.
 *
 * An RDS instance's standby is a cross-region read replica promoted with `PromoteReadReplica`; an
 * Aurora MySQL one is a cross-region replica cluster (binlog replication) promoted with
 * `PromoteReadReplicaDBCluster`. Aurora PostgreSQL has no cross-region read replicas in GovCloud.
 * The lag is CloudWatch's `ReplicaLag` (the replica's `Seconds_Behind_Master` for MySQL and
 * MariaDB) or, for the Aurora replica cluster, `AuroraBinlogReplicaLag`.
 */
export class RdsStandbyPromotion {
  constructor(
    private readonly rds: RDSClient,
    private readonly cloudWatch: CloudWatchClient,
    private readonly databases: RdsDatabases,
    private readonly now: () => Date,
  ) {}

  async replicaStatus(replica: DatabaseRef): Promise<ReplicaStatus | undefined> {
    const database = await this.databases.describe(replica);
    if (!database) return undefined;
    const lag = database.replicaOf ? await this.lag(replica) : { lagSeconds: null, recoveryPoint: null };
    return {
      ...restoreStatusOf(database, this.databases.runTagKey),
      ...(database.replication === undefined ? {} : { replication: database.replication }),
      ...lag,
    };
  }

  async promoteReplica(replica: DatabaseRef, runId: string): Promise<Promotion> {
    const subject = `${noun(replica)} ${replica.identifier}`;
    const database = await this.databases.require(replica);
    const tag = (key: string) => tagValue(database.tags, key);
    if (promotionStep(subject, database, tag, runId) === 'resume') {
      // A retry after RDS accepted the promotion: report it, with the recovery point measured then.
      return {
        identifier: replica.identifier,
        status: database.status,
        promotedBy: runId,
        lagSeconds: null,
        recoveryPoint: taggedRecoveryPoint(tag),
      };
    }
    const lag = await this.lag(replica);
    // Marked first: a retry whose answer was lost then knows the promotion, and its recovery point, as its own.
    await translatingErrors(
      () =>
        this.rds.send(
          new AddTagsToResourceCommand({
            ResourceName: arnOf(database),
            Tags: awsTags(promotionTags(runId, lag.recoveryPoint)),
          }),
        ),
      translateRdsError(subject),
    );
    const status = await translatingErrors(async () => {
      if (replica.kind === 'aurora-cluster') {
        const result = await this.rds.send(
          new PromoteReadReplicaDBClusterCommand({ DBClusterIdentifier: replica.identifier }),
        );
        return result.DBCluster?.Status;
      }
      const result = await this.rds.send(
        new PromoteReadReplicaCommand({
          DBInstanceIdentifier: replica.identifier,
          // Left out, RDS would keep a promoted instance's backups for one day only.
          BackupRetentionPeriod: database.backupRetentionPeriod || DEFAULT_BACKUP_RETENTION_DAYS,
        }),
      );
      return result.DBInstance?.DBInstanceStatus;
    }, translateRdsError(subject));
    return { identifier: replica.identifier, status: status ?? 'modifying', promotedBy: runId, ...lag };
  }

  /**
   * A cascading read replica of the standby, named the drill's: RDS for PostgreSQL (14.1 and later)
   * chains up to three replicas from a cross-region one, and MySQL and MariaDB replicas have sources
   * of their own; each needs automated backups on the standby. Its promotion is then the real one's,
   * on a database nobody depends on.
   */
  async startRehearsal(request: RehearsalRequest): Promise<RestoreStatus> {
    const { standby, target } = request;
    const runTag = this.databases.runTagOf(target, request.tags);
    assertRehearsable(standby, target);
    return this.databases.createInstance(target, runTag, async () => {
      assertReplicating(standby, (await this.databases.require(standby)).replicaOf);
      const result = await this.rds.send(
        new CreateDBInstanceReadReplicaCommand({
          DBInstanceIdentifier: target.identifier,
          SourceDBInstanceIdentifier: standby.identifier,
          DBInstanceClass: request.instanceClass,
          VpcSecurityGroupIds: [...request.securityGroupIds],
          ...runInstanceSettings(request.tags),
        }),
      );
      return result.DBInstance;
    });
  }

  /** The newest real lag reading of the last hour, and the recovery point it implies. */
  private async lag(replica: DatabaseRef): Promise<Lag> {
    const end = this.now();
    const series = await readMetricSeries(
      this.cloudWatch,
      {
        Id: 'lag',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/RDS',
            MetricName: replica.kind === 'instance' ? 'ReplicaLag' : 'AuroraBinlogReplicaLag',
            Dimensions: [
              {
                Name: replica.kind === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier',
                Value: replica.identifier,
              },
            ],
          },
          Period: LAG_PERIOD_SECONDS,
          Stat: 'Maximum',
        },
      },
      { start: new Date(end.getTime() - LAG_LOOKBACK_MS), end },
    );
    return lagFromDatapoints(
      series.flatMap((each) => each.points),
      end,
    );
  }
}
