/**
 * How a recovery run writes down what it did: each step with its duration in the runs table, and
 * each action in the audit ledger, once per run however often Step Functions retries a step. Every
 * action happens at most once in a run, so `<runId>/<action>` names it, and a retry appends the
 * entry its first attempt stored.
 */
import type { AuditRecord } from '../ledger/audit-record';
import type { AuditTrail } from '../ledger/ledger';
import { appendOwedRecord, type OwedEntry } from '../ledger/owed-records';
import { RECOVERY_STATE_MACHINE_NAME } from '../../shared/state-machine-names';
import type { RecoveryRequest } from './recovery';
import type { RecoveryRunStore, RecoveryStepRecord } from './run-store';

/** What the recorder needs to know of a run. */
export interface RecordedRun {
  readonly runId: string;
  readonly execution: string;
  readonly request: Pick<RecoveryRequest, 'dryRun'>;
}

export interface RunRecorderPorts {
  readonly runs: RecoveryRunStore;
  readonly trail: AuditTrail;
  readonly clock: () => Date;
}

export class RunRecorder {
  constructor(private readonly ports: RunRecorderPorts) {}

  /** Runs a step's work and records it as finished with what it returned. */
  async step<T>(run: RecordedRun, step: string, work: () => Promise<T>): Promise<T> {
    const startedAt = this.ports.clock().toISOString();
    const result = await work();
    await this.finishedStep(run, step, startedAt, result as Record<string, unknown>);
    return result;
  }

  async finishedStep(
    run: RecordedRun,
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

  async record(
    run: RecordedRun,
    action: string,
    outcome: AuditRecord['outcome'],
    inputs: Record<string, unknown>,
    outputs: Record<string, unknown>,
  ): Promise<void> {
    await this.owe(run, { record: this.auditRecord(run, action, outcome, inputs, outputs) });
  }

  /**
   * Tells people, then records the action with the notice's message id. A retry that finds the
   * action stored tells nobody again and appends what its first attempt stored. (A notice sent
   * by an attempt that then failed to store its record is sent again: at least once, never lost.)
   */
  async recordNotified(
    run: RecordedRun,
    action: string,
    outcome: AuditRecord['outcome'],
    inputs: Record<string, unknown>,
    outputs: Record<string, unknown>,
    notify: () => Promise<string>,
  ): Promise<void> {
    const told = await this.ports.runs.hasRecord(run.runId, this.key(run, action));
    const messageId = told ? null : await notify();
    await this.record(run, action, outcome, inputs, { ...outputs, messageId });
  }

  private key(run: RecordedRun, action: string): string {
    return `${run.runId}/${action}`;
  }

  /** Appends what the run owes for an action, once per run: a retry appends the stored entry. */
  private async owe<Entry extends OwedEntry>(run: RecordedRun, entry: Entry): Promise<Entry> {
    const journal = {
      putOnce: (key: string, owed: Entry) => this.ports.runs.putRecordOnce(run.runId, key, owed),
      markAppended: (key: string) => this.ports.runs.markRecordAppended(run.runId, key),
    };
    return appendOwedRecord(journal, this.ports.trail, this.key(run, entry.record.action), entry);
  }

  private auditRecord(
    run: RecordedRun,
    action: string,
    outcome: AuditRecord['outcome'],
    inputs: Record<string, unknown>,
    outputs: Record<string, unknown>,
  ): AuditRecord {
    return {
      action,
      target: { type: 'recovery-run', id: run.runId },
      actor: { type: 'workflow', id: RECOVERY_STATE_MACHINE_NAME, execution: run.execution },
      occurredAt: this.ports.clock().toISOString(),
      inputs: JSON.parse(JSON.stringify({ ...inputs, dryRun: run.request.dryRun })),
      outputs: JSON.parse(JSON.stringify(outputs)),
      outcome,
      runId: run.runId,
    };
  }
}
