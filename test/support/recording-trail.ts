import { type AuditRecord, canonicalEntryBytes, entryHash } from '../../lambdas/core/ledger/audit-record';
import {
  type AppendReceipt,
  type AuditTrail,
  IdempotencyConflictError,
} from '../../lambdas/core/ledger/ledger';

/** An error the way the SDK names it (`ThrottlingException`, …): what a task's Retry matches. */
export function namedError(name: string, message = `${name} (injected by the test)`): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

interface Failure {
  readonly name: string;
  readonly landed: boolean;
}

/**
 * An `AuditTrail` that keeps what the ledger keeps, for tests of the services that record to it:
 * one entry per idempotency key, as its canonical bytes; the same key with the same bytes is a
 * duplicate that returns a receipt, with other bytes an IdempotencyConflictError. It can be told
 * to fail a call, before or after the entry lands, as a throttled ledger does.
 */
export class RecordingTrail implements AuditTrail {
  /** Every call in order, failed ones included: what each attempt tried to append. */
  readonly calls: { readonly idempotencyKey: string; readonly entry: string }[] = [];
  private readonly entries = new Map<string, string>();
  private readonly failures = new Map<number, Failure>();

  /**
   * Makes call `n` (1-based, over the trail's life) throw an error named `name`. With `landed`,
   * the entry is kept before the error is thrown: a response lost after the write.
   */
  failCall(n: number, name = 'ThrottlingException', options: { landed?: boolean } = {}): void {
    this.failures.set(n, { name, landed: options.landed ?? false });
  }

  /** Makes the next call fail; see `failCall`. */
  failNext(name = 'ThrottlingException', options: { landed?: boolean } = {}): void {
    this.failCall(this.calls.length + 1, name, options);
  }

  async append(record: AuditRecord, idempotencyKey: string): Promise<AppendReceipt> {
    const entry = Buffer.from(canonicalEntryBytes(record)).toString('utf8');
    this.calls.push({ idempotencyKey, entry });
    const failure = this.failures.get(this.calls.length);
    if (failure && !failure.landed) throw namedError(failure.name);
    const existing = this.entries.get(idempotencyKey);
    if (existing !== undefined && existing !== entry) {
      throw new IdempotencyConflictError(`idempotency key ${idempotencyKey} was used for a different record`);
    }
    this.entries.set(idempotencyKey, entry);
    if (failure) throw namedError(failure.name);
    return {
      idempotencyKey,
      leafHash: entryHash(record),
      receivedAt: record.occurredAt,
      status: 'pending',
      duplicate: existing !== undefined,
    };
  }

  /** The ledger's entries, in the order their keys were first appended. */
  stored(): { readonly idempotencyKey: string; readonly entry: string; readonly record: AuditRecord }[] {
    return [...this.entries].map(([idempotencyKey, entry]) => ({
      idempotencyKey,
      entry,
      record: JSON.parse(entry) as AuditRecord,
    }));
  }

  /** The stored entries of one action (`incident.opened`, `recovery.started`, …). */
  storedOf(action: string): ReturnType<RecordingTrail['stored']> {
    return this.stored().filter((stored) => stored.record.action === action);
  }

  /** What the attempts tried to append for one action, failed ones included, in call order. */
  attemptsOf(action: string): string[] {
    return this.calls
      .filter((call) => (JSON.parse(call.entry) as AuditRecord).action === action)
      .map((call) => call.entry);
  }
}
