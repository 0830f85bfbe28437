/**
 * The steps of a disaster recovery run, each done for real through the ports and each recorded
 * (run table and audit ledger) with its duration. The state machine sequences them; failures are
 * named errors its Catch turns into compensation. What a step owes the ledger is recorded once per
 * run however often the step is retried: every action happens at most once in a run, so
 * `<runId>/<action>` names it, and a retry appends the entry its first attempt stored.
 */
import type { AuditRecord } from '../ledger/audit-record';
import type { AuditTrail } from '../ledger/ledger';
import { appendOwedRecord, type OwedEntry } from '../ledger/owed-records';
import type { ClusterOperations, WorkloadRef } from '../operations/cluster';
import type { Notifier } from '../operations/ports';
import { lambdaErrorMessage } from '../../shared/lambda-error';
import type {
  BackupCatalog,
  BackupLocation,
  DatabaseRecovery,
  DatabaseSnapshot,
  SiteIdentity,
  TrafficRouting,
} from './ports';
import {
  createdObjects,
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
import { blockchainRestoreJob, labelledForRun, namespaceManifest } from './recovery-manifests';
import type { LockHolder, RecoveryRunStore, RecoveryStepRecord } from './run-store';

export class DrSiteNotReadyError extends Error {
  override name = 'DrSiteNotReadyError';
}
export class BackupNotFoundError extends Error {
  override name = 'BackupNotFoundError';
}
export class DatabaseRestoreFailedError extends Error {
  override name = 'DatabaseRestoreFailedError';
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

/** What compensation or a drill's clean-up removed from the DR site. */
export interface CleanUp {
  readonly databaseDeleted: boolean;
  readonly objectsDeleted: number;
}

/** What the state machine carries from step to step. */
export interface RecoveryRunState {
  readonly runId: string;
  readonly execution: string;
  readonly request: RecoveryRequest;
  readonly plan: RecoveryPlan;
  readonly startedAt: string;
}

export interface SiteValidation {
  readonly account: string;
  readonly snapshot: DatabaseSnapshot | null;
  readonly backup: BackupLocation | null;
}

export class RecoveryService {
  constructor(
    private readonly ports: RecoveryPorts,
    private readonly settings: RecoverySettings,
  ) {}

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
    const state: RecoveryRunState = {
      runId: holder.runId,
      execution,
      request,
      plan: recoveryPlan(holder.runId, request, this.settings),
      startedAt: holder.acquiredAt,
    };
    await this.ports.runs.putRun({
      runId: state.runId,
      execution,
      request,
      status: 'running',
      startedAt: state.startedAt,
    });
    await this.record(state, 'recovery.started', 'info', { ...request }, {});
    return state;
  }

  /** The seed's validate_dr_site: the region answers, the cluster is up, storage and backups exist. */
  async validateSite(run: RecoveryRunState): Promise<SiteValidation> {
    return this.step(run, 'validate-site', async () => {
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
      let backup: BackupLocation | null = null;
      if (run.plan.restoresData) {
        snapshot =
          (await this.ports.recovery.findSnapshot({ sourceDatabase: this.settings.sourceDatabase, day })) ??
          null;
        if (!snapshot) {
          throw new BackupNotFoundError(
            `no available snapshot of ${this.settings.sourceDatabase.identifier} for ${run.request.backupDate}`,
          );
        }
        backup =
          (await this.ports.backups.findBlockchainBackup({ bucket: this.settings.backupBucket, day })) ??
          null;
        if (!backup)
          throw new BackupNotFoundError(
            `no blockchain backup in s3://${this.settings.backupBucket}/blockchain/ for ${run.request.backupDate}`,
          );
      }
      return { account: identity.account, snapshot, backup };
    });
  }

  async startDatabaseRestore(run: RecoveryRunState, snapshot: DatabaseSnapshot) {
    const restoreStartedAt = this.ports.clock().toISOString();
    const status = await this.ports.recovery.startRestore({
      snapshot,
      target: run.plan.database,
      instanceClass: this.settings.instanceClass,
      subnetGroupName: this.settings.subnetGroupName,
      securityGroupIds: this.settings.securityGroupIds,
      tags: run.plan.tags,
    });
    await this.record(
      run,
      'recovery.database-restore-started',
      'info',
      { snapshot: snapshot.identifier, target: run.plan.database.identifier },
      { status: status.status },
    );
    return {
      restoreStartedAt,
      status: status.status,
      available: status.available,
      nextPollSeconds: nextPollSeconds(undefined),
    };
  }

  /** One poll of the database restore; the state machine waits `nextPollSeconds` between polls. */
  async checkDatabaseRestore(run: RecoveryRunState, restoreStartedAt: string, lastPollSeconds: number) {
    const status = await this.ports.recovery.restoreStatus(run.plan.database);
    if (!status || status.failed) {
      throw new DatabaseRestoreFailedError(
        `restore of ${run.plan.database.identifier} is ${status?.status ?? 'gone'}`,
      );
    }
    if (status.available) {
      await this.finishedStep(run, 'restore-database', restoreStartedAt, {
        target: status.identifier,
        endpoint: status.endpoint ?? null,
      });
    }
    return {
      restoreStartedAt,
      status: status.status,
      available: status.available,
      nextPollSeconds: nextPollSeconds(lastPollSeconds),
    };
  }

  /** The seed's restore_blockchain_data: a PVC and a Job in the DR cluster that syncs the backup into it. */
  async startBlockchainRestore(run: RecoveryRunState, backup: BackupLocation) {
    const restoreStartedAt = this.ports.clock().toISOString();
    await this.ports.cluster.applyManifests({
      namespace: run.plan.namespace,
      manifests: [namespaceManifest(run)],
      fieldManager: 'aor',
    });
    await this.ports.cluster.createPersistentVolumeClaim({
      namespace: run.plan.namespace,
      name: run.plan.volumeClaim,
      storageClassName: this.settings.storageClass,
      storage: this.settings.blockchainVolumeSize,
    });
    await this.ports.cluster.applyManifests({
      namespace: run.plan.namespace,
      manifests: [blockchainRestoreJob(run, backup, this.settings)],
      fieldManager: 'aor',
    });
    await this.record(
      run,
      'recovery.blockchain-restore-started',
      'info',
      { source: `s3://${backup.bucket}/${backup.prefix}`, bytes: backup.bytes },
      { job: run.plan.restoreJob },
    );
    return { restoreStartedAt, complete: false, nextPollSeconds: nextPollSeconds(undefined) };
  }

  async checkBlockchainRestore(run: RecoveryRunState, restoreStartedAt: string, lastPollSeconds: number) {
    const job = await this.ports.cluster.jobStatus({
      namespace: run.plan.namespace,
      name: run.plan.restoreJob,
    });
    if (job.state === 'failed')
      throw new BlockchainRestoreFailedError(`job ${job.name} failed: ${job.message ?? 'no reason given'}`);
    const complete = job.state === 'complete';
    if (complete)
      await this.finishedStep(run, 'restore-blockchain-data', restoreStartedAt, { job: job.name });
    return { restoreStartedAt, complete, nextPollSeconds: nextPollSeconds(lastPollSeconds) };
  }

  /** The seed's restore_applications: server-side apply of the configured manifests, in order. */
  async applyApplications(run: RecoveryRunState) {
    const appliedAt = this.ports.clock().toISOString();
    const applied = await this.ports.cluster.applyManifests({
      namespace: run.plan.namespace,
      manifests: [namespaceManifest(run), ...this.settings.manifests.map((m) => labelledForRun(run, m))],
      fieldManager: 'aor',
    });
    await this.record(
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
      await this.finishedStep(run, 'restore-applications', appliedAt, {
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
    return this.step(run, 'validate-recovery', () => checks(run, site));
  }

  /**
   * Holds the routing switch for an operator: keeps the workflow's task token with the run and
   * asks the ops channel to approve or reject it. The workflow waits until one of them does.
   */
  async requestApproval(run: RecoveryRunState, taskToken: string) {
    const requestedAt = this.ports.clock().toISOString();
    await this.ports.runs.putApprovalToken(run.runId, taskToken, requestedAt);
    const { recordName, drTarget } = this.settings.routing;
    const messageId = await this.ports.notifier.publish('ops-team', {
      subject: `[DR] ${run.runId} awaits approval to switch ${recordName}`,
      message: [
        `Disaster recovery run ${run.runId} has restored and validated the DR site.`,
        `It will switch ${recordName} to ${drTarget} once approved.`,
        '',
        `Approve: aor dr approve ${run.runId} --stack AorDisasterRecovery`,
        `Reject:  aor dr reject ${run.runId} --stack AorDisasterRecovery --reason "<why>"`,
      ].join('\n'),
      attributes: { runId: run.runId, kind: 'dr-approval' },
    });
    await this.record(
      run,
      'recovery.approval-requested',
      'info',
      { record: recordName, target: drTarget },
      { messageId },
    );
    return { requestedAt, messageId };
  }

  /** The seed's update_routing: Route 53 UPSERT to the DR target; INSYNC is awaited by polling. */
  async switchRouting(run: RecoveryRunState) {
    const { routing } = this.settings;
    const change = await this.ports.routing.switchRecord({
      hostedZoneId: routing.hostedZoneId,
      recordName: routing.recordName,
      target: routing.drTarget,
      comment: `AOR disaster recovery ${run.runId}`,
    });
    await this.record(
      run,
      'recovery.routing-switched',
      'info',
      { record: routing.recordName, target: routing.drTarget },
      { changeId: change.changeId },
    );
    return {
      switchedAt: this.ports.clock().toISOString(),
      changeId: change.changeId,
      inSync: change.status === 'INSYNC',
      nextPollSeconds: 15,
    };
  }

  async checkRouting(run: RecoveryRunState, switchedAt: string, changeId: string) {
    const change = await this.ports.routing.changeStatus(changeId);
    const inSync = change.status === 'INSYNC';
    if (inSync) {
      const { targetGroupArn, healthCheckPath } = this.settings.routing;
      if (targetGroupArn)
        await this.ports.routing.setHealthCheckPath({ targetGroupArn, path: healthCheckPath });
      await this.finishedStep(run, 'switch-routing', switchedAt, {
        changeId,
        record: this.settings.routing.recordName,
      });
    }
    return { switchedAt, changeId, inSync, nextPollSeconds: 15 };
  }

  /** Measures RTO and RPO, cleans up a drill, records the run and frees the lock. */
  async finish(
    run: RecoveryRunState,
    site: SiteValidation,
    restores: { database?: string; blockchain?: string },
  ): Promise<RecoveryMeasurement & { steps: RecoveryStepRecord[]; cleanedUp: CleanUp | null }> {
    // The recovery is done when its last step is: a drill's clean-up afterwards is not part of it.
    const finishedAt = this.ports.clock().toISOString();
    // A drill leaves nothing behind in the DR site.
    const cleanedUp = run.request.dryRun ? await this.cleanUp(run) : null;
    const measurement = measureRecovery({
      startedAt: run.startedAt,
      finishedAt,
      restores: [
        ...(site.snapshot && restores.database
          ? [{ takenAt: site.snapshot.createdAt, restoreStartedAt: restores.database }]
          : []),
        ...(site.backup && restores.blockchain
          ? [{ takenAt: site.backup.takenAt, restoreStartedAt: restores.blockchain }]
          : []),
      ],
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
    await this.record(
      run,
      'recovery.completed',
      'succeeded',
      {},
      {
        ...measurement,
        steps: steps.map((s) => `${s.step}:${s.status}`),
        cleanedUp,
      },
    );
    await this.ports.runs.releaseLock(run.runId);
    return { ...measurement, steps, cleanedUp };
  }

  /**
   * A step failed: deletes what this run restored into the DR site (its tagged database, its
   * objects in the cluster), leaves routing untouched, records why, and frees the lock.
   */
  async compensate(run: RecoveryRunState, failedStep: string, error: { Error: string; Cause: string }) {
    const cleaned = await this.cleanUp(run);
    const finishedAt = this.ports.clock().toISOString();
    await this.ports.runs.putRun({
      runId: run.runId,
      execution: run.execution,
      request: run.request,
      status: 'failed',
      startedAt: run.startedAt,
      finishedAt,
      failedStep,
      error: `${error.Error}: ${lambdaErrorMessage(error.Cause)}`.slice(0, 2000),
    });
    await this.record(
      run,
      'recovery.compensated',
      'failed',
      { failedStep, error: error.Error },
      { ...cleaned },
    );
    await this.ports.runs.releaseLock(run.runId);
    return { failedStep, error: error.Error, ...cleaned };
  }

  private async cleanUp(run: RecoveryRunState): Promise<CleanUp> {
    const database = run.plan.restoresData
      ? await this.ports.recovery.deleteRestored(run.plan.database)
      : { deleted: false };
    const objects = await this.ports.cluster.deleteObjects(createdObjects(run.plan, this.settings));
    return { databaseDeleted: database.deleted, objectsDeleted: objects.deleted.length };
  }

  private async step<T>(run: RecoveryRunState, step: string, work: () => Promise<T>): Promise<T> {
    const startedAt = this.ports.clock().toISOString();
    const result = await work();
    await this.finishedStep(run, step, startedAt, result as Record<string, unknown>);
    return result;
  }

  private async finishedStep(
    run: RecoveryRunState,
    step: string,
    startedAt: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    const finishedAt = this.ports.clock().toISOString();
    const finished: RecoveryStepRecord = {
      step,
      startedAt,
      finishedAt,
      status: 'succeeded',
      details: JSON.parse(JSON.stringify(details)),
    };
    const stored = await this.owe(run, {
      record: this.auditRecord(
        run,
        `recovery.${step}`,
        'succeeded',
        {},
        { durationMs: Date.parse(finishedAt) - Date.parse(startedAt), ...finished.details },
      ),
      step: finished,
    });
    // As its first attempt stored it: a retried step is listed once, with that attempt's times.
    await this.ports.runs.recordStep(run.runId, stored.step);
  }

  private async record(
    run: RecoveryRunState,
    action: string,
    outcome: AuditRecord['outcome'],
    inputs: Record<string, unknown>,
    outputs: Record<string, unknown>,
  ): Promise<void> {
    await this.owe(run, { record: this.auditRecord(run, action, outcome, inputs, outputs) });
  }

  /** Appends what the run owes for an action, once per run: a retry appends the stored entry. */
  private async owe<Entry extends OwedEntry>(run: RecoveryRunState, entry: Entry): Promise<Entry> {
    const journal = {
      putOnce: (key: string, owed: Entry) => this.ports.runs.putRecordOnce(run.runId, key, owed),
      markAppended: (key: string) => this.ports.runs.markRecordAppended(run.runId, key),
    };
    return appendOwedRecord(journal, this.ports.trail, `${run.runId}/${entry.record.action}`, entry);
  }

  private auditRecord(
    run: RecoveryRunState,
    action: string,
    outcome: AuditRecord['outcome'],
    inputs: Record<string, unknown>,
    outputs: Record<string, unknown>,
  ): AuditRecord {
    return {
      action,
      target: { type: 'recovery-run', id: run.runId },
      actor: { type: 'workflow', id: 'aor-disaster-recovery', execution: run.execution },
      occurredAt: this.ports.clock().toISOString(),
      inputs: JSON.parse(JSON.stringify({ ...inputs, dryRun: run.request.dryRun })),
      outputs: JSON.parse(JSON.stringify(outputs)),
      outcome,
      runId: run.runId,
    };
  }
}
