import type { OwedEntry } from '../ledger/owed-records';
import type { ApprovalDecision, StartRequest } from './approvals';
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
  /** When `aor dr abandon` removed what the failed run had kept. */
  readonly abandonedAt?: string;
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
  /** Frees the lock if this execution holds it (whatever run id it took it under), and never another's. */
  releaseLockOf(execution: string): Promise<void>;
  putRun(run: RecoveryRunRecord): Promise<void>;
  getRun(runId: string): Promise<RecoveryRunRecord | undefined>;
  recordStep(runId: string, step: RecoveryStepRecord): Promise<void>;
  /**
   * Stores what a step of the run owes the ledger unless an earlier attempt stored it under this
   * idempotency key; returns the stored entry either way.
   */
  putRecordOnce<Entry extends OwedEntry>(runId: string, idempotencyKey: string, entry: Entry): Promise<Entry>;
  /** True when an earlier attempt stored a record under the key: what it did, a retry must not redo. */
  hasRecord(runId: string, idempotencyKey: string): Promise<boolean>;
  /** Notes that the ledger holds the record stored under the key. */
  markRecordAppended(runId: string, idempotencyKey: string): Promise<void>;
  readSteps(runId: string): Promise<RecoveryStepRecord[]>;
  /** When the run asked for its routing approval (set once; a retry keeps the first time). */
  putApprovalRequest(runId: string, requestedAt: string): Promise<string>;
  /** When the run asked for its routing approval, if it has. */
  approvalRequestedAt(runId: string): Promise<string | undefined>;
  /** Every decision on the run's routing switch, each by the person whose user id keys it. */
  approvalDecisions(runId: string): Promise<ApprovalDecision[]>;
  /** A person's decision, written with their own credentials (the table lets them write only theirs). */
  putApprovalDecision(decision: ApprovalDecision): Promise<void>;
  /** Who said they start this execution (`aor dr start`), each under their own user id. */
  startRequests(executionName: string): Promise<StartRequest[]>;
  putStartRequest(request: StartRequest): Promise<void>;
  /** Every run's record, newest first. */
  listRuns(): Promise<RecoveryRunRecord[]>;
}
