import { describe, expect, it } from 'vitest';
import { DynamoDbLedgerStore } from '../../../lambdas/adapters/aws/dynamodb-ledger-store';
import { MemoryLedgerStore } from '../../../lambdas/adapters/local/memory-ledger-store';
import { InvalidAuditRecordError } from '../../../lambdas/core/ledger/audit-record';
import {
  IdempotencyConflictError,
  InvalidIdempotencyKeyError,
  LedgerEmptyError,
  SequencedLedger,
} from '../../../lambdas/core/ledger/ledger';
import { leafHash, verifyConsistency, verifyInclusion } from '../../../lambdas/core/ledger/merkle';
import { LedgerHeadConflictError, type LedgerStore } from '../../../lambdas/core/ledger/ports';
import { openCheckpoint } from '../../../lambdas/core/ledger/signed-note';
import { countingSigner } from '../../../local/bench/ledger-bench';
import {
  auditRecord,
  crashingStore,
  SimulatedCrashError,
  steppingClock,
  TEST_ORIGIN,
  testSigner,
} from '../../support/ledger-fixtures';
import { useEmbeddedDynamoDb } from '../../support/embedded-dynamodb';

const dynamo = useEmbeddedDynamoDb();

const stores: [string, () => Promise<LedgerStore>][] = [
  ['in memory', async () => new MemoryLedgerStore()],
  [
    'on DynamoDB (dynalite)',
    async () => {
      return new DynamoDbLedgerStore(dynamo.client().documentClient, await dynamo.freshTable('ledger'));
    },
  ],
];

