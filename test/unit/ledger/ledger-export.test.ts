import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPORT_FORMAT,
  exportSlug,
  InconsistentLedgerExportError,
  InvalidExportDirectoryError,
  readLedgerExport,
  writeLedgerExport,
} from '../../../cli/ledger-export-directory';
import { ledgerOrigin } from '../../../lambdas/core/ledger/ledger-contract';
import type { LedgerExportPart } from '../../../lambdas/core/ledger/ledger-export';
import type { CosignedCheckpoint, IntegratedEntry } from '../../../lambdas/core/ledger/ports';
import { verifyLedgerExports } from '../../../lambdas/core/ledger/verify-ledgers';
import {
  cosignedCheckpoint,
  type FixtureLog,
  fixtureExportParts,
  fixtureLog,
  type LogKey,
  logKey,
} from '../../support/ledger-fixtures';

const WEST = ledgerOrigin('us-gov-west-1', 'localhost');
const EAST = ledgerOrigin('us-gov-east-1', 'localhost');
const WEST_DIR = 'localhost_aor_audit-ledger_us-gov-west-1';
const EAST_DIR = 'localhost_aor_audit-ledger_us-gov-east-1';
const westKey = logKey(WEST);
const eastKey = logKey(EAST);
const keys = [westKey.verifierKey, eastKey.verifierKey];
let west: FixtureLog;
let east: FixtureLog;
let westCosigned: CosignedCheckpoint[];
let eastCosigned: CosignedCheckpoint[];
let pristine: string;
const scratch: string[] = [];

function scratchDirectory(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aor-export-'));
  scratch.push(dir);
  return dir;
}

/** A fresh copy of the pristine export, to tamper with. */
function copyOfExport(): string {
  const dir = scratchDirectory();
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

function toExport(key: LogKey, log: FixtureLog, cosigned: CosignedCheckpoint[], problems?: string[]) {
  return {
    origin: key.origin,
    publicKeyPem: key.publicKeyPem,
    verifierKey: key.verifierKey,
    parts: fixtureExportParts(log, cosigned),
    ...(problems && { problems }),
  };
}

function verifyDir(dir: string, verifierKeys: readonly string[] = keys) {
  return verifyLedgerExports({ ...readLedgerExport(dir), verifierKeys });
}

function logResult(dir: string, origin: string, verifierKeys?: readonly string[]) {
  return verifyDir(dir, verifierKeys).logs.find((log) => log.origin === origin);
}

/** Every file verification reads (not the manifests or the informational keys), relative to `dir`. */
function verifiedFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /entries\.jsonl$|leaf-hashes\.bin$|\.note$/.test(name))
    .sort();
}

