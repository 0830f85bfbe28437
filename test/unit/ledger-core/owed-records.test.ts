import { describe, expect, it } from 'vitest';
import { type AuditRecord, InvalidAuditRecordError } from '../../../lambdas/core/ledger/audit-record';
import {
  appendOwedRecord,
  type OwedEntry,
  type OwedRecordJournal,
  settleOwedRecords,
  type UnsettledEntry,
} from '../../../lambdas/core/ledger/owed-records';
import { namedError, RecordingTrail } from '../../support/recording-trail';

interface StepEntry extends OwedEntry {
  readonly shown: string;
}

/** A journal in memory; it keeps copies, as a table does, so nothing is shared with the caller. */
class MemoryJournal implements OwedRecordJournal<StepEntry> {
  readonly entries = new Map<string, string>();
  readonly appended = new Set<string>();
  failures = 0;

  async markAppended(idempotencyKey: string): Promise<void> {
    this.appended.add(idempotencyKey);
  }

  /** What a table's query for entries not yet appended returns. */
  unsettled(): UnsettledEntry<StepEntry>[] {
    return [...this.entries]
      .filter(([key]) => !this.appended.has(key))
      .map(([idempotencyKey, entry]) => ({ idempotencyKey, entry: JSON.parse(entry) as StepEntry }));
  }

  async putOnce(idempotencyKey: string, entry: StepEntry): Promise<StepEntry> {
    if (this.failures-- > 0) throw namedError('ProvisionedThroughputExceededException');
    if (!this.entries.has(idempotencyKey)) this.entries.set(idempotencyKey, JSON.stringify(entry));
    return JSON.parse(this.entries.get(idempotencyKey) ?? '') as StepEntry;
  }
}

function record(occurredAt: string, durationMs: number): AuditRecord {
  return {
    action: 'recovery.validate-site',
    target: { type: 'recovery-run', id: 'DR-20261123T040000Z-7f3a2c' },
    actor: { type: 'workflow', id: 'aor-disaster-recovery' },
    occurredAt,
    outputs: { durationMs },
    outcome: 'succeeded',
    runId: 'DR-20261123T040000Z-7f3a2c',
  };
}

const KEY = 'DR-20261123T040000Z-7f3a2c/recovery.validate-site';

describe('appendOwedRecord', () => {
  it('appends what the first attempt stored, whatever a later attempt built, as one ledger entry', async () => {
    const journal = new MemoryJournal();
    const trail = new RecordingTrail();
    trail.failNext('ThrottlingException');
    const first = { record: record('2026-11-23T04:00:01.000Z', 900), shown: 'first attempt' };
    await expect(appendOwedRecord(journal, trail, KEY, first)).rejects.toThrow('ThrottlingException');

    const retry = { record: record('2026-11-23T04:00:06.000Z', 850), shown: 'retry' };
    const stored = await appendOwedRecord(journal, trail, KEY, retry);
    await appendOwedRecord(journal, trail, KEY, retry);

    expect(stored).toEqual(first);
    expect(trail.stored()).toEqual([expect.objectContaining({ idempotencyKey: KEY, record: first.record })]);
  });

  it('keeps separate keys apart', async () => {
    const journal = new MemoryJournal();
    const trail = new RecordingTrail();
    await appendOwedRecord(journal, trail, `${KEY}/1`, {
      record: record('2026-11-23T04:00:01.000Z', 1),
      shown: '1',
    });
    await appendOwedRecord(journal, trail, `${KEY}/2`, {
      record: record('2026-11-23T04:00:02.000Z', 2),
      shown: '2',
    });
    expect(trail.stored().map((s) => s.idempotencyKey)).toEqual([`${KEY}/1`, `${KEY}/2`]);
  });

  it('stores nothing and appends nothing for a record the ledger would refuse', async () => {
    const journal = new MemoryJournal();
    const trail = new RecordingTrail();
    const invalid = { record: { ...record('yesterday', 1) }, shown: 'invalid' };
    await expect(appendOwedRecord(journal, trail, KEY, invalid)).rejects.toThrow(InvalidAuditRecordError);
    expect(journal.entries.size).toBe(0);
    expect(trail.calls).toEqual([]);
  });

  it('appends nothing when the entry cannot be stored', async () => {
    const journal = new MemoryJournal();
    journal.failures = 1;
    const trail = new RecordingTrail();
    const entry = { record: record('2026-11-23T04:00:01.000Z', 900), shown: 'first attempt' };
    await expect(appendOwedRecord(journal, trail, KEY, entry)).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    expect(trail.calls).toEqual([]);
  });

  it('settles what an earlier attempt stored and could not append, once, when a retry records under another key', async () => {
    const journal = new MemoryJournal();
    const trail = new RecordingTrail();
    trail.failNext('ThrottlingException');
    const firstAttempt = { record: record('2026-11-23T04:00:01.000Z', 900), shown: 'attempt 1 failed' };
    await expect(appendOwedRecord(journal, trail, `${KEY}/attempt-1`, firstAttempt)).rejects.toThrow();
    expect(journal.unsettled().map((u) => u.idempotencyKey)).toEqual([`${KEY}/attempt-1`]);

    expect(await settleOwedRecords(journal.unsettled(), journal, trail)).toBe(1);
    await appendOwedRecord(journal, trail, `${KEY}/attempt-2`, {
      record: record('2026-11-23T04:00:05.000Z', 800),
      shown: 'attempt 2',
    });
    expect(await settleOwedRecords(journal.unsettled(), journal, trail)).toBe(0);
    expect(trail.stored().map((s) => s.idempotencyKey)).toEqual([`${KEY}/attempt-1`, `${KEY}/attempt-2`]);
  });
});
