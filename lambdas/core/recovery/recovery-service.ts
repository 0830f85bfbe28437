/**
 * The steps of a disaster recovery run, each done for real through the ports and each recorded
 * (run table and audit ledger, once however often it is retried: run-recorder.ts) with its
 * duration. The state machine sequences them; failures are named errors its Catch turns into a
 * stop: a dry run removes what it made, a real run keeps what it restored for people to decide
 * on (`aor dr abandon` removes it). Nothing is removed that the run did not create (site-cleanup.ts).
 */
import type { AuditTrail } from '../ledger/ledger';
import type { ClusterOperations, KubernetesManifest, ObjectRef, WorkloadRef } from '../operations/cluster';
import type { Notifier } from '../operations/ports';
import { lambdaErrorMessage } from '../../shared/lambda-error';
import type {
  BackupCatalog,
  BackupLocation,
  DatabaseRecovery,
  DatabaseSnapshot,
  ReplicaStatus,
  SiteIdentity,
  TrafficRouting,
} from './ports';
import {
  measureRecovery,
  nextPollSeconds,
  parseRecoveryRequest,
  RecoveryAlreadyRunningError,
  type RecoveryMeasurement,
  type RecoveryPlan,
  recoveryPlan,
  type RecoveryRequest,
  recoveryRunId,
  type RecoverySettings,
} from './recovery';
import { starterOf } from './approvals';
import { type DatabaseProgress, DatabaseSteps } from './database-steps';
import { blockchainRestoreJob, labelledForRun, restoreVolumeClaim } from './recovery-manifests';
import { runAbandoned, runFailed, runStarted, runSucceeded } from './recovery-notices';
import { RoutingApproval } from './routing-approval';
import { RunRecorder } from './run-recorder';
import type { LockHolder, RecoveryRunStore, RecoveryStepRecord } from './run-store';
import { SiteCleanup, type SiteRemoval } from './site-cleanup';

export class DrSiteNotReadyError extends Error {
  override name = 'DrSiteNotReadyError';
}
export class BackupNotFoundError extends Error {
  override name = 'BackupNotFoundError';
}
/** An object the run would create exists already and is not the run's: it is never taken over. */
export class RunObjectConflictError extends Error {
  override name = 'RunObjectConflictError';
}
export class BlockchainRestoreFailedError extends Error {
  override name = 'BlockchainRestoreFailedError';
}
export class ApplicationsNotReadyError extends Error {
  override name = 'ApplicationsNotReadyError';
}
export class RecoveryValidationFailedError extends Error {
  override name = 'RecoveryValidationFailedError';
}

export interface RecoveryPorts {
  readonly cluster: ClusterOperations;
  readonly recovery: DatabaseRecovery;
  readonly backups: BackupCatalog;
  readonly routing: TrafficRouting;
  readonly identity: SiteIdentity;
  readonly runs: RecoveryRunStore;
  readonly trail: AuditTrail;
  /** The DR region's own channels (the primary region's may be down): approval requests go to ops. */
  readonly notifier: Notifier;
  readonly clock: () => Date;
}

/** The switch was made but the DR VPC's resolver does not answer the DR site within the deadline. */
export class RoutingSwitchNotObservedError extends Error {
  override name = 'RoutingSwitchNotObservedError';
}

/** How often the switch is looked for: health checks and TTLs move in tens of seconds. */
const ROUTING_POLL_SECONDS = 15;

/** A run that is not one to abandon: unknown, still running, succeeded, or a dry run. */
export class RunNotAbandonableError extends Error {
  override name = 'RunNotAbandonableError';
}

/** What the state machine carries from step to step. */
export interface RecoveryRunState {
  readonly runId: string;
  readonly execution: string;
  readonly request: RecoveryRequest;
  readonly plan: RecoveryPlan;
  readonly startedAt: string;
  /** Who started it, when an `aor dr start` request under their own user id says so. */
  readonly starter: { readonly principalId: string; readonly principalArn: string } | null;
}