beforeAll(async () => {
  west = await fixtureLog(westKey, [8, 15, 20]);
  east = await fixtureLog(eastKey, [5, 12]);
  westCosigned = [await cosignedCheckpoint(east, 5, westKey), await cosignedCheckpoint(east, 12, westKey)];
  eastCosigned = [await cosignedCheckpoint(west, 8, eastKey), await cosignedCheckpoint(west, 15, eastKey)];
  pristine = scratchDirectory();
  const summary = await writeLedgerExport(pristine, [
    toExport(westKey, west, westCosigned, ['the table lists nothing the archive lacks']),
    toExport(eastKey, east, eastCosigned),
  ]);
  expect(summary).toEqual({
    directory: pristine,
    logs: [
      {
        origin: WEST,
        directory: WEST_DIR,
        entries: 20,
        checkpoints: 3,
        cosigned: 2,
        problems: ['the table lists nothing the archive lacks'],
      },
      { origin: EAST, directory: EAST_DIR, entries: 12, checkpoints: 2, cosigned: 2, problems: [] },
    ],
  });
});

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('the export directory', () => {
  it('holds both logs in the documented layout', () => {
    expect(JSON.parse(readFileSync(path.join(pristine, 'manifest.json'), 'utf8'))).toEqual({
      format: EXPORT_FORMAT,
      logs: [
        { origin: WEST, directory: WEST_DIR },
        { origin: EAST, directory: EAST_DIR },
      ],
    });
    expect(verifiedFiles(pristine)).toEqual([
      `${EAST_DIR}/checkpoints/000000000005.note`,
      `${EAST_DIR}/checkpoints/000000000012.note`,
      `${EAST_DIR}/cosigned/${WEST_DIR}/000000000008.note`,
      `${EAST_DIR}/cosigned/${WEST_DIR}/000000000015.note`,
      `${EAST_DIR}/entries.jsonl`,
      `${EAST_DIR}/leaf-hashes.bin`,
      `${WEST_DIR}/checkpoints/000000000008.note`,
      `${WEST_DIR}/checkpoints/000000000015.note`,
      `${WEST_DIR}/checkpoints/000000000020.note`,
      `${WEST_DIR}/cosigned/${EAST_DIR}/000000000005.note`,
      `${WEST_DIR}/cosigned/${EAST_DIR}/000000000012.note`,
      `${WEST_DIR}/entries.jsonl`,
      `${WEST_DIR}/leaf-hashes.bin`,
    ]);
    const westDir = path.join(pristine, WEST_DIR);
    expect(JSON.parse(readFileSync(path.join(westDir, 'manifest.json'), 'utf8'))).toEqual({
      origin: WEST,
      entries: 20,
      checkpoints: ['000000000008.note', '000000000015.note', '000000000020.note'],
      cosigned: [`cosigned/${EAST_DIR}/000000000005.note`, `cosigned/${EAST_DIR}/000000000012.note`],
      problems: ['the table lists nothing the archive lacks'],
    });
    expect(readFileSync(path.join(westDir, 'entries.jsonl'), 'utf8')).toBe(
      west.entries.map((entry) => `${entry.entry}\n`).join(''),
    );
    expect(readFileSync(path.join(westDir, 'leaf-hashes.bin')).toString('hex')).toBe(
      west.entries.map((entry) => entry.leafHash).join(''),
    );
    expect(readFileSync(path.join(westDir, 'verifier-key.txt'), 'utf8')).toBe(`${westKey.verifierKey}\n`);
    expect(readFileSync(path.join(westDir, 'public-key.pem'), 'utf8')).toBe(westKey.publicKeyPem);
  });

  it('verifies as written, each log witnessed by the other', () => {
    const result = verifyDir(pristine);
    expect(result.ok).toBe(true);
    expect(result.logs.map((log) => [log.origin, log.witnessed.map((w) => w.treeSize)])).toEqual([
      [WEST, [8, 15]],
      [EAST, [5, 12]],
    ]);
  });

  it('slugs an origin to one directory name', () => {
    expect(exportSlug('phoenixrooivalk.mil/aor/audit-ledger/us-gov-west-1')).toBe(
      'phoenixrooivalk.mil_aor_audit-ledger_us-gov-west-1',
    );
    expect(() => exportSlug('..')).toThrow(InvalidExportDirectoryError);
  });
});

