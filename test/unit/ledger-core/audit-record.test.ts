import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AuditRecord,
  canonicalEntryBytes,
  entryHash,
  InvalidAuditRecordError,
  MAX_ENTRY_BYTES,
  parseAuditRecord,
} from '../../../lambdas/core/ledger/audit-record';

// RFC 8785 §3.2.2 (input) and §3.2.4 (UTF-8 of the canonical output), as published with the RFC author's test
// data: github.com/cyberphone/json-canonicalization testdata/input/values.json and testdata/outhex/values.txt
// (commit 19d51d7fe467d4706a3ff08adf8a748f29fc21e0).
const RFC8785_VALUES_INPUT = String.raw`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`;
const RFC8785_VALUES_OUTHEX = `
7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e
75 6d 62 65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30
2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24
5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`;

// RFC 8785 §3.2.3 property sorting (UTF-16 code units): testdata/input/weird.json and testdata/outhex/weird.txt.
const RFC8785_SORTING_INPUT = String.raw`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\u000a": "Newline",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}`;
const RFC8785_SORTING_OUTHEX = `
7b 22 5c 6e 22 3a 22 4e 65 77 6c 69 6e 65 22 2c 22 5c 72 22 3a 22 43 61 72 72 69 61 67 65 20 52
65 74 75 72 6e 22 2c 22 31 22 3a 22 4f 6e 65 22 2c 22 3c 2f 73 63 72 69 70 74 3e 22 3a 22 42 72
6f 77 73 65 72 20 43 68 61 6c 6c 65 6e 67 65 22 2c 22 c2 80 22 3a 22 43 6f 6e 74 72 6f 6c 7f 22
2c 22 c3 b6 22 3a 22 4c 61 74 69 6e 20 53 6d 61 6c 6c 20 4c 65 74 74 65 72 20 4f 20 57 69 74 68
20 44 69 61 65 72 65 73 69 73 22 2c 22 e2 82 ac 22 3a 22 45 75 72 6f 20 53 69 67 6e 22 2c 22 f0
9f 98 82 22 3a 22 53 6d 69 6c 65 79 22 2c 22 ef ac b3 22 3a 22 48 65 62 72 65 77 20 4c 65 74 74
65 72 20 44 61 6c 65 74 20 57 69 74 68 20 44 61 67 65 73 68 22 7d`;

const outhex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

const record: AuditRecord = {
  action: 'route53.failover',
  target: { type: 'route53-record', id: 'api.rooivalk.example' },
  actor: { type: 'workflow', id: 'disaster-recovery', execution: 'exec-42', state: 'Switch Route 53' },
  occurredAt: '2026-11-02T10:00:00.000Z',
  inputs: { drSite: 'us-gov-east-1', dryRun: false },
  outputs: { changeId: 'C123' },
  outcome: 'succeeded',
  evidence: [{ sha256: 'ab'.repeat(32), uri: 's3://aor-evidence/run-7/report.json', bytes: 512 }],
  incidentId: 'INC-2026-0042',
  runId: 'run-7',
};

