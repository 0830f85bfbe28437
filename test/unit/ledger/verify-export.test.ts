import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, leafHash } from '../../../lambdas/core/ledger/merkle';
import { noteVerifier, signCheckpoint } from '../../../lambdas/core/ledger/signed-note';
import {
  type LedgerExportContents,
  type NamedNote,
  verifyLedgerExport,
} from '../../../lambdas/core/ledger/verify-export';
import {
  type FixtureLog,
  fixtureContents,
  fixtureEntry,
  fixtureLog,
  logKey,
  TEST_ORIGIN,
} from '../../support/ledger-fixtures';

const key = logKey(TEST_ORIGIN);
const verifiers = [noteVerifier(TEST_ORIGIN, key.publicKeyPem)];
// Three sequencer runs: checkpoints of 8, 15 and 20 entries.
const log = await fixtureLog(key, [8, 15, 20]);
// The same key signing a different history: entry 3 is another record.
const forked = await fixtureLog(key, [8, 12, 15, 20], (i) => fixtureEntry(i === 3 ? 1003 : i));

function verify(contents: LedgerExportContents, trusted: readonly NamedNote[] = []) {
  return verifyLedgerExport(contents, verifiers, trusted);
}

function noteOf(from: FixtureLog, treeSize: number, name = `trusted-${treeSize}.note`): NamedNote {
  const checkpoint = from.checkpoints.find((candidate) => candidate.treeSize === treeSize);
  if (!checkpoint) throw new RangeError(`no checkpoint of size ${treeSize}`);
  return { name, note: checkpoint.note };
}

function lines(contents: LedgerExportContents): string[] {
  return Buffer.from(contents.entries).toString('utf8').split('\n').slice(0, -1);
}

function withLines(
  contents: LedgerExportContents,
  edit: (lines: string[]) => string[],
): LedgerExportContents {
  return { ...contents, entries: Buffer.from(`${edit(lines(contents)).join('\n')}\n`, 'utf8') };
}

/** Entry `index` replaced, with its stored leaf hash replaced to match: only the signed roots can tell. */
function rewrittenWithLeafHash(contents: LedgerExportContents, index: number): LedgerExportContents {
  const other = fixtureEntry(1000 + index);
  const leafHashes = Buffer.from(contents.leafHashes);
  leafHashes.set(leafHash(Buffer.from(other, 'utf8')), index * 32);
  return { ...withLines(contents, (l) => l.map((line, i) => (i === index ? other : line))), leafHashes };
}

describe('verifying one log export', () => {
  it('accepts an untouched export and reports the latest root', () => {
    const result = verify(fixtureContents(log));
    expect(result).toMatchObject({ ok: true, entries: 20, checkpoints: 3 });
    expect(result.ok && result.rootHash).toBe(log.checkpoints[2]?.note.split('\n')[2]);
  });

  it.each([
    [
      'one entry changed',
      (l: string[]) => l.map((line, i) => (i === 7 ? line.replace('-7"', '-8"') : line)),
      7,
    ],
    ['an entry removed', (l: string[]) => l.filter((_, i) => i !== 5), 5],
    ['two entries swapped', (l: string[]) => [...l.slice(0, 3), l[4] ?? '', l[3] ?? '', ...l.slice(5)], 3],
    ['an entry inserted', (l: string[]) => [...l.slice(0, 10), l[2] ?? '', ...l.slice(10)], 10],
    ['an entry appended past the last checkpoint', (l: string[]) => [...l, l[0] ?? ''], 20],
  ])('names the first bad index when %s', (_case, edit, firstBadIndex) => {
    const result = verify(withLines(fixtureContents(log), edit));
    expect(result).toMatchObject({ ok: false, firstBadIndex });
  });

  it('refuses an entries file whose last line has no line break', () => {
    const contents = fixtureContents(log);
    const entries = contents.entries.subarray(0, -1);
    expect(verify({ ...contents, entries })).toMatchObject({ ok: false, firstBadIndex: 19 });
  });

  it('names the first checkpoint a changed stored leaf hash breaks', () => {
    const contents = fixtureContents(log);
    const leafHashes = Buffer.from(contents.leafHashes);
    leafHashes[12 * 32] = (leafHashes[12 * 32] ?? 0) ^ 0x01;
    expect(verify({ ...contents, leafHashes })).toMatchObject({
      ok: false,
      badCheckpoint: '15.note',
      firstBadIndex: 12,
    });
  });

  it.each([
    ['one missing', -32],
    ['one too many', 32],
  ])('refuses a leaf-hash count that is not the latest checkpoint’s (%s)', (_case, delta) => {
    const contents = fixtureContents(log);
    const leafHashes =
      delta < 0
        ? contents.leafHashes.subarray(0, delta)
        : Buffer.concat([contents.leafHashes, contents.leafHashes.subarray(0, delta)]);
    const result = verify({ ...contents, leafHashes });
    expect(result).toMatchObject({ ok: false, problem: expect.stringContaining('covers 20 entries') });
  });

  it('names a checkpoint whose signed text was altered', () => {
    const contents = fixtureContents(log);
    const checkpoints = contents.checkpoints.map((c) =>
      c.name === '15.note' ? { ...c, note: c.note.replace('\n15\n', '\n16\n') } : c,
    );
    expect(verify({ ...contents, checkpoints })).toMatchObject({ ok: false, badCheckpoint: '15.note' });
  });

  it('names the first checkpoint when another key is pinned', () => {
    const other = logKey(TEST_ORIGIN);
    const result = verifyLedgerExport(fixtureContents(log), [noteVerifier(TEST_ORIGIN, other.publicKeyPem)]);
    expect(result).toMatchObject({ ok: false, badCheckpoint: '8.note' });
  });

  it('refuses an export without a checkpoint', () => {
    expect(verify({ ...fixtureContents(log), checkpoints: [] })).toMatchObject({
      ok: false,
      problem: 'the export has no checkpoint',
    });
  });
});