describe('one byte changed anywhere fails, naming where', () => {
  function flipByte(file: string, at: (bytes: Buffer) => number): void {
    const bytes = readFileSync(file);
    const offset = at(bytes);
    bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
    writeFileSync(file, bytes);
  }

  it('in an entry: its index', () => {
    const dir = copyOfExport();
    // "blockchain-node-11" becomes "blockchain-node-01".
    flipByte(path.join(dir, WEST_DIR, 'entries.jsonl'), (b) => b.indexOf('node-11"') + 'node-'.length);
    expect(logResult(dir, WEST)).toMatchObject({ ok: false, firstBadIndex: 11 });
    expect(logResult(dir, EAST)?.ok).toBe(true);
  });

  it('in a stored leaf hash: the first checkpoint over it', () => {
    const dir = copyOfExport();
    flipByte(path.join(dir, EAST_DIR, 'leaf-hashes.bin'), () => 7 * 32 + 5);
    expect(logResult(dir, EAST)).toMatchObject({
      ok: false,
      badCheckpoint: `${EAST_DIR}/checkpoints/000000000012.note`,
    });
  });

  it('in a checkpoint: that checkpoint', () => {
    const dir = copyOfExport();
    flipByte(path.join(dir, WEST_DIR, 'checkpoints', '000000000015.note'), (b) => b.indexOf('\n15\n') + 2);
    expect(logResult(dir, WEST)).toMatchObject({
      ok: false,
      badCheckpoint: `${WEST_DIR}/checkpoints/000000000015.note`,
    });
  });

  it('in a cosigned checkpoint: that file', () => {
    const dir = copyOfExport();
    const file = path.join(dir, EAST_DIR, 'cosigned', WEST_DIR, '000000000008.note');
    flipByte(file, (b) => b.indexOf('\n8\n') + 1);
    expect(logResult(dir, EAST)).toMatchObject({
      ok: false,
      badCheckpoint: `${EAST_DIR}/cosigned/${WEST_DIR}/000000000008.note`,
    });
  });

  it('in the pinned key: the log’s first checkpoint', () => {
    const other = logKey(WEST);
    expect(logResult(pristine, WEST, [other.verifierKey, eastKey.verifierKey])).toMatchObject({
      ok: false,
      badCheckpoint: `${WEST_DIR}/checkpoints/000000000008.note`,
    });
  });

  it('in any verified file, at any offset (seeded random flips)', () => {
    // mulberry32: a small deterministic generator, so a failure names a reproducible flip.
    let seed = 0x5eed_2026;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const dir = copyOfExport();
    const files = verifiedFiles(dir);
    const survivors: string[] = [];
    for (let round = 0; round < 250; round++) {
      const file = files[Math.floor(random() * files.length)] ?? '';
      const bytes = readFileSync(path.join(dir, file));
      const offset = Math.floor(random() * bytes.length);
      const mask = 1 + Math.floor(random() * 255);
      const original = bytes[offset] ?? 0;
      bytes[offset] = original ^ mask;
      writeFileSync(path.join(dir, file), bytes);
      if (verifyDir(dir).ok) survivors.push(`${file} byte ${offset} ^ ${mask}`);
      bytes[offset] = original;
      writeFileSync(path.join(dir, file), bytes);
    }
    expect(survivors).toEqual([]);
    expect(verifyDir(dir).ok).toBe(true);
  });
});

describe('reading an export', () => {
  it('names a missing directory itself', () => {
    const missing = path.join(os.tmpdir(), 'aor-no-such-export');
    expect(() => readLedgerExport(missing)).toThrow(InvalidExportDirectoryError);
    expect(() => readLedgerExport(missing)).toThrow(`${missing} is not a ledger export: no such directory`);
  });

  it('names a log directory the manifest lists but the export lacks', () => {
    const dir = copyOfExport();
    rmSync(path.join(dir, EAST_DIR), { recursive: true });
    expect(() => readLedgerExport(dir)).toThrow(`${path.join(dir, EAST_DIR)} is missing`);
  });

  it('refuses a log directory the manifest leaves out', () => {
    const dir = copyOfExport();
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.logs = manifest.logs.slice(0, 1);
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect(() => readLedgerExport(dir)).toThrow(`holds ${EAST_DIR}, which its manifest does not list`);
  });

  it('refuses a manifest pointing outside the export', () => {
    const dir = copyOfExport();
    const manifest = { format: EXPORT_FORMAT, logs: [{ origin: WEST, directory: '..' }] };
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect(() => readLedgerExport(dir)).toThrow(
      new InvalidExportDirectoryError(
        `${path.join(dir, 'manifest.json')} lists a log without an origin and its directory`,
      ),
    );
  });

  it('refuses a manifest listing a log twice', () => {
    const dir = copyOfExport();
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.logs = [...manifest.logs, manifest.logs[0]];
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect(() => readLedgerExport(dir)).toThrow('lists a log twice');
  });

  it('names the format it reads when given a version 1 export', () => {
    const dir = scratchDirectory();
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ format: 'aor-ledger-export/1' }));
    expect(() => readLedgerExport(dir)).toThrow(`this verifier reads ${EXPORT_FORMAT}`);
  });

  it('refuses a file in a notes folder that is not a <tree size>.note', () => {
    const dir = copyOfExport();
    const checkpoints = path.join(dir, WEST_DIR, 'checkpoints');
    renameSync(path.join(checkpoints, '000000000020.note'), path.join(checkpoints, '000000000020.note.bak'));
    expect(() => readLedgerExport(dir)).toThrow(`${path.join(checkpoints, '000000000020.note.bak')}`);
  });

  it('verifies the manifest’s origin against the pinned key, not the other way round', () => {
    const dir = copyOfExport();
    // The manifest swaps the logs' origins, with the directories renamed to match.
    renameSync(path.join(dir, WEST_DIR), path.join(dir, 'tmp'));
    renameSync(path.join(dir, EAST_DIR), path.join(dir, WEST_DIR));
    renameSync(path.join(dir, 'tmp'), path.join(dir, EAST_DIR));
    const result = verifyDir(dir);
    expect(result.ok).toBe(false);
    expect(result.logs.every((log) => !log.ok)).toBe(true);
  });
});