/** The same object built with every key, at every depth, in reverse insertion order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, inner]) => [key, reversedKeys(inner)]),
  );
}

function fieldOf(input: unknown): string | undefined {
  try {
    parseAuditRecord(input);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidAuditRecordError) return error.field;
    throw error;
  }
}

describe('canonical entry bytes', () => {
  it('do not depend on key order', () => {
    const reordered = reversedKeys(record) as AuditRecord;
    expect(Object.keys(reordered)[0]).toBe('runId');
    expect(Buffer.from(canonicalEntryBytes(reordered))).toEqual(Buffer.from(canonicalEntryBytes(record)));
  });

  it('embed the RFC 8785 canonical form of the published examples', () => {
    const bytes = canonicalEntryBytes({
      action: 'jcs.example',
      target: { type: 'rfc', id: '8785' },
      actor: { type: 'system', id: 'test' },
      occurredAt: '2026-11-02T10:00:00Z',
      inputs: JSON.parse(RFC8785_VALUES_INPUT),
      outputs: JSON.parse(RFC8785_SORTING_INPUT),
      outcome: 'info',
    });
    const expected = Buffer.concat([
      Buffer.from('{"action":"jcs.example","actor":{"id":"test","type":"system"},"inputs":'),
      outhex(RFC8785_VALUES_OUTHEX),
      Buffer.from(',"occurredAt":"2026-11-02T10:00:00Z","outcome":"info","outputs":'),
      outhex(RFC8785_SORTING_OUTHEX),
      Buffer.from(',"target":{"id":"8785","type":"rfc"}}'),
    ]);
    expect(Buffer.from(bytes).toString('hex')).toBe(expected.toString('hex'));
  });

  it('are what the entry hash commits to (RFC 9162 leaf hash)', () => {
    const expected = createHash('sha256')
      .update(Uint8Array.of(0))
      .update(canonicalEntryBytes(record))
      .digest('hex');
    expect(entryHash(record)).toBe(expected);
  });

  it('refuse records over the entry size limit', () => {
    const big = { ...record, inputs: { blob: 'x'.repeat(MAX_ENTRY_BYTES) } };
    expect(() => canonicalEntryBytes(big)).toThrow(InvalidAuditRecordError);
  });

  it('refuse to canonicalize a record that does not validate', () => {
    expect(() => canonicalEntryBytes({ ...record, outcome: 'maybe' } as unknown as AuditRecord)).toThrow(
      InvalidAuditRecordError,
    );
  });
});

describe('audit record validation', () => {
  it('accepts a complete record and a minimal one', () => {
    expect(parseAuditRecord(record)).toEqual(record);
    const { action, target, actor, occurredAt, outcome } = record;
    expect(parseAuditRecord({ action, target, actor, occurredAt, outcome })).toEqual({
      action,
      target,
      actor,
      occurredAt,
      outcome,
    });
  });

  it.each([
    ['action', { ...record, action: undefined }],
    ['action', { ...record, action: 'fail over' }],
    ['action', { ...record, action: 'a'.repeat(129) }],
    ['target.id', { ...record, target: { type: 'route53-record', id: '' } }],
    ['target.owner', { ...record, target: { ...record.target, owner: 'me' } }],
    ['actor.type', { ...record, actor: { ...record.actor, type: 'robot' } }],
    ['actor.state', { ...record, actor: { ...record.actor, state: 's'.repeat(81) } }],
    ['occurredAt', { ...record, occurredAt: '2026-11-02T12:00:00+02:00' }],
    ['occurredAt', { ...record, occurredAt: '2026-11-02' }],
    ['occurredAt', { ...record, occurredAt: '2026-02-30T00:00:00Z' }],
    ['outcome', { ...record, outcome: 'maybe' }],
    ['inputs.when', { ...record, inputs: { when: new Date() } }],
    ['inputs.ratio', { ...record, inputs: { ratio: Number.NaN } }],
    ['inputs.missing', { ...record, inputs: { missing: undefined } }],
    ['outputs', { ...record, outputs: ['not', 'an', 'object'] }],
    ['evidence.0.sha256', { ...record, evidence: [{ sha256: 'AB'.repeat(32) }] }],
    ['evidence.0.bytes', { ...record, evidence: [{ sha256: 'ab'.repeat(32), bytes: -1 }] }],
    ['evidence.0.uri', { ...record, evidence: [{ sha256: 'ab'.repeat(32), uri: 'not a uri' }] }],
    ['incidentId', { ...record, incidentId: '' }],
    ['extra', { ...record, extra: true }],
    ['(record)', 'not a record'],
  ])('names %s as the bad field', (field, input) => {
    expect(fieldOf(input)).toBe(field);
  });

  it('says which field is wrong in the message', () => {
    expect(() => parseAuditRecord({ ...record, actor: { ...record.actor, id: '' } })).toThrow(/actor\.id/);
  });
});
