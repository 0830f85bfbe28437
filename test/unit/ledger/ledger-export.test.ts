import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLedgerExport, writeLedgerExport } from '../../../cli/ledger-export-directory';
import { MemoryLedgerStore } from '../../../lambdas/adapters/local/memory-ledger-store';
import { SequencedLedger } from '../../../lambdas/core/ledger/ledger';
import { verifyLedgerExport } from '../../../lambdas/core/ledger/verify-export';
import { auditRecord, steppingClock, TEST_ORIGIN, testSigner } from '../../support/ledger-fixtures';

const run = promisify(execFile);
const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const { signer, verifier, publicKeyPem } = testSigner();
let pristine: string;
const scratch: string[] = [];

/** A fresh copy of the pristine export, to tamper with. */
function copyOfExport(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aor-export-copy-'));
  scratch.push(dir);
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

function verifyDir(dir: string, trustedCheckpoint?: string) {
  return verifyLedgerExport(readLedgerExport(dir, trustedCheckpoint), [verifier]);
}

function editLines(dir: string, edit: (lines: string[]) => string[]): void {
  const file = path.join(dir, 'entries.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  writeFileSync(file, `${edit(lines).join('\n')}\n`);
}

beforeAll(async () => {
  const ledger = new SequencedLedger({
    store: new MemoryLedgerStore(),
    signer,
    origin: TEST_ORIGIN,
    clock: steppingClock(),
    settleMs: 0,
  });
  // Three integration runs: three checkpoints (sizes 8, 15, 20).
  for (const [from, to] of [
    [0, 8],
    [8, 15],
    [15, 20],
  ] as const) {
    for (let i = from; i < to; i++) await ledger.append(auditRecord(i), `key-${i}`);
    await ledger.integrate();
  }
  pristine = mkdtempSync(path.join(os.tmpdir(), 'aor-export-'));
  scratch.push(pristine);
  const summary = await writeLedgerExport(pristine, TEST_ORIGIN, publicKeyPem, ledger.exportContents(6));
  expect(summary).toMatchObject({ entries: 20, checkpoints: 3 });
});

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('offline verification of a ledger export', () => {
  it('accepts an untouched export', () => {
    expect(verifyDir(pristine)).toMatchObject({ ok: true, entries: 20, checkpoints: 3 });
  });

  it.each([
    [
      'one byte of an entry changed',
      (l: string[]) => l.map((line, i) => (i === 7 ? line.replace('node-7', 'node-8') : line)),
      7,
    ],
    ['an entry removed', (l: string[]) => l.filter((_, i) => i !== 5), 5],
    ['two entries swapped', (l: string[]) => [...l.slice(0, 3), l[4] ?? '', l[3] ?? '', ...l.slice(5)], 3],
    ['an entry inserted', (l: string[]) => [...l.slice(0, 10), l[2] ?? '', ...l.slice(10)], 10],
    ['an entry appended past the last checkpoint', (l: string[]) => [...l, l[0] ?? ''], 20],
  ])('names the first bad index when %s', (_case, edit, firstBadIndex) => {
    const dir = copyOfExport();
    editLines(dir, edit);
    const result = verifyDir(dir);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ firstBadIndex });
  });

  it('names the checkpoint whose signed text was altered', () => {
    const dir = copyOfExport();
    const file = path.join(dir, 'checkpoints', '000000000015.note');
    writeFileSync(file, readFileSync(file, 'utf8').replace('\n15\n', '\n16\n'));
    expect(verifyDir(dir)).toMatchObject({ ok: false, badCheckpoint: '000000000015.note' });
  });

  it('names a checkpoint rolled back to an older signed one', () => {
    const dir = copyOfExport();
    const older = readFileSync(path.join(dir, 'checkpoints', '000000000008.note'), 'utf8');
    writeFileSync(path.join(dir, 'checkpoints', '000000000020.note'), older);
    expect(verifyDir(dir)).toMatchObject({ ok: false, badCheckpoint: '000000000020.note' });
  });

  it('detects a truncated export against a checkpoint the auditor saw before', () => {
    const trusted = readFileSync(path.join(pristine, 'checkpoints', '000000000020.note'), 'utf8');
    const dir = copyOfExport();
    unlinkSync(path.join(dir, 'checkpoints', '000000000020.note'));
    editLines(dir, (lines) => lines.slice(0, 15));
    writeFileSync(
      path.join(dir, 'leaf-hashes.bin'),
      readFileSync(path.join(dir, 'leaf-hashes.bin')).subarray(0, 15 * 32),
    );
    expect(verifyDir(dir).ok).toBe(true);
    expect(verifyDir(dir, trusted)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('rolled back'),
    });
  });

  it('rejects stored leaf hashes that do not form the signed tree', () => {
    const dir = copyOfExport();
    const hashes = readFileSync(path.join(dir, 'leaf-hashes.bin'));
    hashes.writeUInt8(hashes.readUInt8(12 * 32) ^ 0xff, 12 * 32);
    writeFileSync(path.join(dir, 'leaf-hashes.bin'), hashes);
    expect(verifyDir(dir)).toMatchObject({ ok: false, badCheckpoint: '000000000015.note' });
  });

  it('rejects an export signed by another key', () => {
    const other = testSigner();
    const result = verifyLedgerExport(readLedgerExport(pristine), [other.verifier]);
    expect(result).toMatchObject({ ok: false, badCheckpoint: '000000000008.note' });
  });
});

describe('aor ledger verify', () => {
  const aor = (...args: string[]) =>
    run(process.execPath, [path.join(PROJECT_ROOT, 'cli/aor.mjs'), ...args], { cwd: PROJECT_ROOT });

  it('exits 0 with a one-line summary, and 1 naming the first bad index after one byte changes', async () => {
    const keyFile = path.join(pristine, 'trusted-key.pem');
    writeFileSync(keyFile, publicKeyPem);
    const good = await aor('ledger', 'verify', pristine, '--public-key', keyFile);
    expect(good.stdout.trim()).toMatch(/^verified: 20 entries, 3 checkpoints, root \S+, key [0-9a-f]{8}$/);

    const dir = copyOfExport();
    const entries = readFileSync(path.join(dir, 'entries.jsonl'));
    // One byte: "blockchain-node-11" becomes "blockchain-node-21".
    entries[entries.indexOf('node-11') + 'node-'.length] = '2'.charCodeAt(0);
    writeFileSync(path.join(dir, 'entries.jsonl'), entries);
    const bad = await aor('ledger', 'verify', dir, '--public-key', keyFile).then(
      () => expect.unreachable('verify must fail'),
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[first bad index: 11]');
  });
});
