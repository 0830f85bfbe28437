import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { DynamoDbLedgerStore, LEDGER_KEYS } from '../../../lambdas/adapters/aws/dynamodb-ledger-store';
import { DirectoryCheckpointArchive } from '../../../lambdas/adapters/local/directory-checkpoint-archive';
import { MemoryLedgerStore } from '../../../lambdas/adapters/local/memory-ledger-store';
import { type AuditRecord, InvalidAuditRecordError } from '../../../lambdas/core/ledger/audit-record';
import {
  IdempotencyConflictError,
  InvalidIdempotencyKeyError,
  LedgerAppender,
  LedgerEmptyError,
  LedgerForkError,
  SequencedLedger,
} from '../../../lambdas/core/ledger/ledger';
import { SEQUENCER_WRITER } from '../../../lambdas/core/ledger/ledger-contract';
import { archiveDiscrepancies } from '../../../lambdas/core/ledger/ledger-export';
import { leafHash, verifyConsistency, verifyInclusion } from '../../../lambdas/core/ledger/merkle';
import {
  type AppendRef,
  type AppendRequest,
  type CheckpointArchive,
  LedgerHeadConflictError,
  LedgerItemConflictError,
  type LedgerStore,
  refKey,
} from '../../../lambdas/core/ledger/ports';
import { openCheckpoint, signCheckpoint } from '../../../lambdas/core/ledger/signed-note';
import { countingSigner } from '../../../local/bench/ledger-bench';
import { useEmbeddedDynamoDb } from '../../support/embedded-dynamodb';
import {
  auditRecord,
  crashingStore,
  SimulatedCrashError,
  steppingClock,
  TEST_ORIGIN,
  testSigner,
} from '../../support/ledger-fixtures';

const dynamo = useEmbeddedDynamoDb();
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** The workflow writer of the fixtures' records, whose executions are `exec-<n>`. */
const WRITER = 'incident-response';
const WRITERS = { workflows: { [WRITER]: 'exec-' } };
const SEQUENCER_EPOCH = Date.UTC(2030, 0, 1);

function freshArchive(): DirectoryCheckpointArchive {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aor-ledger-archive-'));
  scratch.push(dir);
  return new DirectoryCheckpointArchive(dir);
}

/** A store, and how someone with write access to the sequencer's partitions forges a marker in it. */
interface StoreUnderTest {
  readonly store: LedgerStore;
  forgeMarker(ref: AppendRef, index: number): Promise<void>;
}

class TamperableMemoryStore extends MemoryLedgerStore {
  forgeMarker(ref: AppendRef, index: number): void {
    this.addMarker(refKey(ref), index);
  }
}

const stores: [string, () => Promise<StoreUnderTest>][] = [
  [
    'in memory',
    async () => {
      const store = new TamperableMemoryStore();
      return { store, forgeMarker: async (ref, index) => store.forgeMarker(ref, index) };
    },
  ],
  [
    'on DynamoDB (dynalite)',
    async () => {
      const tableName = await dynamo.freshTable('ledger');
      const client = dynamo.client().documentClient;
      const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
      return {
        store: new DynamoDbLedgerStore(client, tableName),
        forgeMarker: async (ref, index) => {
          await client.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...LEDGER_KEYS.indexMarker(ref, index), entryIndex: index },
            }),
          );
        },
      };
    },
  ],
];

/** A request as a writer with the table's PutItem grant could put it, bypassing the appender's checks. */
function rawRequest(writer: string, idempotencyKey: string, entry: string, hash?: string): AppendRequest {
  const receivedAt = '2026-11-23T04:00:00.000Z';
  return {
    writer,
    idempotencyKey,
    entry,
    leafHash: hash ?? Buffer.from(leafHash(Buffer.from(entry, 'utf8'))).toString('hex'),
    receivedAt,
    pendingId: `${receivedAt}#${writer}#${idempotencyKey}`,
  };
}

async function putRaw(store: LedgerStore, request: AppendRequest): Promise<void> {
  await store.putRequest(request);
  await store.enqueue({
    writer: request.writer,
    idempotencyKey: request.idempotencyKey,
    pendingId: request.pendingId,
  });
}