describe('a checkpoint of the empty tree', () => {
  it('is compared with the empty root like any other, and later checkpoints still are', async () => {
    const withEmpty = await fixtureLog(key, [0, 8, 20]);
    expect(verify(fixtureContents(withEmpty))).toMatchObject({ ok: true, entries: 20, checkpoints: 3 });
    // Entry 5 and its stored leaf hash rewritten together: only the checkpoint at 8 can catch it,
    // which a size-0 checkpoint listed first used to switch off.
    expect(verify(rewrittenWithLeafHash(fixtureContents(withEmpty), 5))).toMatchObject({
      ok: false,
      badCheckpoint: '8.note',
    });
  });

  it('is refused when signed over a root other than SHA-256 of nothing', async () => {
    const rootHash = new Uint8Array(EMPTY_ROOT);
    rootHash[0] = (rootHash[0] ?? 0) ^ 0x01;
    const bad = await signCheckpoint({ origin: TEST_ORIGIN, treeSize: 0, rootHash }, key.signer);
    const contents = fixtureContents(log);
    const result = verify({
      ...contents,
      checkpoints: [{ name: '0.note', note: bad }, ...contents.checkpoints],
    });
    expect(result).toMatchObject({
      ok: false,
      badCheckpoint: '0.note',
      problem: expect.stringContaining('empty'),
    });
  });

  it('alone verifies an empty log', async () => {
    const empty = await fixtureLog(key, [0]);
    expect(verify(fixtureContents(empty))).toMatchObject({ ok: true, entries: 0, checkpoints: 1 });
  });
});

describe('the listing of checkpoints', () => {
  it('refuses a tree size listed twice, even with the same signed root', () => {
    const contents = fixtureContents(log);
    const [first, second, third] = contents.checkpoints;
    if (!first || !second || !third) throw new Error('fixture has three checkpoints');
    const checkpoints = [first, second, { name: '15-again.note', note: second.note }, third];
    expect(verify({ ...contents, checkpoints })).toMatchObject({
      ok: false,
      badCheckpoint: '15-again.note',
      problem: expect.stringContaining('repeats tree size 15'),
    });
  });

  it('refuses a repeated size even when it hides a rewritten entry after it', () => {
    // Listed twice, the size once stalled the pass so that no later checkpoint was compared.
    const contents = rewrittenWithLeafHash(fixtureContents(log), 17);
    const [first, second, third] = contents.checkpoints;
    if (!first || !second || !third) throw new Error('fixture has three checkpoints');
    const checkpoints = [first, second, { name: '15-again.note', note: second.note }, third];
    expect(verify({ ...contents, checkpoints })).toMatchObject({ ok: false, badCheckpoint: '15-again.note' });
  });

  it('names a checkpoint that rolls the tree back', () => {
    const contents = fixtureContents(log);
    const [first, second, third] = contents.checkpoints;
    if (!first || !second || !third) throw new Error('fixture has three checkpoints');
    expect(verify({ ...contents, checkpoints: [first, third, second] })).toMatchObject({
      ok: false,
      badCheckpoint: '15.note',
      problem: expect.stringContaining('rolls the tree back from 20 to 15'),
    });
  });
});

describe('checkpoints trusted from outside the export', () => {
  it('accepts several consistent ones, at listed sizes and between them', async () => {
    const between = await fixtureLog(key, [12, 20]);
    const trusted = [noteOf(log, 15), noteOf(between, 12), noteOf(log, 20)];
    expect(verify(fixtureContents(log), trusted)).toMatchObject({ ok: true });
  });

  it('detects a fork: the same key signed a different tree at a size the export covers', () => {
    // The export's own checkpoint of 15 matches its tree; only the trusted one disagrees.
    const result = verify(fixtureContents(log), [noteOf(log, 8), noteOf(forked, 15)]);
    expect(result).toMatchObject({
      ok: false,
      badCheckpoint: 'trusted-15.note',
      problem: expect.stringContaining('forked'),
    });
  });

  it('detects a fork at a size where the export has no checkpoint', () => {
    expect(verify(fixtureContents(log), [noteOf(forked, 12)])).toMatchObject({
      ok: false,
      badCheckpoint: 'trusted-12.note',
    });
  });

  it('detects a rewritten, re-signed export that is consistent in itself', () => {
    expect(verify(fixtureContents(forked))).toMatchObject({ ok: true });
    // Every entry matches its leaf hash and every listed checkpoint its tree: no index can be named.
    expect(verify(fixtureContents(forked), [noteOf(log, 20, 'kept-by-auditor.note')])).toEqual({
      ok: false,
      problem: expect.stringContaining('forked'),
      badCheckpoint: 'kept-by-auditor.note',
    });
  });

  it('names an export that stops before a trusted checkpoint as rolled back', async () => {
    const truncated = await fixtureLog(key, [8, 15]);
    expect(verify(fixtureContents(truncated))).toMatchObject({ ok: true });
    expect(verify(fixtureContents(truncated), [noteOf(log, 8), noteOf(log, 20)])).toMatchObject({
      ok: false,
      badCheckpoint: 'trusted-20.note',
      problem: expect.stringContaining('rolled back'),
    });
  });

  it('names a trusted checkpoint another key signed', async () => {
    const other = logKey(TEST_ORIGIN);
    const foreign = await fixtureLog(other, [20]);
    expect(verify(fixtureContents(log), [noteOf(foreign, 20)])).toMatchObject({
      ok: false,
      badCheckpoint: 'trusted-20.note',
      problem: expect.stringContaining('trusted checkpoint trusted-20.note'),
    });
  });
});