describe.each(stores)('the sequenced ledger %s', (_name, makeStore) => {
  const { signer, verifier } = testSigner();
  const ledgerOn = (store: LedgerStore, clock = steppingClock()) =>
    new SequencedLedger({ store, signer, origin: TEST_ORIGIN, clock, settleMs: 0, batchSize: 4 });

  it('appends, integrates in batches and signs one checkpoint per run', async () => {
    const counted = countingSigner(signer);
    const store = await makeStore();
    const ledger = new SequencedLedger({
      store,
      signer: counted.signer,
      origin: TEST_ORIGIN,
      clock: steppingClock(),
      settleMs: 0,
      batchSize: 4,
    });
    for (let i = 0; i < 10; i++) {
      const receipt = await ledger.append(auditRecord(i), `key-${i}`);
      expect(receipt).toMatchObject({ status: 'pending', duplicate: false, idempotencyKey: `key-${i}` });
    }
    const result = await ledger.integrate();
    expect(result).toMatchObject({ integrated: 10, duplicatesSkipped: 0, treeSize: 10 });
    expect(counted.signatures()).toBe(1);

    const digest = await ledger.getDigest();
    const { checkpoint } = openCheckpoint(digest.checkpoint, TEST_ORIGIN, [verifier]);
    expect(checkpoint.treeSize).toBe(10);
    expect(Buffer.from(checkpoint.rootHash).toString('hex')).toBe(result.rootHash);

    // Nothing new: no new signature.
    expect((await ledger.integrate()).checkpoint).toBeUndefined();
    expect(counted.signatures()).toBe(1);
  });

  it('proves every entry is in the signed tree, and consistency between checkpoints', async () => {
    const ledger = ledgerOn(await makeStore());
    for (let i = 0; i < 7; i++) await ledger.append(auditRecord(i), `key-${i}`);
    await ledger.integrate();
    const first = await ledger.getDigest();
    for (let i = 7; i < 13; i++) await ledger.append(auditRecord(i), `key-${i}`);
    await ledger.integrate();
    const second = await ledger.getDigest();

    for (const index of [0, 6, 12]) {
      const revision = await ledger.getRevision(index);
      expect(revision.treeSize).toBe(13);
      expect(JSON.parse(revision.entry).target.id).toBe(`phoenix-rooivalk/blockchain-node-${index}`);
      const leaf = leafHash(Buffer.from(revision.entry, 'utf8'));
      const proof = revision.inclusionProof.map((h) => Buffer.from(h, 'base64'));
      expect(verifyInclusion(leaf, index, 13, proof, Buffer.from(second.rootHash, 'base64'))).toBe(true);
      expect(verifyInclusion(leaf, index, 13, proof, Buffer.from(first.rootHash, 'base64'))).toBe(false);
    }
    const oldRevision = await ledger.getRevision(3, 7);
    expect(oldRevision.checkpoint).toBe(first.checkpoint);

    const consistency = (await ledger.getConsistencyProof(7, 13)).map((h) => Buffer.from(h, 'base64'));
    expect(
      verifyConsistency(
        7,
        13,
        Buffer.from(first.rootHash, 'base64'),
        Buffer.from(second.rootHash, 'base64'),
        consistency,
      ),
    ).toBe(true);
  });

  it('is idempotent: the same key twice is one entry, and the repeat gets the original receipt', async () => {
    const ledger = ledgerOn(await makeStore());
    const first = await ledger.append(auditRecord(1), 'incident-INC-1-created');
    const again = await ledger.append(auditRecord(1), 'incident-INC-1-created');
    expect(again).toEqual({ ...first, duplicate: true });
    await ledger.integrate();
    const afterIntegration = await ledger.append(auditRecord(1), 'incident-INC-1-created');
    expect(afterIntegration).toMatchObject({ status: 'integrated', index: 0, duplicate: true });
    expect((await ledger.getDigest()).treeSize).toBe(1);
  });

  it('refuses a key reused for a different record, and bad input, writing nothing', async () => {
    const store = await makeStore();
    const ledger = ledgerOn(store);
    await ledger.append(auditRecord(1), 'k');
    await expect(ledger.append(auditRecord(2), 'k')).rejects.toThrow(IdempotencyConflictError);
    await expect(ledger.append(auditRecord(3), 'has space')).rejects.toThrow(InvalidIdempotencyKeyError);
    await expect(ledger.append({ ...auditRecord(4), occurredAt: 'yesterday' }, 'bad-record')).rejects.toThrow(
      InvalidAuditRecordError,
    );
    const result = await ledger.integrate();
    expect(result.treeSize).toBe(1);
  });

  it('reports an empty ledger with a named error', async () => {
    await expect(ledgerOn(await makeStore()).getDigest()).rejects.toThrow(LedgerEmptyError);
  });

  it('takes only appends older than the settle window', async () => {
    let now = Date.UTC(2026, 10, 23, 4);
    const clock = () => new Date(now);
    const ledger = new SequencedLedger({
      store: await makeStore(),
      signer,
      origin: TEST_ORIGIN,
      clock,
      settleMs: 10_000,
    });
    await ledger.append(auditRecord(1), 'early');
    now += 5_000;
    await ledger.append(auditRecord(2), 'late');
    now += 6_000;
    expect((await ledger.integrate()).integrated).toBe(1);
    now += 5_000;
    expect((await ledger.integrate()).integrated).toBe(1);
  });

  it('integrates a straggler queued behind the cursor when its writer retries, exactly once', async () => {
    const store = await makeStore();
    const clock = steppingClock();
    const ledger = ledgerOn(store, clock);
    // A writer stamps its append, then stalls before the put lands...
    const stalledReceivedAt = clock().toISOString();
    await ledger.append(auditRecord(1), 'fast');
    await ledger.integrate();
    // ...and its put lands behind the cursor the sequencer already moved past.
    const stalled = {
      idempotencyKey: 'stalled',
      entry: '{"late":true}',
      leafHash: Buffer.from(leafHash(Buffer.from('{"late":true}'))).toString('hex'),
      receivedAt: stalledReceivedAt,
      pendingId: `${stalledReceivedAt}#stalled`,
    };
    await store.putRequest(stalled);
    await store.enqueue(stalled);
    expect((await ledger.integrate()).integrated).toBe(0);
    // The writer's retry re-queues it after the cursor.
    const retried = await store.putRequest(stalled);
    expect(retried.created).toBe(false);
    await store.enqueue({ ...stalled, pendingId: `${clock().toISOString()}#stalled` });
    await store.enqueue({ ...stalled, pendingId: `${clock().toISOString()}#stalled` });
    const result = await ledger.integrate();
    expect(result).toMatchObject({ integrated: 1, duplicatesSkipped: 1, treeSize: 2 });
  });

  it.each([
    ['writing the batch', 'writeBatch'],
    ['committing the head', 'commitHead'],
    ['storing the checkpoint', 'putCheckpoint'],
  ] as const)('recovers from a sequencer that dies before %s', async (_step, method) => {
    const store = await makeStore();
    const clock = steppingClock();
    const writer = ledgerOn(store, clock);
    for (let i = 0; i < 6; i++) await writer.append(auditRecord(i), `key-${i}`);

    const dying = ledgerOn(crashingStore(store, method), clock);
    await expect(dying.integrate()).rejects.toThrow(SimulatedCrashError);

    const rerun = await ledgerOn(store, clock).integrate();
    const reference = ledgerOn(new MemoryLedgerStore(), steppingClock());
    for (let i = 0; i < 6; i++) await reference.append(auditRecord(i), `key-${i}`);
    const expected = await reference.integrate();

    expect(rerun.treeSize).toBe(6);
    expect(rerun.rootHash).toBe(expected.rootHash);
    const digest = await writer.getDigest();
    expect(digest.treeSize).toBe(6);
    for (let i = 0; i < 6; i++) {
      expect(JSON.parse((await writer.getRevision(i)).entry).actor.execution).toBe(`exec-${i}`);
    }
  });

  it('lets only one of two concurrent sequencers commit', async () => {
    const store = await makeStore();
    const ledger = ledgerOn(store);
    await ledger.append(auditRecord(1), 'one');
    const head = await store.readHead();
    await ledger.integrate();
    await expect(store.commitHead(head, { ...head, version: head.version + 1 })).rejects.toThrow(
      LedgerHeadConflictError,
    );
  });
});
