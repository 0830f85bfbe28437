import type { OwedEntry } from '../ledger/owed-records';
import type { RecoveryRequest } from './recovery';

export interface RecoveryStepRecord {
  readonly step: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: 'succeeded' | 'failed' | 'skipped';
  readonly details?: Record<string, unknown>;
}

export interface RecoveryRunRecord {
  readonly runId: string;
  readonly execution: string;
  readonly request: RecoveryRequest;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly failedStep?: string;
  readonly error?: string;
  readonly rtoSeconds?: number;
  readonly rpoSeconds?: number | null;
}

export interface LockHolder {
  readonly runId: string;
  /** The execution running it, which a retry of its start recognises; absent on older locks. */
  readonly execution?: string;
  readonly acquiredAt: string;
  /** After this the lock is free for the taking: a run that died cannot hold it for ever. */
  readonly expiresAt: string;
}

/** The runs table: one run at a time (the lock), each run's record, its steps and what they owe the ledger. */
export interface RecoveryRunStore {
  acquireLock(
    holder: LockHolder,
    now: Date,
  ): Promise<{ acquired: true } | { acquired: false; holder: LockHolder }>;
  /** Frees the lock if this run still holds it. */
  releaseLock(runId: string): Promise<void>;
  putRun(run: RecoveryRunRecord): Promise<void>;
  getRun(runId: string): Promise<RecoveryRunRecord | undefined>;
  recordStep(runId: string, step: RecoveryStepRecord): Promise<void>;
  /**
   * Stores what a step of the run owes the ledger unless an earlier attempt stored it under this
   * idempotency key; returns the stored entry either way.
   */
  putRecordOnce<Entry extends OwedEntry>(runId: string, idempotencyKey: string, entry: Entry): Promise<Entry>;
  /** Notes that the ledger holds the record stored under the key. */
  markRecordAppended(runId: string, idempotencyKey: string): Promise<void>;
  readSteps(runId: string): Promise<RecoveryStepRecord[]>;
  /** The task token the run waits on for its routing approval. */
  putApprovalToken(runId: string, taskToken: string, requestedAt: string): Promise<void>;
  approvalToken(runId: string): Promise<string | undefined>;
}
