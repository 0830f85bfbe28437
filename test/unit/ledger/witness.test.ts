import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryCheckpointArchive } from '../../../lambdas/adapters/local/directory-checkpoint-archive';
import { MemoryLedgerStore } from '../../../lambdas/adapters/local/memory-ledger-store';
import type { AuditRecord } from '../../../lambdas/core/ledger/audit-record';
import { consistencyProof, LedgerAppender, SequencedLedger } from '../../../lambdas/core/ledger/ledger';
import { witnessName } from '../../../lambdas/core/ledger/ledger-contract';
import {
  localNoteSigner,
  type NoteSigner,
  noteVerifier,
  openNote,
  signerNamed,
  verifierKey,
} from '../../../lambdas/core/ledger/signed-note';
import { LedgerWitness, type WitnessedLog } from '../../../lambdas/core/ledger/witness';
import { auditRecord, steppingClock } from '../../support/ledger-fixtures';

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const WRITER = 'incident-response';
const PRIMARY = 'test.localhost/aor/audit-ledger/us-gov-west-1';
const DR = 'test.localhost/aor/audit-ledger/us-gov-east-1';

function keyPair(origin: string): { signer: NoteSigner; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    signer: localNoteSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), origin),
    publicKeyPem,
  };
}

/** One region's log: a store, an archive, a key, its sequencer and a writer. */
function regionLog(origin: string, key = keyPair(origin)) {
  const store = new MemoryLedgerStore();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aor-witness-'));
  scratch.push(dir);
  const archive = new DirectoryCheckpointArchive(dir);
  const clock = steppingClock(Date.UTC(2030, 0, 1));
  const ledger = new SequencedLedger({
    store,
    signer: key.signer,
    origin,
    archive,
    writers: { workflows: { [WRITER]: 'exec-' } },
    settleMs: 0,
    clock,
  });
  const appender = new LedgerAppender({ store, writer: WRITER, settleMs: 0, clock: steppingClock() });
  let appended = 0;
  let reachable = true;
  const unlessDown = <T>(read: () => Promise<T>) => {
    if (!reachable) return Promise.reject(new Error(`connect ETIMEDOUT dynamodb of ${origin}`));
    return read();
  };
  const asWitnessed: WitnessedLog = {
    origin,
    latestCheckpoint: () => unlessDown(() => store.latestCheckpoint()),
    consistencyProof: (oldSize, newSize) => unlessDown(() => consistencyProof(store, oldSize, newSize)),
    verifierKey: () => unlessDown(async () => verifierKey(origin, key.publicKeyPem)),
  };
  return {
    origin,
    store,
    archive,
    ledger,
    key,
    asWitnessed,
    setReachable: (value: boolean) => {
      reachable = value;
    },
    /** Appends `count` records (distinct per call) and integrates them: one new checkpoint. */
    async grow(count: number, record: (n: number) => AuditRecord = auditRecord) {
      for (let i = 0; i < count; i++, appended++) await appender.append(record(appended), `key-${appended}`);
      return ledger.integrate();
    },
    witnessOf(other: { asWitnessed: WitnessedLog }) {
      const witness = new LedgerWitness({
        store,
        archive,
        signer: signerNamed(key.signer, witnessName(origin)),
        trail: ledger.ownRecords,
      });
      return () => witness.witness(other.asWitnessed);
    },
  };
}

