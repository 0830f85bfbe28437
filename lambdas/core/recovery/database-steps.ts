/**
 * Bringing the database back, in the run's mode, as one start and a check the state machine polls:
 *
 * - `snapshot`: restore the snapshot validate-site chose into the target (15–25 minutes; the data
 *   lost is the snapshot's age: its newest transaction to the restore's start).
 * - `warm-standby`, real run: promote the cross-region read replica (minutes; the data lost is its
 *   lag at promotion).
 * - `warm-standby`, dry run: never the standby itself (a promotion ends its replication): a `-drill`
 *   replica of it is made, then promoted; the time making it is the drill's, and reported apart.
 *
 * The check carries the progress between polls: its phase, and the recovery point once known.
 */
import type { DatabaseRecovery, DatabaseSnapshot, Promotion } from './ports';
import { nextPollSeconds, type RecoveryPlan, type RecoverySettings } from './recovery';
import type { RecordedRun, RunRecorder } from './run-recorder';

export class DatabaseRestoreFailedError extends Error {
  override name = 'DatabaseRestoreFailedError';
}

export type DatabasePhase = 'restore' | 'rehearsal' | 'promotion';

/**
 * A restore, a twin's creation or a promotion not done in this long is a failed one: RDS's restores
 * take 15–25 minutes and promotions minutes, and the run must end (and say so) before its execution's
 * timeout, which this bounds (recoveryRunLimitMinutes).
 */
export const DATABASE_PHASE_DEADLINE_MINUTES = 90;

/** Where the database's recovery stands, carried by the state machine from poll to poll. */
export interface DatabaseProgress {
  readonly phase: DatabasePhase;
  /** When the recovery proper began (a drill's promotion, not its rehearsal's preparation). */
  readonly startedAt: string;
  /** The newest data the database will hold; known at once for a snapshot, at promotion for a standby. */
  readonly recoveryPoint: string | null;
  /** A dry run's time making its twin: not part of the recovery it rehearses. */
  readonly preparationSeconds: number;
  readonly status: string;
  readonly available: boolean;
  readonly nextPollSeconds: number;
}

export interface DatabaseRun extends RecordedRun {
  readonly plan: RecoveryPlan;
}

export class DatabaseSteps {
  constructor(
    private readonly ports: { readonly recovery: DatabaseRecovery; readonly clock: () => Date },
    private readonly settings: Pick<
      RecoverySettings,
      'instanceClass' | 'subnetGroupName' | 'securityGroupIds' | 'standbyReplica'
    >,
    private readonly recorder: RunRecorder,
  ) {}

  async start(run: DatabaseRun, snapshot: DatabaseSnapshot | null): Promise<DatabaseProgress> {
    const now = this.ports.clock().toISOString();
    const { plan } = run;
    if (plan.databaseMode === 'snapshot') {
      if (!snapshot) throw new DatabaseRestoreFailedError('validate-site found no snapshot to restore');
      const status = await this.ports.recovery.startRestore({
        snapshot,
        target: plan.database,
        instanceClass: this.settings.instanceClass,
        subnetGroupName: this.settings.subnetGroupName,
        securityGroupIds: this.settings.securityGroupIds,
        tags: plan.tags,
      });
      await this.recorder.record(
        run,
        'recovery.database-restore-started',
        'info',
        {
          snapshot: snapshot.identifier,
          target: plan.database.identifier,
          recoveryPoint: snapshot.createdAt,
        },
        { status: status.status },
      );
      return this.progress('restore', now, snapshot.createdAt, 0, status.status, false, undefined);
    }
    const standby = this.standby();
    if (run.request.dryRun) {
      const status = await this.ports.recovery.startRehearsal({
        standby,
        target: plan.database,
        instanceClass: this.settings.instanceClass,
        securityGroupIds: this.settings.securityGroupIds,
        tags: plan.tags,
      });
      await this.recorder.record(
        run,
        'recovery.standby-rehearsal-started',
        'info',
        { standby: standby.identifier, twin: plan.database.identifier },
        { status: status.status },
      );
      return this.progress('rehearsal', now, null, 0, status.status, false, undefined);
    }
    return this.promote(run, now, 0);
  }

