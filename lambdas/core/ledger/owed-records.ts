/**
 * The records a workflow step owes the audit ledger, appended exactly once however often Step
 * Functions retries the step.
 *
 * A retry repeats a task whose first attempt may have changed state and then failed to append
 * (throttled), or appended and then lost the answer. Rebuilding the record on the retry gives other
 * bytes (the clock, a duration, a version moved on), which the ledger takes as a second record under
 * a new key, or refuses as an IdempotencyConflictError under the same one. So each domain keeps a
 * write-once journal, in its own table, of what its steps owe, under the record's idempotency key:
 * the first attempt's entry is stored before anything is appended, and every attempt appends the
 * stored record, which the ledger sees as a duplicate of the same bytes.
 */
import { type AuditRecord, canonicalEntryBytes } from './audit-record';
import type { AuditTrail } from './ledger';

/** What a step owes: the ledger record, beside what its domain shows of the same event. */
export interface OwedEntry {
  readonly record: AuditRecord;
}

/** A domain's write-once journal of owed entries, keyed by the records' idempotency keys. */
export interface OwedRecordJournal<Entry extends OwedEntry> {
  /** Stores the entry unless one is stored under the key; returns the stored one either way. */
  putOnce(idempotencyKey: string, entry: Entry): Promise<Entry>;
  /** Notes that the ledger holds the record stored under the key, so no one settles it again. */
  markAppended(idempotencyKey: string): Promise<void>;
}

/** A stored entry whose record may not have reached the ledger yet. */
export interface UnsettledEntry<Entry extends OwedEntry> {
  readonly idempotencyKey: string;
  readonly entry: Entry;
}

/**
 * Stores what the step owes under its key, unless an earlier attempt did, then appends the stored
 * record. Returns the stored entry: what the ledger holds, for the domain to show instead of what
 * this attempt built.
 */
export async function appendOwedRecord<Entry extends OwedEntry>(
  journal: OwedRecordJournal<Entry>,
  trail: AuditTrail,
  idempotencyKey: string,
  entry: Entry,
): Promise<Entry> {
  // The ledger's own check, first: a record it would refuse is never stored, or every retry
  // would fetch and fail on it again.
  canonicalEntryBytes(entry.record);
  const stored = await journal.putOnce(idempotencyKey, entry);
  await trail.append(stored.record, idempotencyKey);
  await journal.markAppended(idempotencyKey);
  return stored;
}

/**
 * Appends the records an earlier attempt stored and then failed to append. A retry that records
 * its own outcome under a key of its own (a second attempt of an action is a second fact) would
 * otherwise leave the first attempt's record in the journal only: so a step settles what is owed
 * before it acts. An entry appended but not marked is appended again, which the ledger takes as a
 * duplicate.
 */
export async function settleOwedRecords<Entry extends OwedEntry>(
  unsettled: readonly UnsettledEntry<Entry>[],
  journal: OwedRecordJournal<Entry>,
  trail: AuditTrail,
): Promise<number> {
  for (const { idempotencyKey, entry } of unsettled) {
    await trail.append(entry.record, idempotencyKey);
    await journal.markAppended(idempotencyKey);
  }
  return unsettled.length;
}
