import { describe, expect, it } from 'vitest';
import { ledgerOrigin, witnessName } from '../../../lambdas/core/ledger/ledger-contract';
import type { CosignedCheckpoint } from '../../../lambdas/core/ledger/ports';
import { signNote, verifierKey } from '../../../lambdas/core/ledger/signed-note';
import type { NamedNote } from '../../../lambdas/core/ledger/verify-export';
import {
  type LedgerExportsInput,
  type ExportedLog,
  MissingVerifierKeysError,
  SharedLogKeyError,
  UnpinnedTrustedCheckpointError,
  verifyLedgerExports,
} from '../../../lambdas/core/ledger/verify-ledgers';
import {
  cosign,
  cosignedCheckpoint,
  type FixtureLog,
  fixtureContents,
  fixtureEntry,
  fixtureLog,
  logKey,
} from '../../support/ledger-fixtures';

const WEST = ledgerOrigin('us-gov-west-1', 'localhost');
const EAST = ledgerOrigin('us-gov-east-1', 'localhost');
const westKey = logKey(WEST);
const eastKey = logKey(EAST);
const west = await fixtureLog(westKey, [8, 15, 20]);
const east = await fixtureLog(eastKey, [5, 12]);
// Each sequencer cosigned the other's checkpoints it saw: west saw east at 5 and 12, east saw west
// at 8 and 15 (not yet 20).
const westCosigned = [
  await cosignedCheckpoint(east, 5, westKey),
  await cosignedCheckpoint(east, 12, westKey),
];
const eastCosigned = [
  await cosignedCheckpoint(west, 8, eastKey),
  await cosignedCheckpoint(west, 15, eastKey),
];
const keys = [westKey.verifierKey, eastKey.verifierKey];

function logExport(log: FixtureLog, cosigned: readonly CosignedCheckpoint[]): ExportedLog {
  return {
    contents: fixtureContents(log),
    cosigned: cosigned.map(({ origin, treeSize, note }) => ({
      name: `${log.origin === WEST ? 'west' : 'east'}/cosigned/${treeSize}.note`,
      origin,
      note,
    })),
  };
}

function pristine(): ExportedLog[] {
  return [logExport(west, westCosigned), logExport(east, eastCosigned)];
}

function verify(logs: ExportedLog[], overrides: Partial<LedgerExportsInput> = {}) {
  return verifyLedgerExports({ logs, verifierKeys: keys, ...overrides });
}

function resultOf(result: ReturnType<typeof verify>, origin: string) {
  return result.logs.find((log) => log.origin === origin);
}

describe('verifying both regions’ logs, each witnessed by the other', () => {
  it('accepts a pristine export and reports who witnessed what', () => {
    const result = verify(pristine());
    expect(result.ok).toBe(true);
    expect(resultOf(result, WEST)).toMatchObject({
      ok: true,
      entries: 20,
      checkpoints: 3,
      witnessed: [
        { by: EAST, treeSize: 8, name: 'east/cosigned/8.note' },
        { by: EAST, treeSize: 15, name: 'east/cosigned/15.note' },
      ],
    });
    expect(resultOf(result, EAST)).toMatchObject({
      ok: true,
      entries: 12,
      witnessed: [
        { by: WEST, treeSize: 5 },
        { by: WEST, treeSize: 12 },
      ],
    });
  });

  it('catches a history rewritten and re-signed with the log’s own key by the witness’s cosignature', async () => {
    const rewritten = await fixtureLog(eastKey, [5, 12], (i) => fixtureEntry(i === 2 ? 1002 : i));
    // On its own, the rewritten log is flawless: same key, every checkpoint consistent.
    expect(
      verifyLedgerExports({ logs: [logExport(rewritten, [])], verifierKeys: [eastKey.verifierKey] }).ok,
    ).toBe(true);
    const result = verify([logExport(west, westCosigned), logExport(rewritten, eastCosigned)]);
    expect(result.ok).toBe(false);
    expect(resultOf(result, WEST)?.ok).toBe(true);
    expect(resultOf(result, EAST)).toMatchObject({
      ok: false,
      badCheckpoint: 'west/cosigned/5.note',
      problem: expect.stringContaining('forked'),
    });
  });

  it('names a log cut short before what the other region witnessed as rolled back', async () => {
    const truncated = await fixtureLog(eastKey, [5]);
    const result = verify([logExport(west, westCosigned), logExport(truncated, eastCosigned)]);
    expect(resultOf(result, EAST)).toMatchObject({
      ok: false,
      badCheckpoint: 'west/cosigned/12.note',
      problem: expect.stringContaining('rolled back'),
    });
  });

  it('routes the auditor’s trusted checkpoints to their log', async () => {
    const forkedWest = await fixtureLog(westKey, [20], (i) => fixtureEntry(i === 17 ? 1017 : i));
    const trusted: NamedNote[] = [
      { name: 'audit-2026-q4.note', note: forkedWest.checkpoints[0]?.note ?? '' },
    ];
    const result = verify(pristine(), { trustedCheckpoints: trusted });
    expect(resultOf(result, WEST)).toMatchObject({ ok: false, badCheckpoint: 'audit-2026-q4.note' });
    expect(resultOf(result, EAST)?.ok).toBe(true);
  });
});