  /** One poll; a rehearsal's twin, once available, is promoted; a promotion is done once writable. */
  async check(run: DatabaseRun, progress: DatabaseProgress): Promise<DatabaseProgress> {
    const status = await this.ports.recovery.restoreStatus(run.plan.database);
    if (!status || status.failed) {
      throw new DatabaseRestoreFailedError(`${run.plan.database.identifier} is ${status?.status ?? 'gone'}`);
    }
    const now = this.ports.clock();
    const minutes = (now.getTime() - Date.parse(progress.startedAt)) / 60_000;
    if (!status.available && minutes > DATABASE_PHASE_DEADLINE_MINUTES) {
      throw new DatabaseRestoreFailedError(
        `${run.plan.database.identifier} is still ${status.status} after ${Math.round(minutes)} minutes of its ${progress.phase} (deadline ${DATABASE_PHASE_DEADLINE_MINUTES})`,
      );
    }
    if (progress.phase === 'rehearsal') {
      if (!status.available)
        return { ...progress, status: status.status, nextPollSeconds: this.next(progress) };
      const preparation = Math.round((now.getTime() - Date.parse(progress.startedAt)) / 1000);
      return this.promote(run, now.toISOString(), preparation);
    }
    // A promotion accepted while the replica was still catching up is asked again: idempotent.
    if (progress.phase === 'promotion' && status.available && status.replicaOf !== undefined) {
      await this.ports.recovery.promoteReplica(run.plan.database, run.runId);
      return { ...progress, status: status.status, nextPollSeconds: this.next(progress) };
    }
    const done = status.available && status.replicaOf === undefined;
    if (done) {
      await this.recorder.finishedStep(run, 'restore-database', progress.startedAt, {
        mode: run.plan.databaseMode,
        target: status.identifier,
        endpoint: status.endpoint ?? null,
        recoveryPoint: progress.recoveryPoint,
        preparationSeconds: progress.preparationSeconds,
      });
    }
    return { ...progress, status: status.status, available: done, nextPollSeconds: this.next(progress) };
  }

  private async promote(
    run: DatabaseRun,
    startedAt: string,
    preparationSeconds: number,
  ): Promise<DatabaseProgress> {
    const promoted = await this.ports.recovery.promoteReplica(run.plan.database, run.runId);
    const promotion = run.request.dryRun ? await this.asTheStandbys(promoted) : promoted;
    await this.recorder.record(
      run,
      'recovery.standby-promoted',
      'info',
      { database: run.plan.database.identifier, dryRun: run.request.dryRun },
      { lagSeconds: promotion.lagSeconds, recoveryPoint: promotion.recoveryPoint, status: promotion.status },
    );
    return this.progress(
      'promotion',
      startedAt,
      promotion.recoveryPoint,
      preparationSeconds,
      promotion.status,
      false,
      undefined,
    );
  }

  /**
   * A drill's twin replicates the standby, which replicates the primary: what promoting the standby
   * itself would lose is both lags. Unknown when either is.
   */
  private async asTheStandbys(twin: Promotion): Promise<Promotion> {
    const standby = await this.ports.recovery.replicaStatus(this.standby());
    const lag = standby?.lagSeconds ?? null;
    if (twin.recoveryPoint === null || twin.lagSeconds === null || lag === null) {
      return { ...twin, lagSeconds: null, recoveryPoint: null };
    }
    return {
      ...twin,
      lagSeconds: twin.lagSeconds + lag,
      recoveryPoint: new Date(Date.parse(twin.recoveryPoint) - lag * 1000).toISOString(),
    };
  }

  private standby() {
    if (!this.settings.standbyReplica) {
      throw new DatabaseRestoreFailedError('warm-standby mode needs disasterRecovery.standbyReplica');
    }
    return this.settings.standbyReplica;
  }

  private progress(
    phase: DatabasePhase,
    startedAt: string,
    recoveryPoint: string | null,
    preparationSeconds: number,
    status: string,
    available: boolean,
    lastPoll: number | undefined,
  ): DatabaseProgress {
    return {
      phase,
      startedAt,
      recoveryPoint,
      preparationSeconds,
      status,
      available,
      nextPollSeconds: nextPollSeconds(lastPoll),
    };
  }

  /** Promotions take minutes, not twenty: poll them at most every minute. */
  private next(progress: DatabaseProgress): number {
    const next = nextPollSeconds(progress.nextPollSeconds);
    return progress.phase === 'promotion' ? Math.min(60, next) : next;
  }
}