export interface SiteValidation {
  readonly account: string;
  /** The snapshot a snapshot-mode run restores. */
  readonly snapshot: DatabaseSnapshot | null;
  /** The standby a warm-standby run promotes, as validate-site found it. */
  readonly standby: Pick<ReplicaStatus, 'identifier' | 'lagSeconds' | 'replication'> | null;
  readonly backup: BackupLocation | null;
}

/** The blockchain data's restore, carried from poll to poll. */
export interface BlockchainProgress {
  readonly startedAt: string;
  /** The backup's newest object: the data's recovery point. */
  readonly recoveryPoint: string;
  readonly complete: boolean;
  readonly nextPollSeconds: number;
}

export class RecoveryService {
  private readonly recorder: RunRecorder;
  private readonly approval: RoutingApproval;
  private readonly cleanup: SiteCleanup;
  private readonly database: DatabaseSteps;

  constructor(
    private readonly ports: RecoveryPorts,
    private readonly settings: RecoverySettings,
  ) {
    this.recorder = new RunRecorder(ports);
    this.approval = new RoutingApproval(ports, settings, this.recorder);
    this.cleanup = new SiteCleanup(ports, settings);
    this.database = new DatabaseSteps(ports, settings, this.recorder);
  }

  /**
   * Validates the request and takes the one-run-at-a-time lock; a second start is refused. A
   * retry of this execution's start finds the lock its first attempt took and carries on with
   * that run, its id and start time, so the run's start is recorded once.
   */
  async begin(input: unknown, execution: string): Promise<RecoveryRunState> {
    const now = this.ports.clock();
    const request = parseRecoveryRequest(input, this.settings, now);
    const ours: LockHolder = {
      runId: recoveryRunId(now, execution.split(':').at(-1) ?? execution),
      execution,
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.settings.lockTtlSeconds * 1000).toISOString(),
    };
    const lock = await this.ports.runs.acquireLock(ours, now);
    const holder = lock.acquired ? ours : lock.holder;
    if (holder.execution !== execution) {
      throw new RecoveryAlreadyRunningError(
        `recovery run ${holder.runId} has been running since ${holder.acquiredAt}; its lock expires at ${holder.expiresAt}`,
      );
    }
    const executionName = execution.split(':').at(-1) ?? execution;
    const starter = starterOf(await this.ports.runs.startRequests(executionName));
    const state: RecoveryRunState = {
      runId: holder.runId,
      execution,
      request,
      plan: recoveryPlan(holder.runId, request, this.settings),
      startedAt: holder.acquiredAt,
      starter: starter ? { principalId: starter.principalId, principalArn: starter.principalArn } : null,
    };
    await this.ports.runs.putRun({
      runId: state.runId,
      execution,
      request,
      status: 'running',
      startedAt: state.startedAt,
    });
    await this.recorder.recordNotified(
      state,
      'recovery.started',
      'info',
      { ...request },
      { startedBy: state.starter?.principalArn ?? null },
      () => this.ports.notifier.publish('ops-team', runStarted(state)),
    );
    return state;
  }

  /**
   * After a start or an abandonment that failed for good before it had a run to compensate: frees
   * the lock if this execution took it, so that the next run need not wait for the lock to expire.
   */
  async releaseFailedStart(execution: string): Promise<{ released: true }> {
    await this.ports.runs.releaseLockOf(execution);
    return { released: true };
  }

  /** The seed's validate_dr_site: the region answers, the cluster is up, storage and backups exist. */
  async validateSite(run: RecoveryRunState): Promise<SiteValidation> {
    return this.recorder.step(run, 'validate-site', async () => {
      const identity = await this.ports.identity.whoAmI();
      if (!(await this.ports.cluster.clusterReachable())) {
        throw new DrSiteNotReadyError(`the Kubernetes API of ${this.settings.clusterName} does not answer`);
      }
      if (!(await this.ports.cluster.storageClassExists(this.settings.storageClass))) {
        throw new DrSiteNotReadyError(
          `storage class ${this.settings.storageClass} is missing in ${this.settings.clusterName}`,
        );
      }
      const day = run.request.backupDate === 'latest' ? undefined : run.request.backupDate;
      let snapshot: DatabaseSnapshot | null = null;
      let standby: SiteValidation['standby'] = null;
      let backup: BackupLocation | null = null;
      if (run.plan.restoresData) {
        if (run.plan.databaseMode === 'snapshot') {
          snapshot =
            (await this.ports.recovery.findSnapshot({ sourceDatabase: this.settings.sourceDatabase, day })) ??
            null;
          if (!snapshot) {
            throw new BackupNotFoundError(
              `no available snapshot of ${this.settings.sourceDatabase.identifier} for ${run.request.backupDate}`,
            );
          }
        } else {
          standby = await this.standbyReady();
        }
        backup =
          (await this.ports.backups.findBlockchainBackup({ bucket: this.settings.backupBucket, day })) ??
          null;
        if (!backup)
          throw new BackupNotFoundError(
            `no blockchain backup in s3://${this.settings.backupBucket}/blockchain/ for ${run.request.backupDate}`,
          );
      }
      return { account: identity.account, snapshot, standby, backup };
    });
  }

  /** The standby exists and still replicates: a promotion of anything else would not be a recovery. */
  private async standbyReady(): Promise<SiteValidation['standby']> {
    const replica = this.settings.standbyReplica;
    const status = replica ? await this.ports.recovery.replicaStatus(replica) : undefined;
    if (!replica || !status) {
      throw new DrSiteNotReadyError(
        `the standby replica ${replica?.identifier ?? '(not configured)'} does not exist`,
      );
    }
    if (status.replicaOf === undefined || status.failed) {
      throw new DrSiteNotReadyError(
        `the standby ${replica.identifier} is ${status.status}${status.replicaOf === undefined ? ', no longer a replica' : ''}`,
      );
    }
    return { identifier: status.identifier, lagSeconds: status.lagSeconds, replication: status.replication };
  }

  /** The database back, in the run's mode (database-steps.ts): start, then polls of its progress. */
  startDatabase(run: RecoveryRunState, site: SiteValidation): Promise<DatabaseProgress> {
    return this.database.start(run, site.snapshot);
  }

  checkDatabase(run: RecoveryRunState, progress: DatabaseProgress): Promise<DatabaseProgress> {
    return this.database.check(run, progress);
  }

  /**
   * The seed's restore_blockchain_data: a volume claim and a Job in the DR cluster that syncs the
   * backup into it, both labelled as the run's (and refused if something of that name is not).
   */
  async startBlockchainRestore(run: RecoveryRunState, site: SiteValidation): Promise<BlockchainProgress> {
    const backup = site.backup;
    if (!backup)
      throw new BlockchainRestoreFailedError('validate-site found no blockchain backup to restore');
    const startedAt = this.ports.clock().toISOString();
    await this.applyAsTheRuns(run, [
      restoreVolumeClaim(run, this.settings),
      blockchainRestoreJob(run, backup, this.settings),
    ]);
    await this.recorder.record(
      run,
      'recovery.blockchain-restore-started',
      'info',
      { source: `s3://${backup.bucket}/${backup.prefix}`, bytes: backup.bytes },
      { job: run.plan.restoreJob },
    );
    return {
      startedAt,
      recoveryPoint: backup.takenAt,
      complete: false,
      nextPollSeconds: nextPollSeconds(undefined),
    };
  }

  async checkBlockchainRestore(
    run: RecoveryRunState,
    progress: BlockchainProgress,
  ): Promise<BlockchainProgress> {
    const job = await this.ports.cluster.jobStatus({
      namespace: run.plan.namespace,
      name: run.plan.restoreJob,
    });
    if (job.state === 'failed')
      throw new BlockchainRestoreFailedError(`job ${job.name} failed: ${job.message ?? 'no reason given'}`);
    const complete = job.state === 'complete';
    if (complete)
      await this.recorder.finishedStep(run, 'restore-blockchain-data', progress.startedAt, { job: job.name });
    return { ...progress, complete, nextPollSeconds: nextPollSeconds(progress.nextPollSeconds) };
  }

  /**
   * Applies objects as the run's own. Server-side apply would take over an object of the same name
   * (and relabel it as the run's, which a clean-up would then remove): so each is first read, and
   * one that exists without this run's label stops the run before anything is applied.
   */
  private async applyAsTheRuns(run: RecoveryRunState, manifests: readonly KubernetesManifest[]) {
    const refs: ObjectRef[] = manifests.map((m) => ({
      apiVersion: m.apiVersion,
      kind: m.kind,
      name: m.metadata.name,
      namespace: run.plan.namespace,
    }));
    const labels = await this.ports.cluster.runLabels(refs);
    const foreign = refs.filter((_, i) => labels[i] !== 'absent' && labels[i] !== run.runId);
    if (foreign.length > 0) {
      throw new RunObjectConflictError(
        `${foreign.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(', ')} exist${foreign.length === 1 ? 's' : ''} in the DR cluster and ${foreign.length === 1 ? 'is' : 'are'} not this run's: a run never takes over what it did not create`,
      );
    }
    return this.ports.cluster.applyManifests({
      namespace: run.plan.namespace,
      manifests: [...manifests],
      fieldManager: 'aor',
    });
  }

  /** The seed's restore_applications: server-side apply of the configured manifests, in order. */
  async applyApplications(run: RecoveryRunState) {
    const appliedAt = this.ports.clock().toISOString();
    const applied = await this.applyAsTheRuns(
      run,
      this.settings.manifests.map((m) => labelledForRun(run, m)),
    );
    await this.recorder.record(
      run,
      'recovery.applications-applied',
      'succeeded',
      {},
      { objects: applied.map((o) => `${o.kind}/${o.name}`) },
    );
    return { appliedAt, ready: false, nextPollSeconds: nextPollSeconds(undefined) };
  }

  /** One poll of the applications' rollout, with the seed's 600 s deadline from the apply. */
  async checkApplications(run: RecoveryRunState, appliedAt: string, lastPollSeconds: number) {
    const statuses = await Promise.all(
      this.settings.workloads.map((w) =>
        this.ports.cluster.workloadStatus({
          namespace: run.plan.namespace,
          kind: w.kind,
          name: w.name,
        } as WorkloadRef),
      ),
    );
    const failed = statuses.find((s) => s.failed);
    if (failed) throw new ApplicationsNotReadyError(`${failed.kind} ${failed.name}: ${failed.message}`);
    const ready = statuses.every((s) => s.rolledOut);
    const waited = (this.ports.clock().getTime() - Date.parse(appliedAt)) / 1000;
    if (!ready && waited >= this.settings.applicationDeadlineSeconds) {
      const waiting = statuses.filter((s) => !s.rolledOut).map((s) => `${s.kind} ${s.name}: ${s.message}`);
      throw new ApplicationsNotReadyError(
        `not available after ${this.settings.applicationDeadlineSeconds} s: ${waiting.join('; ')}`,
      );
    }
    if (ready)
      await this.recorder.finishedStep(run, 'restore-applications', appliedAt, {
        workloads: statuses.map((s) => `${s.kind}/${s.name}`),
      });
    // Poll the rollout often: it takes a minute or two, not twenty.
    return { appliedAt, ready, nextPollSeconds: Math.min(60, nextPollSeconds(lastPollSeconds)) };
  }

  /** The seed's validate_recovery: node health and peers, the endpoint from inside the cluster, data integrity. */
  async validateRecovery(
    run: RecoveryRunState,
    site: SiteValidation,
    checks: (run: RecoveryRunState, site: SiteValidation) => Promise<Record<string, unknown>>,
  ) {
    return this.recorder.step(run, 'validate-recovery', () => checks(run, site));
  }

  /** Asks for the routing switch's approval (see routing-approval.ts); the workflow then polls. */
  requestApproval(run: RecoveryRunState) {
    return this.approval.request(run);
  }

  checkApproval(run: RecoveryRunState, requestedAt: string) {
    return this.approval.check(run, requestedAt);
  }

  /**
   * The seed's update_routing, made so that it works with the primary region gone: in failover
   * mode a datapoint in the DR region turns the primary's health check unhealthy and Route 53's
   * data plane answers the DR site (routing adapter); the switch is then seen, or not, by the DR
   * VPC's own resolver.
   */
  async switchRouting(run: RecoveryRunState) {
    const { routing } = this.settings;
    const sent = await this.ports.routing.sendTrafficToDrSite({
      ...routing,
      comment: `AOR disaster recovery ${run.runId}`,
    });
    await this.recorder.record(
      run,
      'recovery.routing-switched',
      'info',
      { record: routing.recordName, target: routing.drTarget },
      { mode: sent.mode, reference: sent.reference },
    );
    return {
      switchedAt: this.ports.clock().toISOString(),
      onDrSite: false,
      nextPollSeconds: ROUTING_POLL_SECONDS,
    };
  }

  /** One look at where the record answers; the switch not seen within the deadline is an error. */
  async checkRouting(run: RecoveryRunState, switchedAt: string) {
    const { routing } = this.settings;
    const status = await this.ports.routing.trafficStatus(routing);
    if (status.onDrSite) {
      if (routing.targetGroupArn) {
        await this.ports.routing.setHealthCheckPath({
          targetGroupArn: routing.targetGroupArn,
          path: routing.healthCheckPath,
        });
      }
      await this.recorder.finishedStep(run, 'switch-routing', switchedAt, {
        record: routing.recordName,
        answer: status.answer,
      });
    } else if (
      this.ports.clock().getTime() - Date.parse(switchedAt) >
      this.settings.routingDeadlineSeconds * 1000
    ) {
      throw new RoutingSwitchNotObservedError(
        `${routing.recordName} still answers ${status.answer} ${this.settings.routingDeadlineSeconds} s after the switch to ${routing.drTarget}`,
      );
    }
    return {
      switchedAt,
      onDrSite: status.onDrSite,
      answer: status.answer,
      nextPollSeconds: ROUTING_POLL_SECONDS,
    };
  }

  /** Where the record answers now, for a stopped run's notice: the truth, not what the run meant to do. */
  private async trafficNow(run: RecoveryRunState): Promise<string> {
    if (!run.plan.switchesRouting) return 'Routing was not touched (a dry run never switches).';
    try {
      const status = await this.ports.routing.trafficStatus(this.settings.routing);
      return `${this.settings.routing.recordName} answers ${status.answer}${status.onDrSite ? ' (the DR site)' : ''}.`;
    } catch (error) {
      return `Where ${this.settings.routing.recordName} answers could not be read: ${(error as Error).message}.`;
    }
  }

  /**
   * Measures RTO and RPO; a drill removes what it made, a real run protects the database it
   * recovered; records the run, tells the ops channel and frees the lock.
   */
  async finish(
    run: RecoveryRunState,
    restores: { database?: DatabaseProgress; blockchain?: BlockchainProgress },
  ): Promise<RecoveryMeasurement & { steps: RecoveryStepRecord[]; cleanedUp: SiteRemoval | null }> {
    // The recovery is done when its last step is: a drill's clean-up afterwards is not part of it.
    const finishedAt = this.ports.clock().toISOString();
    const cleanedUp = run.request.dryRun ? await this.cleanup.remove(run) : null;
    if (!run.request.dryRun && run.plan.restoresData) {
      await this.ports.recovery.protectRecovered(run.plan.database, run.runId);
    }
    const recovered = [restores.database, restores.blockchain].flatMap((restore) =>
      restore ? [{ takenAt: restore.recoveryPoint, restoreStartedAt: restore.startedAt }] : [],
    );
    const measurement = measureRecovery({
      startedAt: run.startedAt,
      finishedAt,
      restores: recovered,
      // A drill's time making its standby twin is the drill's own: a real run does not spend it.
      preparationSeconds: restores.database?.preparationSeconds ?? 0,
      objectives: this.settings.objectives,
    });
    const steps = await this.ports.runs.readSteps(run.runId);
    await this.ports.runs.putRun({
      runId: run.runId,
      execution: run.execution,
      request: run.request,
      status: 'succeeded',
      startedAt: run.startedAt,
      finishedAt,
      rtoSeconds: measurement.rtoSeconds,
      rpoSeconds: measurement.rpoSeconds,
    });
    const switched = run.plan.switchesRouting
      ? { recordName: this.settings.routing.recordName, drTarget: this.settings.routing.drTarget }
      : null;
    await this.recorder.recordNotified(
      run,
      'recovery.completed',
      'succeeded',
      {},
      { ...measurement, steps: steps.map((s) => `${s.step}:${s.status}`), cleanedUp },
      () => this.ports.notifier.publish('ops-team', runSucceeded(run, measurement, switched)),
    );
    await this.ports.runs.releaseLock(run.runId);
    return { ...measurement, steps, cleanedUp };
  }

  /**
   * A step failed, or the switch was rejected or not approved in time: routing is left as it was.
   * A dry run removes what it made; a real run keeps what it restored (twenty minutes of restore
   * are not thrown away on a rejection) and says how to remove it. Records the real error, tells
   * the ops channel, frees the lock.
   */
  async compensate(run: RecoveryRunState, failedStep: string, error: { Error: string; Cause: string }) {
    const removal = run.request.dryRun ? await this.cleanup.remove(run) : null;
    const kept = removal ? null : await this.cleanup.inventory(run);
    const finishedAt = this.ports.clock().toISOString();
    const reason = `${error.Error}: ${lambdaErrorMessage(error.Cause)}`;
    await this.ports.runs.putRun({
      runId: run.runId,
      execution: run.execution,
      request: run.request,
      status: 'failed',
      startedAt: run.startedAt,
      finishedAt,
      failedStep,
      error: reason.slice(0, 2000),
    });
    const traffic = await this.trafficNow(run);
    await this.recorder.recordNotified(
      run,
      removal ? 'recovery.cleaned-up' : 'recovery.stopped-keeping-restore',
      'failed',
      { failedStep, error: error.Error },
      { removed: removal, kept, traffic },
      () =>
        this.ports.notifier.publish(
          'ops-team',
          runFailed(
            run,
            failedStep,
            reason,
            traffic,
            removal ?? kept ?? { database: null, objects: [], notes: [] },
            removal !== null,
          ),
        ),
    );
    await this.ports.runs.releaseLock(run.runId);
    return { failedStep, error: error.Error, removed: removal, kept };
  }

  /**
   * `aor dr abandon <run>`: removes what a stopped real run kept (each thing only if it is still
   * the run's, the database after a final snapshot). It takes the one-run lock for the time it
   * works, so it never races a run.
   */
  async abandon(runId: string, execution: string) {
    const record = await this.ports.runs.getRun(runId);
    if (!record || record.status !== 'failed' || record.request.dryRun) {
      throw new RunNotAbandonableError(
        `run ${runId} is ${record ? `${record.status}${record.request.dryRun ? ' (a dry run, which cleans up after itself)' : ''}` : 'unknown'}: only a failed real run keeps what it restored`,
      );
    }
    const now = this.ports.clock();
    const lock = await this.ports.runs.acquireLock(
      {
        runId: `${runId}-abandon`,
        execution,
        acquiredAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.settings.lockTtlSeconds * 1000).toISOString(),
      },
      now,
    );
    if (!lock.acquired && lock.holder.execution !== execution) {
      throw new RecoveryAlreadyRunningError(
        `recovery run ${lock.holder.runId} holds the lock until ${lock.holder.expiresAt}; abandon ${runId} after it`,
      );
    }
    const run = {
      runId,
      execution: record.execution,
      request: record.request,
      plan: recoveryPlan(runId, record.request, this.settings),
      starter: null,
    };
    const removal = await this.cleanup.remove(run);
    // A retry keeps the first attempt's time.
    await this.ports.runs.putRun({ ...record, abandonedAt: record.abandonedAt ?? now.toISOString() });
    await this.recorder.recordNotified(
      { ...run, execution },
      'recovery.abandoned',
      'succeeded',
      {},
      { removed: removal },
      () => this.ports.notifier.publish('ops-team', runAbandoned(run, removal)),
    );
    await this.ports.runs.releaseLock(`${runId}-abandon`);
    return { runId, removed: removal };
  }
}