describe('cosignatures that do not count', () => {
  async function withWestCosigned(note: string): Promise<ReturnType<typeof verify>> {
    const logs = [logExport(west, [{ origin: EAST, treeSize: 12, note }]), logExport(east, eastCosigned)];
    return verify(logs);
  }
  const east12 = east.checkpoints[1]?.note ?? '';

  it.each([
    ['the witnessing log’s origin', WEST],
    ['the witnessed log’s witness name', witnessName(EAST)],
  ])('fail when the witness signed under %s instead of its witness name', async (_case, keyName) => {
    const misnamed = { ...westKey.witness, keyName };
    const result = await withWestCosigned(await cosign(east12, misnamed));
    expect(resultOf(result, EAST)?.ok).toBe(true);
    expect(resultOf(result, WEST)).toMatchObject({
      ok: false,
      badCheckpoint: 'west/cosigned/12.note',
      problem: expect.stringContaining("the witness's cosignature"),
    });
  });

  it('fail when another key signed under the witness name', async () => {
    const stranger = logKey(WEST);
    const result = await withWestCosigned(await cosign(east12, stranger.witness));
    expect(resultOf(result, WEST)).toMatchObject({ ok: false, badCheckpoint: 'west/cosigned/12.note' });
  });

  it('fail when the witnessed log never signed the checkpoint', async () => {
    const text = east12.slice(0, east12.indexOf('\n\n') + 1).replace('\n12\n', '\n13\n');
    const result = await withWestCosigned(await signNote(text, westKey.witness));
    expect(resultOf(result, WEST)).toMatchObject({
      ok: false,
      badCheckpoint: 'west/cosigned/12.note',
      problem: expect.stringContaining("the log's signature"),
    });
  });

  it('fail when a log claims to witness itself', async () => {
    const self = await cosignedCheckpoint(west, 8, westKey);
    const result = verify([logExport(west, [self]), logExport(east, eastCosigned)]);
    expect(resultOf(result, WEST)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('cannot witness itself'),
    });
  });

  it('fail when one byte of a cosigned note changes', () => {
    const [first, second] = westCosigned;
    if (!first || !second) throw new Error('west cosigned two checkpoints');
    const at = second.note.length - 10;
    const flipped = `${second.note.slice(0, at)}${second.note[at] === 'A' ? 'B' : 'A'}${second.note.slice(at + 1)}`;
    const result = verify([
      logExport(west, [first, { ...second, note: flipped }]),
      logExport(east, eastCosigned),
    ]);
    // The last line is the witness's signature: the cosignature no longer counts.
    expect(resultOf(result, WEST)).toMatchObject({ ok: false, badCheckpoint: 'west/cosigned/12.note' });
  });
});

describe('what the auditor pinned decides what is verified', () => {
  it('refuses a log in the export whose key is not pinned', () => {
    const result = verify(pristine(), { verifierKeys: [westKey.verifierKey] });
    expect(result.ok).toBe(false);
    expect(resultOf(result, EAST)).toMatchObject({ ok: false, problem: `not pinned: ${EAST}` });
    // West's cosignatures of the unpinned log cannot be checked, so they cannot count either.
    expect(resultOf(result, WEST)).toMatchObject({ ok: false, badCheckpoint: 'west/cosigned/5.note' });
  });

  it('refuses an export without a pinned log', () => {
    const result = verify([logExport(west, [])]);
    expect(result.ok).toBe(false);
    expect(resultOf(result, EAST)).toMatchObject({
      ok: false,
      problem: `the export has no log of pinned key ${EAST}`,
    });
  });

  it('refuses a cosigned checkpoint of a log the export lacks', () => {
    const result = verify([logExport(west, westCosigned)]);
    expect(resultOf(result, WEST)).toMatchObject({
      ok: false,
      badCheckpoint: 'west/cosigned/5.note',
      problem: expect.stringContaining('not in the export'),
    });
  });

  it('refuses the same log twice', () => {
    const result = verify([...pristine(), logExport(east, [])]);
    expect(result.ok).toBe(false);
    expect(result.logs.filter((log) => log.origin === EAST).map((log) => log.ok)).toEqual([true, false]);
  });

  it('names the first checkpoint of a log when a different key is pinned for it', () => {
    const other = logKey(EAST);
    const result = verify(pristine(), { verifierKeys: [westKey.verifierKey, other.verifierKey] });
    expect(resultOf(result, EAST)).toMatchObject({ ok: false, badCheckpoint: '5.note' });
    // West's cosignatures of east are checked against the key pinned for east too.
    expect(resultOf(result, WEST)).toMatchObject({
      ok: false,
      badCheckpoint: 'west/cosigned/5.note',
      problem: expect.stringContaining("the log's signature"),
    });
  });

  it('throws a named error when no key is pinned', () => {
    expect(() => verify(pristine(), { verifierKeys: [] })).toThrow(MissingVerifierKeysError);
  });

  it('throws a named error for a trusted checkpoint of a log no key is pinned for', async () => {
    const stranger = await fixtureLog(logKey(ledgerOrigin('us-gov-central-9', 'localhost')), [0]);
    const note = stranger.checkpoints[0]?.note ?? '';
    expect(() => verify(pristine(), { trustedCheckpoints: [{ name: 'elsewhere.note', note }] })).toThrow(
      UnpinnedTrustedCheckpointError,
    );
  });

  it('throws a named error when two logs are pinned with one key', () => {
    const eastUnderWestKey = verifierKey(EAST, westKey.publicKeyPem);
    expect(() => verify(pristine(), { verifierKeys: [westKey.verifierKey, eastUnderWestKey] })).toThrow(
      SharedLogKeyError,
    );
  });

  it('accepts a log pinned with two keys (a rotation) and the same key pinned twice', () => {
    const rotated = logKey(EAST);
    const result = verify(pristine(), { verifierKeys: [...keys, rotated.verifierKey, eastKey.verifierKey] });
    expect(result.ok).toBe(true);
  });
});