describe.each(stores)('the sequenced ledger %s', (_name, makeStore) => {
  const { signer, verifier } = testSigner();
  const ledgerOn = (store: LedgerStore, options: { clock?: () => Date; archive?: CheckpointArchive } = {}) =>
    new SequencedLedger({
      store,
      signer,
      origin: TEST_ORIGIN,
      archive: options.archive ?? freshArchive(),
      writers: WRITERS,
      // Later than every writer's clock, so that all appends are settled when it runs.
      clock: options.clock ?? steppingClock(SEQUENCER_EPOCH),
      settleMs: 0,
      batchSize: 4,
    });
  const appenderOn = (store: LedgerStore, clock = steppingClock(), writer = WRITER) =>
    new LedgerAppender({ store, writer, clock, settleMs: 0 });

  it('appends, integrates in batches and signs one checkpoint per run', async () => {
    const counted = countingSigner(signer);
    const { store } = await makeStore();
    const ledger = new SequencedLedger({
      store,
      signer: counted.signer,
      origin: TEST_ORIGIN,
      archive: freshArchive(),
      writers: WRITERS,
      clock: steppingClock(SEQUENCER_EPOCH),
      settleMs: 0,
      batchSize: 4,
    });
    const appender = appenderOn(store);
    for (let i = 0; i < 10; i++) {
      const receipt = await appender.append(auditRecord(i), `key-${i}`);
      expect(receipt).toMatchObject({ status: 'pending', duplicate: false, idempotencyKey: `key-${i}` });
    }
    const result = await ledger.integrate();
    expect(result).toMatchObject({ integrated: 10, duplicatesSkipped: 0, treeSize: 10, quarantined: [] });
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
    const { store } = await makeStore();
    const ledger = ledgerOn(store);
    const appender = appenderOn(store);
    for (let i = 0; i < 7; i++) await appender.append(auditRecord(i), `key-${i}`);
    await ledger.integrate();
    const first = await ledger.getDigest();
    for (let i = 7; i < 13; i++) await appender.append(auditRecord(i), `key-${i}`);
    await ledger.integrate();
    const second = await ledger.getDigest();

    for (const index of [0, 6, 12]) {
      const revision = await ledger.getRevision(index);
      expect(revision).toMatchObject({ treeSize: 13, writer: WRITER, idempotencyKey: `key-${index}` });
      const leaf = leafHash(Buffer.from(revision.entry, 'utf8'));
      const proof = revision.inclusionProof.map((h) => Buffer.from(h, 'base64'));
      expect(verifyInclusion(leaf, index, 13, proof, Buffer.from(second.rootHash, 'base64'))).toBe(true);
      expect(verifyInclusion(leaf, index, 13, proof, Buffer.from(first.rootHash, 'base64'))).toBe(false);
    }
    expect((await ledger.getRevision(3, 7)).checkpoint).toBe(first.checkpoint);
    const consistency = (await ledger.getConsistencyProof(7, 13)).map((h) => Buffer.from(h, 'base64'));
    const roots = [first, second].map((d) => Buffer.from(d.rootHash, 'base64')) as [Buffer, Buffer];
    expect(verifyConsistency(7, 13, roots[0], roots[1], consistency)).toBe(true);
  });

  it('is idempotent: the same key twice is one entry, and the repeat gets the original receipt', async () => {
    const { store } = await makeStore();
    const ledger = ledgerOn(store);
    const appender = appenderOn(store);
    const first = await appender.append(auditRecord(1), 'incident/INC-1/opened');
    expect(await appender.append(auditRecord(1), 'incident/INC-1/opened')).toEqual({
      ...first,
      duplicate: true,
    });
    await ledger.integrate();
    expect(await appender.append(auditRecord(1), 'incident/INC-1/opened')).toMatchObject({
      status: 'integrated',
      index: 0,
      duplicate: true,
    });
    expect((await ledger.getDigest()).treeSize).toBe(1);
  });

  it('keeps writers apart: the same key under two writers is two requests', async () => {
    const { store } = await makeStore();
    const ledger = new SequencedLedger({
      store,
      signer,
      origin: TEST_ORIGIN,
      archive: freshArchive(),
      writers: { workflows: { [WRITER]: 'exec-', other: 'exec-' } },
      clock: steppingClock(SEQUENCER_EPOCH),
      settleMs: 0,
    });
    await appenderOn(store).append(auditRecord(1), 'same#key');
    await appenderOn(store, steppingClock(), 'other').append(auditRecord(2), 'same#key');
    const revisions = [0, 1];
    await ledger.integrate();
    const writers = await Promise.all(revisions.map(async (i) => (await ledger.getRevision(i)).writer));
    expect(writers.sort()).toEqual(['incident-response', 'other']);
  });

  it('refuses a key reused for a different record, and bad input, writing nothing', async () => {
    const { store } = await makeStore();
    const ledger = ledgerOn(store);
    const appender = appenderOn(store);
    await appender.append(auditRecord(1), 'k');
    await expect(appender.append(auditRecord(2), 'k')).rejects.toThrow(IdempotencyConflictError);
    await expect(appender.append(auditRecord(3), 'has space')).rejects.toThrow(InvalidIdempotencyKeyError);
    await expect(
      appender.append({ ...auditRecord(4), occurredAt: 'yesterday' }, 'bad-record'),
    ).rejects.toThrow(InvalidAuditRecordError);
    expect((await ledger.integrate()).treeSize).toBe(1);
  });

  it('reports a ledger never sequenced with a named error, and signs an empty one on its first run', async () => {
    const ledger = ledgerOn((await makeStore()).store);
    await expect(ledger.getDigest()).rejects.toThrow(LedgerEmptyError);
    expect((await ledger.integrate()).checkpoint?.treeSize).toBe(0);
    expect(await ledger.getDigest()).toMatchObject({ treeSize: 0 });
    expect((await ledger.integrate()).checkpoint).toBeUndefined();
  });

  it('takes only appends older than the settle window', async () => {
    let now = Date.UTC(2026, 10, 23, 4);
    const clock = () => new Date(now);
    const { store } = await makeStore();
    const ledger = new SequencedLedger({
      store,
      signer,
      origin: TEST_ORIGIN,
      archive: freshArchive(),
      writers: WRITERS,
      clock,
      settleMs: 10_000,
    });
    const appender = new LedgerAppender({ store, writer: WRITER, clock, settleMs: 10_000 });
    await appender.append(auditRecord(1), 'early');
    now += 5_000;
    await appender.append(auditRecord(2), 'late');
    now += 6_000;
    expect((await ledger.integrate()).integrated).toBe(1);
    now += 5_000;
    expect((await ledger.integrate()).integrated).toBe(1);
  });

  it('integrates a straggler queued behind the cursor when its writer retries, exactly once', async () => {
    const { store } = await makeStore();
    const clock = steppingClock();
    const ledger = ledgerOn(store, { clock });
    const appender = appenderOn(store, clock);
    // A writer stamps its append, then stalls before the put lands...
    const stalledAt = clock().toISOString();
    await appender.append(auditRecord(1), 'fast');
    await ledger.integrate();
    // ...and its put lands behind the cursor the sequencer already moved past.
    const entry = await canonicalOf(auditRecord(2));
    const stalled = {
      ...rawRequest(WRITER, 'stalled', entry),
      receivedAt: stalledAt,
      pendingId: `${stalledAt}#x`,
    };
    await putRaw(store, stalled);
    expect((await ledger.integrate()).integrated).toBe(0);
    // The writer's retry re-queues it after the cursor, twice over.
    await store.enqueue({
      writer: WRITER,
      idempotencyKey: 'stalled',
      pendingId: `${clock().toISOString()}#y`,
    });
    await store.enqueue({
      writer: WRITER,
      idempotencyKey: 'stalled',
      pendingId: `${clock().toISOString()}#z`,
    });
    expect(await ledger.integrate()).toMatchObject({ integrated: 1, duplicatesSkipped: 1, treeSize: 2 });
  });

  describe('trusts nothing a writer stored', () => {
    it('ignores a forged index marker: the victim is integrated and its receipt names its own entry', async () => {
      const { store, forgeMarker } = await makeStore();
      const ledger = ledgerOn(store);
      const appender = appenderOn(store);
      await appender.append(auditRecord(0), 'someone-else');
      await ledger.integrate();
      // The marker says the victim's record is entry 0, which is someone else's.
      const victim = { writer: WRITER, idempotencyKey: 'victim' };
      await forgeMarker(victim, 0);
      await appender.append(auditRecord(1), 'victim');
      const result = await ledger.integrate();
      expect(result).toMatchObject({ integrated: 1, duplicatesSkipped: 0, treeSize: 2 });
      const receipt = await appender.append(auditRecord(1), 'victim');
      expect(receipt).toMatchObject({ status: 'integrated', index: 1 });
      expect((await ledger.getRevision(1)).idempotencyKey).toBe('victim');
    });

    it('does not take a forged marker for a receipt before the victim is integrated', async () => {
      const { store, forgeMarker } = await makeStore();
      const ledger = ledgerOn(store);
      const appender = appenderOn(store);
      await appender.append(auditRecord(0), 'someone-else');
      await ledger.integrate();
      await appender.append(auditRecord(1), 'victim');
      await forgeMarker({ writer: WRITER, idempotencyKey: 'victim' }, 0);
      expect(await appender.append(auditRecord(1), 'victim')).toMatchObject({ status: 'pending' });
    });

    it.each([
      [
        "a leaf hash that is not the entry's",
        (entry: string) => rawRequest(WRITER, 'bad', entry, 'ab'.repeat(32)),
        'is not the hash of the entry',
      ],
      [
        'a malformed leaf hash',
        (entry: string) => rawRequest(WRITER, 'bad', entry, 'not hex'),
        'is not the hash of the entry',
      ],
      ['an entry that is not JSON', () => rawRequest(WRITER, 'bad', '{"action":'), 'not JSON'],
      [
        'an entry that is not canonical',
        (entry: string) => rawRequest(WRITER, 'bad', ` ${entry}`),
        'not the RFC 8785 canonical form',
      ],
      [
        'a record that is not valid',
        () => rawRequest(WRITER, 'bad', '{"action":"x"}'),
        'not a valid audit record',
      ],
    ])('quarantines %s, records why, and keeps going', async (_what, bad, reason) => {
      const { store } = await makeStore();
      const ledger = ledgerOn(store);
      const appender = appenderOn(store);
      await appender.append(auditRecord(0), 'before');
      const canonical = await canonicalOf(auditRecord(9));
      await putRaw(store, bad(canonical));
      await appender.append(auditRecord(1), 'after');
      const first = await ledger.integrate();
      expect(first.integrated).toBe(2);
      expect(first.quarantined).toEqual([
        { writer: WRITER, idempotencyKey: 'bad', reason: expect.stringContaining(reason) },
      ]);
      // The quarantine record is the sequencer's own, integrated on its next run: the tree says why.
      const second = await ledger.integrate();
      expect(second.integrated).toBe(1);
      const record = JSON.parse((await ledger.getRevision(2)).entry) as AuditRecord;
      expect(record).toMatchObject({
        action: 'ledger.quarantined',
        actor: { type: 'system', id: 'aor-ledger-sequencer' },
        outcome: 'failed',
        inputs: { writer: WRITER, idempotencyKey: 'bad', reason: expect.stringContaining(reason) },
      });
      expect((await ledger.getRevision(2)).writer).toBe(SEQUENCER_WRITER);
      // Quarantined once, however often the bad request is queued again.
      const { cursor } = await store.readHead();
      await store.enqueue({ writer: WRITER, idempotencyKey: 'bad', pendingId: `${cursor}~again` });
      const third = await ledger.integrate();
      expect(third.quarantined).toHaveLength(1);
      expect((await ledger.integrate()).treeSize).toBe(3);
    });

    it.each([
      [
        'a workflow writer recording an operator',
        WRITER,
        { type: 'operator', id: 'operator:mallory' },
        'may record only its own executions',
      ],
      [
        "a workflow writer recording another workflow's execution",
        WRITER,
        { type: 'workflow', id: 'x', execution: 'arn:other' },
        'may record only its own executions',
      ],
      [
        'a person recording as someone else',
        'principal/AROAEXAMPLE:alice',
        { type: 'iam-principal', id: 'arn:x', principalId: 'AROAEXAMPLE:bob' },
        'may record only as itself',
      ],
      [
        'a person whose ARN is another session',
        'principal/AROAEXAMPLE:alice',
        {
          type: 'iam-principal',
          id: 'arn:aws-us-gov:sts::123456789012:assumed-role/Ops/bob',
          principalId: 'AROAEXAMPLE:alice',
        },
        'is not the session',
      ],
      [
        'a person recording as the sequencer',
        'principal/AROAEXAMPLE:alice',
        { type: 'system', id: 'aor-ledger-sequencer' },
        'may record only as itself',
      ],
      [
        "anyone in the sequencer's namespace",
        SEQUENCER_WRITER,
        { type: 'workflow', id: 'x', execution: 'exec-1' },
        'holds only its own records',
      ],
      ['an unknown writer', 'mallory', { type: 'workflow', id: 'x', execution: 'exec-1' }, 'unknown writer'],
      [
        'a local operator where there are none',
        'operator/mallory',
        { type: 'operator', id: 'operator:mallory' },
        'unknown writer',
      ],
    ] as const)('quarantines %s', async (_what, writer, actor, reason) => {
      const { store } = await makeStore();
      const ledger = ledgerOn(store);
      await putRaw(
        store,
        rawRequest(writer, 'forged', await canonicalOf({ ...auditRecord(1), actor: { ...actor } })),
      );
      const result = await ledger.integrate();
      expect(result.integrated).toBe(0);
      expect(result.quarantined[0]?.reason).toContain(reason);
    });

    it('integrates a person recording as themself', async () => {
      const { store } = await makeStore();
      const ledger = ledgerOn(store);
      const alice = new LedgerAppender({ store, writer: 'principal/AROAEXAMPLE:alice', settleMs: 0 });
      await alice.append(
        {
          ...auditRecord(1),
          actor: {
            type: 'iam-principal',
            id: 'arn:aws-us-gov:sts::123456789012:assumed-role/Ops/alice',
            principalId: 'AROAEXAMPLE:alice',
          },
        },
        'alice-acks',
      );
      expect(await ledger.integrate()).toMatchObject({ integrated: 1, quarantined: [] });
    });
  });

  describe('never writes over what is committed', () => {
    it('refuses a different entry or node where the committed tree is, and accepts the same one again', async () => {
      const { store } = await makeStore();
      const ledger = ledgerOn(store);
      const appender = appenderOn(store);
      for (let i = 0; i < 3; i++) await appender.append(auditRecord(i), `key-${i}`);
      await ledger.integrate();
      const [committed] = await store.readEntries(1, 2);
      if (!committed) throw new Error('entry 1 is committed');
      await store.writeBatch(3, [committed], []);
      await expect(store.writeBatch(3, [{ ...committed, entry: '{"rewritten":true}' }], [])).rejects.toThrow(
        LedgerItemConflictError,
      );
      // Leaf nodes 1 and 2: inside the committed tree, and the last one it covers.
      for (const index of [1, 2]) {
        await expect(store.writeBatch(3, [], [{ level: 0, index, hash: '00'.repeat(32) }])).rejects.toThrow(
          LedgerItemConflictError,
        );
      }
      expect((await store.readEntries(1, 2))[0]).toEqual(committed);
    });

    it('refuses a second, different checkpoint of the same size', async () => {
      const { store } = await makeStore();
      const ledger = ledgerOn(store);
      await appenderOn(store).append(auditRecord(1), 'one');
      const { checkpoint } = await ledger.integrate();
      if (!checkpoint) throw new Error('the run signed a checkpoint');
      await store.putCheckpoint(checkpoint);
      const forged = await signCheckpoint(
        { origin: TEST_ORIGIN, treeSize: 1, rootHash: new Uint8Array(32) },
        signer,
      );
      await expect(store.putCheckpoint({ treeSize: 1, note: forged })).rejects.toThrow(
        LedgerItemConflictError,
      );
      expect((await store.latestCheckpoint())?.note).toBe(checkpoint.note);
    });

    it("writes over a dead run's uncommitted leftovers, whatever they hold", async () => {
      const { store } = await makeStore();
      const ledger = ledgerOn(store);
      const appender = appenderOn(store);
      await appender.append(auditRecord(0), 'zero');
      await ledger.integrate();
      // A run that died left entries 1 and 2 in another order than the next run will choose.
      const leftover = (await store.readEntries(0, 1))[0];
      if (!leftover) throw new Error('entry 0 is committed');
      await store.writeBatch(1, [{ ...leftover, index: 1, idempotencyKey: 'ghost' }], []);
      for (let i = 1; i < 3; i++) await appender.append(auditRecord(i), `key-${i}`);
      expect(await ledger.integrate()).toMatchObject({ integrated: 2, treeSize: 3 });
      expect((await ledger.getRevision(1)).idempotencyKey).toBe('key-1');
    });
  });

  it.each([
    ['writing the batch', 'writeBatch'],
    ['committing the head', 'commitHead'],
    ['listing the checkpoint', 'putCheckpoint'],
  ] as const)('recovers from a sequencer that dies before %s', async (_step, method) => {
    const { store } = await makeStore();
    const clock = steppingClock();
    const archive = freshArchive();
    const appender = appenderOn(store, clock);
    for (let i = 0; i < 6; i++) await appender.append(auditRecord(i), `key-${i}`);

    const dying = ledgerOn(crashingStore(store, method), { clock, archive });
    await expect(dying.integrate()).rejects.toThrow(SimulatedCrashError);

    const rerun = await ledgerOn(store, { clock, archive }).integrate();
    const reference = new MemoryLedgerStore();
    const referenceAppender = appenderOn(reference);
    for (let i = 0; i < 6; i++) await referenceAppender.append(auditRecord(i), `key-${i}`);
    const expected = await ledgerOn(reference).integrate();

    expect(rerun.treeSize).toBe(6);
    expect(rerun.rootHash).toBe(expected.rootHash);
    // The checkpoint the table lists is the one archived first, never a second signature of the tree.
    expect(await store.readCheckpoints()).toEqual(await archive.readCheckpoints());
    expect(await archiveDiscrepancies({ store, archive })).toEqual([]);
  });

  it('stops signing when the archive holds another tree of the same size', async () => {
    const { store } = await makeStore();
    const archive = freshArchive();
    const forged = await signCheckpoint(
      { origin: TEST_ORIGIN, treeSize: 1, rootHash: new Uint8Array(32) },
      signer,
    );
    await archive.putCheckpoint({ treeSize: 1, note: forged });
    await appenderOn(store).append(auditRecord(1), 'one');
    await expect(ledgerOn(store, { archive }).integrate()).rejects.toThrow(LedgerForkError);
  });

  it('lets only one of two concurrent sequencers commit', async () => {
    const { store } = await makeStore();
    const ledger = ledgerOn(store);
    await appenderOn(store).append(auditRecord(1), 'one');
    const head = await store.readHead();
    await ledger.integrate();
    await expect(store.commitHead(head, { ...head, version: head.version + 1 })).rejects.toThrow(
      LedgerHeadConflictError,
    );
  });

  it('exports checkpoints from the archive, and names a table checkpoint the archive lacks', async () => {
    const { store } = await makeStore();
    const archive = freshArchive();
    const ledger = ledgerOn(store, { archive });
    await appenderOn(store).append(auditRecord(1), 'one');
    await ledger.integrate();
    const parts = [];
    for await (const part of ledger.exportContents()) parts.push(part);
    expect(parts.map((p) => p.kind)).toEqual(['checkpoints', 'cosigned', 'entries']);
    const forged = await signCheckpoint(
      { origin: TEST_ORIGIN, treeSize: 7, rootHash: new Uint8Array(32) },
      signer,
    );
    await store.putCheckpoint({ treeSize: 7, note: forged });
    await appenderOn(store).append(auditRecord(2), 'two');
    expect(await archiveDiscrepancies({ store, archive })).toEqual([
      'the table lists a checkpoint of tree size 7 that the archive does not hold',
    ]);
  });
});

/** The RFC 8785 form of a record, as the appender would store it. */
async function canonicalOf(record: AuditRecord): Promise<string> {
  const { canonicalEntryBytes } = await import('../../../lambdas/core/ledger/audit-record');
  return Buffer.from(canonicalEntryBytes(record)).toString('utf8');
}