describe('writing an export', () => {
  const isEntry = (entry: IntegratedEntry | undefined): entry is IntegratedEntry => entry !== undefined;
  async function* parts(...list: LedgerExportPart[]): AsyncGenerator<LedgerExportPart> {
    yield* list;
  }

  function exporting(...list: LedgerExportPart[]) {
    return writeLedgerExport(scratchDirectory(), [
      {
        origin: WEST,
        publicKeyPem: westKey.publicKeyPem,
        verifierKey: westKey.verifierKey,
        parts: parts(...list),
      },
    ]);
  }

  it('refuses a directory that is not empty', async () => {
    const dir = scratchDirectory();
    mkdirSync(path.join(dir, 'old'));
    await expect(writeLedgerExport(dir, [])).rejects.toThrow(`${dir} is not empty`);
  });

  it.each<[string, (entries: IntegratedEntry[]) => IntegratedEntry[], string]>([
    [
      'an entry out of order',
      ([a, , c]) => [a, c].filter(isEntry),
      'the ledger returned entry 2 where 1 was due',
    ],
    [
      'a line break in an entry',
      ([a, b]) => [a, b && { ...b, entry: 'a\nb' }].filter(isEntry),
      'entry 1 contains a line break',
    ],
    [
      'a malformed leaf hash',
      ([a]) => [a && { ...a, leafHash: a.leafHash.slice(2) }].filter(isEntry),
      'entry 0 has a malformed leaf hash',
    ],
  ])('refuses %s, naming it', async (_case, edit, message) => {
    await expect(exporting({ kind: 'entries', entries: edit(west.entries) })).rejects.toThrow(
      new InconsistentLedgerExportError(message),
    );
  });

  it('refuses two notes of one tree size instead of keeping one', async () => {
    const checkpoint = west.checkpoints[0];
    if (!checkpoint) throw new Error('fixture has checkpoints');
    const other = { ...checkpoint, note: `${checkpoint.note}x` };
    await expect(exporting({ kind: 'checkpoints', checkpoints: [checkpoint, other] })).rejects.toThrow(
      InconsistentLedgerExportError,
    );
  });

  it('refuses two logs that would share a directory', async () => {
    const log = { publicKeyPem: westKey.publicKeyPem, verifierKey: westKey.verifierKey, parts: parts() };
    await expect(
      writeLedgerExport(scratchDirectory(), [
        { ...log, origin: 'a/b' },
        { ...log, origin: 'a_b' },
      ]),
    ).rejects.toThrow('two logs to export share the directory a_b');
  });
});