describe("a region's witness of the other region's log", () => {
  it("pins the other log's key on first contact and cosigns its latest checkpoint", async () => {
    const primary = regionLog(PRIMARY);
    const dr = regionLog(DR);
    await dr.grow(3);
    expect(await primary.witnessOf(dr)()).toEqual({ status: 'cosigned', origin: DR, treeSize: 3 });

    const [cosigned] = await primary.archive.readCosigned();
    expect(cosigned).toMatchObject({ origin: DR, treeSize: 3 });
    // Both signatures verify: the DR log's own and the primary's as witness, with the same key name rule.
    const verifiers = [
      noteVerifier(DR, dr.key.publicKeyPem),
      noteVerifier(witnessName(PRIMARY), primary.key.publicKeyPem),
    ];
    expect(openNote(cosigned?.note ?? '', verifiers).verified.map((s) => s.keyName)).toEqual([
      DR,
      witnessName(PRIMARY),
    ]);
    expect((await primary.store.readWitnessState(DR))?.verifierKey).toBe(
      verifierKey(DR, dr.key.publicKeyPem),
    );
    expect(await primary.witnessOf(dr)()).toEqual({ status: 'up-to-date', origin: DR, treeSize: 3 });
  });

  it('cosigns a grown log only with a consistency proof from what it cosigned before', async () => {
    const primary = regionLog(PRIMARY);
    const dr = regionLog(DR);
    const witness = primary.witnessOf(dr);
    await dr.grow(3);
    await witness();
    await dr.grow(4);
    expect(await witness()).toEqual({ status: 'cosigned', origin: DR, treeSize: 7, since: 3 });
    expect((await primary.archive.readCosigned()).map((c) => c.treeSize)).toEqual([3, 7]);
  });

  it('catches up after the other region was unreachable', async () => {
    const primary = regionLog(PRIMARY);
    const dr = regionLog(DR);
    const witness = primary.witnessOf(dr);
    await dr.grow(2);
    await witness();
    dr.setReachable(false);
    expect(await witness()).toMatchObject({
      status: 'unreachable',
      origin: DR,
      reason: expect.stringContaining('ETIMEDOUT'),
    });
    dr.setReachable(true);
    await dr.grow(3);
    await dr.grow(3);
    expect(await witness()).toEqual({ status: 'cosigned', origin: DR, treeSize: 8, since: 2 });
  });

  it('cosigns an empty log, then its growth with nothing to prove from size 0', async () => {
    const primary = regionLog(PRIMARY);
    const dr = regionLog(DR);
    const witness = primary.witnessOf(dr);
    await dr.ledger.integrate();
    expect(await witness()).toEqual({ status: 'cosigned', origin: DR, treeSize: 0 });
    await dr.grow(2);
    expect(await witness()).toEqual({ status: 'cosigned', origin: DR, treeSize: 2, since: 0 });
  });

  it('has nothing to witness before the other log signs its first checkpoint', async () => {
    const primary = regionLog(PRIMARY);
    expect(await primary.witnessOf(regionLog(DR))()).toEqual({ status: 'nothing-to-witness', origin: DR });
  });

  describe('refuses to cosign a history that contradicts what it cosigned, and records it', () => {
    /**
     * The DR log as an insider with its signing key would rewrite it: the same key, another history.
     * The witness of the primary region cosigned the original at `cosignedSize`.
     */
    async function rewritten(cosignedSize: number, rewrittenSize: number) {
      const primary = regionLog(PRIMARY);
      const original = regionLog(DR);
      await original.grow(cosignedSize);
      await primary.witnessOf(original)();
      const forged = regionLog(DR, original.key);
      await forged.grow(rewrittenSize, (n) => auditRecord(n, { outcome: 'failed' }));
      const outcome = await primary.witnessOf(forged)();
      return { primary, outcome };
    }

    it.each([
      ['a rewritten history that grew', 4, 6, 'does not extend the cosigned tree of 4'],
      ['a rewritten history of the same size', 4, 4, 'another root than the one cosigned'],
      ['a log rolled back', 4, 2, 'went back from 4 entries'],
    ])('%s', async (_what, cosignedSize, rewrittenSize, reason) => {
      const { primary, outcome } = await rewritten(cosignedSize, rewrittenSize);
      expect(outcome).toMatchObject({
        status: 'inconsistent',
        origin: DR,
        reason: expect.stringContaining(reason),
      });
      expect((await primary.archive.readCosigned()).map((c) => c.treeSize)).toEqual([cosignedSize]);
      // The contradiction is evidence in the witness's own ledger, with the offending checkpoint.
      await primary.ledger.integrate();
      const { entry } = await primary.ledger.getRevision(0);
      expect(JSON.parse(entry)).toMatchObject({
        action: 'ledger.witness-contradiction',
        target: { type: 'ledger', id: DR },
        inputs: { reason: expect.stringContaining(reason), checkpoint: expect.stringContaining(`${DR}\n`) },
      });
    });

    it('a checkpoint signed by another key than the one pinned', async () => {
      const primary = regionLog(PRIMARY);
      const original = regionLog(DR);
      await original.grow(2);
      await primary.witnessOf(original)();
      const impostor = regionLog(DR);
      await impostor.grow(3);
      expect(await primary.witnessOf(impostor)()).toMatchObject({
        status: 'inconsistent',
        reason: expect.stringContaining('does not verify under the pinned key'),
      });
    });
  });
});
