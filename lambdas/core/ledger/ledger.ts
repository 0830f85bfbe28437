/**
 * The audit ledger: QLDB's concepts (journal, digest, revision, proofs, export) on an RFC 9162
 * Merkle log. Writers append concurrently, each under its own namespace; one sequencer checks what
 * they appended and integrates it into the tree in batches, then signs one checkpoint per run.
 */
import * as z from 'zod';
import { type AuditRecord, canonicalEntryBytes } from './audit-record';
import { SEQUENCER_ACTOR_ID, SEQUENCER_WRITER } from './ledger-contract';
import { type LedgerExportPart, ledgerExportContents } from './ledger-export';
import {
  consistencyProofAsync,
  type Hash,
  inclusionProofAsync,
  leafHash,
  MerkleFrontier,
  type NodeId,
} from './merkle';
import {
  type AppendRef,
  type AppendRequest,
  type CheckpointArchive,
  type IntegratedEntry,
  type LedgerHead,
  type LedgerStore,
  nodeId,
  type QueuedAppend,
  refKey,
  type StoredCheckpoint,
  type StoredNode,
} from './ports';
import { requestProblem, sha256Hex, type WriterRules } from './request-checks';
import { type NoteSigner, parseCheckpoint, signCheckpoint } from './signed-note';

/** What a writer gets back from `append`: enough to find the entry and prove it later. */
export interface AppendReceipt {
  readonly idempotencyKey: string;
  /** Hex RFC 9162 leaf hash of the entry: its identity in the tree. */
  readonly leafHash: string;
  readonly receivedAt: string;
  /** `integrated` once the sequencer has given the entry an index. */
  readonly status: 'pending' | 'integrated';
  readonly index?: number;
  /** True when this key had been appended before; the original is what the ledger holds. */
  readonly duplicate: boolean;
}

/** QLDB's digest: the latest signed checkpoint. */
export interface LedgerDigest {
  readonly treeSize: number;
  /** Base64 root hash, as in the checkpoint. */
  readonly rootHash: string;
  /** The C2SP signed note itself. */
  readonly checkpoint: string;
}

/** QLDB's revision: an entry and the proof that it is in the tree the checkpoint signs. */
export interface LedgerRevision {
  readonly index: number;
  readonly writer: string;
  readonly idempotencyKey: string;
  /** The canonical JSON entry: the exact bytes the leaf hash covers. */
  readonly entry: string;
  readonly leafHash: string;
  readonly treeSize: number;
  /** Base64 hashes of the RFC 9162 inclusion proof. */
  readonly inclusionProof: string[];
  readonly checkpoint: string;
}

/** The port the workflows depend on: append a record and get its receipt. */
export interface AuditTrail {
  append(record: AuditRecord, idempotencyKey: string): Promise<AppendReceipt>;
}

/** The sequencer's side of the ledger, QLDB's operations kept. */
export interface AuditLedger {
  integrate(): Promise<IntegrationResult>;
  getDigest(): Promise<LedgerDigest>;
  getRevision(index: number, treeSize?: number): Promise<LedgerRevision>;
  getConsistencyProof(oldSize: number, newSize: number): Promise<string[]>;
  /** Every archived checkpoint and cosignature, and every entry they cover, for an export. */
  exportContents(pageSize?: number): AsyncGenerator<LedgerExportPart>;
}

/** A request the sequencer refused to integrate, and why (recorded in the ledger itself). */
export interface Quarantined extends AppendRef {
  readonly reason: string;
}

export interface IntegrationResult {
  readonly integrated: number;
  /** Queued appends skipped because their request was already in the tree (a re-queued straggler). */
  readonly duplicatesSkipped: number;
  /** Queued pointers that name no stored request (no writer appends that way). */
  readonly danglingSkipped: number;
  readonly quarantined: readonly Quarantined[];
  readonly treeSize: number;
  readonly rootHash: string;
  /** Set when this run signed a checkpoint. */
  readonly checkpoint?: StoredCheckpoint;
}

export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
}

export class InvalidIdempotencyKeyError extends Error {
  override name = 'InvalidIdempotencyKeyError';
}

export class LedgerEmptyError extends Error {
  override name = 'LedgerEmptyError';
}

export class RevisionNotFoundError extends Error {
  override name = 'RevisionNotFoundError';
}

/**
 * The archive holds a checkpoint of this tree size with a different root: the tree was rewritten
 * since that checkpoint was signed. Nothing more is signed until someone with break-glass looks.
 */
export class LedgerForkError extends Error {
  override name = 'LedgerForkError';
}

const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export interface LedgerAppenderOptions {
  readonly store: LedgerStore;
  /** The writer's namespace: what IAM lets this principal write, and what its records may claim. */
  readonly writer: string;
  readonly clock?: () => Date;
  /**
   * How old a queued append must be before the sequencer takes it. Writers stamp appends with
   * their own clock; the wait lets an append stamped just before a batch's cursor still land
   * before the batch is taken, and `append` re-queues one that took longer than half of it.
   */
  readonly settleMs?: number;
}

export interface SequencedLedgerOptions {
  readonly store: LedgerStore;
  readonly signer: NoteSigner;
  /** The checkpoint origin line; also the signing key's name. */
  readonly origin: string;
  readonly archive: CheckpointArchive;
  readonly writers: WriterRules;
  readonly clock?: () => Date;
  readonly settleMs?: number;
  /** Entries per committed batch; a run integrates up to `maxBatchesPerRun` of them. */
  readonly batchSize?: number;
  readonly maxBatchesPerRun?: number;
}

const DEFAULT_SETTLE_MS = 10_000;

/**
 * A writer's side of the ledger: appends only, so the workflows that record their actions need
 * no access to the signing key or the tree.
 */
export class LedgerAppender implements AuditTrail {
  private readonly store: LedgerStore;
  private readonly writer: string;
  private readonly clock: () => Date;
  private readonly settleMs: number;

  constructor(options: LedgerAppenderOptions) {
    this.store = options.store;
    this.writer = options.writer;
    this.clock = options.clock ?? (() => new Date());
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  }

  async append(record: AuditRecord, idempotencyKey: string): Promise<AppendReceipt> {
    const key = idempotencyKeySchema.safeParse(idempotencyKey);
    if (!key.success) {
      throw new InvalidIdempotencyKeyError(`idempotency key: ${key.error.issues[0]?.message ?? 'invalid'}`);
    }
    const entryBytes = canonicalEntryBytes(record);
    const receivedAt = this.clock().toISOString();
    const request: AppendRequest = {
      writer: this.writer,
      idempotencyKey,
      entry: Buffer.from(entryBytes).toString('utf8'),
      leafHash: Buffer.from(leafHash(entryBytes)).toString('hex'),
      receivedAt,
      pendingId: this.pendingId(receivedAt, idempotencyKey),
    };
    const { stored, created } = await this.store.putRequest(request);
    if (!created) return this.receiptForRepeat(stored, request);
    await this.store.enqueue(pointer(stored, stored.pendingId));
    // An append that took more than half the settle window may have landed behind a batch
    // the sequencer already took; queue it again, later. The sequencer drops whichever copy
    // comes second.
    if (this.settleMs > 0 && this.clock().getTime() - Date.parse(receivedAt) > this.settleMs / 2) {
      await this.store.enqueue(this.requeued(stored));
    }
    return receipt(stored, false);
  }

  private async receiptForRepeat(stored: AppendRequest, repeat: AppendRequest): Promise<AppendReceipt> {
    if (stored.leafHash !== repeat.leafHash) {
      throw new IdempotencyConflictError(
        `idempotency key ${repeat.idempotencyKey} was used for a different record (leaf ${stored.leafHash})`,
      );
    }
    const head = await this.store.readHead();
    const index = (await confirmedIndexes(this.store, head, [stored])).get(refKey(stored));
    if (index !== undefined) return receipt(stored, true, index);
    // Not integrated yet: either still queued, or the first attempt died before queueing it or
    // queued it behind the sequencer's cursor. Queueing again is harmless in every case.
    await this.store.enqueue(
      stored.pendingId > head.cursor ? pointer(stored, stored.pendingId) : this.requeued(stored),
    );
    return receipt(stored, true);
  }

  private requeued(request: AppendRequest): QueuedAppend {
    return pointer(request, this.pendingId(this.clock().toISOString(), request.idempotencyKey));
  }

  private pendingId(at: string, idempotencyKey: string): string {
    return `${at}#${this.writer}#${idempotencyKey}`;
  }
}

/** The sequencer: checks, integrates and signs; and the reader: digest, revisions, proofs, export. */
export class SequencedLedger implements AuditLedger {
  private readonly store: LedgerStore;
  private readonly clock: () => Date;
  private readonly settleMs: number;
  private readonly batchSize: number;
  private readonly maxBatchesPerRun: number;
  /** Where the sequencer's own records (quarantines) go: through the same checks as everyone's. */
  readonly ownRecords: LedgerAppender;

  constructor(private readonly options: SequencedLedgerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? (() => new Date());
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.batchSize = options.batchSize ?? 1_000;
    this.maxBatchesPerRun = options.maxBatchesPerRun ?? 50;
    this.ownRecords = new LedgerAppender({
      store: options.store,
      writer: SEQUENCER_WRITER,
      clock: this.clock,
      settleMs: this.settleMs,
    });
  }

  /**
   * Integrates queued appends in batches, each committed by a compare-and-set of the head, then
   * signs one checkpoint of the final tree. Before its commit a batch writes only past the committed
   * tree, where nothing reads yet and a later run may write again, so a run that dies anywhere is
   * finished by the next one; what is committed is never written again.
   */
  async integrate(): Promise<IntegrationResult> {
    let head = await this.store.readHead();
    let integrated = 0;
    let duplicatesSkipped = 0;
    let danglingSkipped = 0;
    const quarantined: Quarantined[] = [];
    const receivedBefore = new Date(this.clock().getTime() - this.settleMs).toISOString();
    for (let batch = 0; batch < this.maxBatchesPerRun; batch++) {
      const queued = await this.store.pendingAfter(head.cursor, receivedBefore, this.batchSize);
      const last = queued.at(-1);
      if (!last) break;
      const sorted = await this.sortBatch(head, queued);
      // The quarantine records are queued before the commit moves the cursor past the bad requests,
      // so a run that dies in between cannot skip a request without saying so.
      for (const item of sorted.quarantined) await this.recordQuarantine(item);
      const next = extendTree(head, sorted.fresh, last.pendingId);
      await this.store.writeBatch(head.treeSize, next.entries, next.nodes);
      await this.store.commitHead(head, next.head);
      head = next.head;
      integrated += sorted.fresh.length;
      duplicatesSkipped += sorted.duplicates;
      danglingSkipped += sorted.dangling;
      quarantined.push(...sorted.quarantined);
      if (queued.length < this.batchSize) break;
    }
    // The first run signs even an empty tree: a log that exists says so, in a checkpoint of size 0.
    const latest = await this.store.latestCheckpoint();
    const checkpoint = (latest?.treeSize ?? -1) < head.treeSize ? await this.checkpoint(head) : undefined;
    return {
      integrated,
      duplicatesSkipped,
      danglingSkipped,
      quarantined,
      treeSize: head.treeSize,
      rootHash: head.rootHash,
      ...(checkpoint && { checkpoint }),
    };
  }

  /** Splits a batch of queue pointers into what to integrate, to skip, and to quarantine. */
  private async sortBatch(head: LedgerHead, queued: readonly QueuedAppend[]) {
    const unique = uniqueByRef(queued);
    const [requests, integrated] = await Promise.all([
      this.store.readRequests(unique),
      confirmedIndexes(this.store, head, unique),
    ]);
    const fresh: AppendRequest[] = [];
    const quarantinedHere: Quarantined[] = [];
    let duplicates = queued.length - unique.length;
    let dangling = 0;
    for (const ref of unique) {
      const key = refKey(ref);
      const request = requests.get(key);
      if (!request) {
        dangling++;
        continue;
      }
      if (integrated.has(key)) {
        duplicates++;
        continue;
      }
      const problem = requestProblem(request, this.options.writers);
      if (problem !== undefined) {
        quarantinedHere.push({
          writer: request.writer,
          idempotencyKey: request.idempotencyKey,
          reason: problem,
        });
        continue;
      }
      fresh.push(request);
    }
    return { fresh, quarantined: quarantinedHere, duplicates, dangling };
  }

  private async recordQuarantine(item: Quarantined): Promise<void> {
    const ref = refKey(item);
    try {
      await this.ownRecords.append(
        {
          action: 'ledger.quarantined',
          target: { type: 'ledger-request', id: `${item.writer} ${item.idempotencyKey}`.slice(0, 2048) },
          actor: { type: 'system', id: SEQUENCER_ACTOR_ID },
          occurredAt: this.clock().toISOString(),
          inputs: { writer: item.writer, idempotencyKey: item.idempotencyKey, reason: item.reason },
          outcome: 'failed',
        },
        `quarantine/${sha256Hex(ref)}`,
      );
    } catch (error) {
      // A run that died after recording this quarantine and before its commit recorded it with
      // another time: the first record stands.
      if (!(error instanceof IdempotencyConflictError)) throw error;
    }
  }

  private async checkpoint(head: LedgerHead): Promise<StoredCheckpoint> {
    const note = await signCheckpoint(
      { origin: this.options.origin, treeSize: head.treeSize, rootHash: Buffer.from(head.rootHash, 'hex') },
      this.options.signer,
    );
    // The locked archive first: a checkpoint the table lists is always one that cannot be deleted.
    // A run that died after archiving left its own signature of this tree there: that one stands.
    const archived = await this.options.archive.putCheckpoint({ treeSize: head.treeSize, note });
    const archivedRoot = Buffer.from(checkpointOf(archived.note).rootHash).toString('hex');
    if (archivedRoot !== head.rootHash) {
      throw new LedgerForkError(
        `the archive's checkpoint of ${head.treeSize} entries has root ${archivedRoot}, the tree has ${head.rootHash}`,
      );
    }
    await this.store.putCheckpoint(archived);
    return archived;
  }

  async getDigest(): Promise<LedgerDigest> {
    const latest = await this.store.latestCheckpoint();
    if (!latest) throw new LedgerEmptyError('the ledger has no signed checkpoint yet');
    const parsed = checkpointOf(latest.note);
    return {
      treeSize: parsed.treeSize,
      rootHash: Buffer.from(parsed.rootHash).toString('base64'),
      checkpoint: latest.note,
    };
  }

  async getRevision(index: number, treeSize?: number): Promise<LedgerRevision> {
    const digest = await this.getDigest();
    const size = treeSize ?? digest.treeSize;
    const checkpoint = size === digest.treeSize ? digest.checkpoint : await this.checkpointAt(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new RevisionNotFoundError(`no entry ${index} in a tree of ${size} entries`);
    }
    const [entry] = await this.store.readEntries(index, index + 1);
    if (!entry) throw new RevisionNotFoundError(`entry ${index} is not integrated`);
    const proof = await inclusionProofAsync(index, size, nodeFetcher(this.store));
    return {
      index,
      writer: entry.writer,
      idempotencyKey: entry.idempotencyKey,
      entry: entry.entry,
      leafHash: entry.leafHash,
      treeSize: size,
      inclusionProof: proof.map(base64),
      checkpoint,
    };
  }

  async getConsistencyProof(oldSize: number, newSize: number): Promise<string[]> {
    return (await consistencyProof(this.store, oldSize, newSize)).map(base64);
  }

  exportContents(pageSize?: number): AsyncGenerator<LedgerExportPart> {
    return ledgerExportContents({ store: this.store, archive: this.options.archive }, pageSize);
  }

  private async checkpointAt(treeSize: number): Promise<string> {
    const found = (await this.store.readCheckpoints()).find((c) => c.treeSize === treeSize);
    if (!found) throw new RevisionNotFoundError(`no signed checkpoint at tree size ${treeSize}`);
    return found.note;
  }
}

/** The RFC 9162 consistency proof between two sizes of the tree a store holds. */
export function consistencyProof(store: LedgerStore, oldSize: number, newSize: number): Promise<Hash[]> {
  return consistencyProofAsync(oldSize, newSize, nodeFetcher(store));
}

/**
 * Where each ref is in the committed tree, for the refs that are: an index marker counts only when
 * the committed entry it names is the ref's own record (a dead run's leftover or a forged marker
 * names another one, and is ignored).
 */
async function confirmedIndexes(
  store: LedgerStore,
  head: LedgerHead,
  refs: readonly AppendRef[],
): Promise<Map<string, number>> {
  const markers = await store.integratedIndexes(refs);
  const claims = [...markers].flatMap(([key, indexes]) =>
    indexes.filter((index) => index < head.treeSize).map((index) => ({ key, index })),
  );
  const entries = await Promise.all(
    claims.map(async ({ key, index }) => ({ key, entry: (await store.readEntries(index, index + 1))[0] })),
  );
  const confirmed = new Map<string, number>();
  for (const { key, entry } of entries) {
    if (entry && refKey(entry) === key) confirmed.set(key, entry.index);
  }
  return confirmed;
}

function nodeFetcher(store: LedgerStore): (ids: NodeId[]) => Promise<Hash[]> {
  return async (ids) => {
    const found = await store.readNodes(ids);
    return ids.map((id) => Buffer.from(found.get(nodeId(id.level, id.index)) ?? '', 'hex'));
  };
}

/** The checkpoint a signed note carries; the note's text ends at its last blank line. */
function checkpointOf(note: string) {
  return parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1));
}

function pointer(ref: AppendRef, pendingId: string): QueuedAppend {
  return { writer: ref.writer, idempotencyKey: ref.idempotencyKey, pendingId };
}

function receipt(request: AppendRequest, duplicate: boolean, index?: number): AppendReceipt {
  return {
    idempotencyKey: request.idempotencyKey,
    leafHash: request.leafHash,
    receivedAt: request.receivedAt,
    status: index === undefined ? 'pending' : 'integrated',
    ...(index !== undefined && { index }),
    duplicate,
  };
}

function uniqueByRef<T extends AppendRef>(refs: readonly T[]): T[] {
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = refKey(ref);
    return !seen.has(key) && seen.add(key);
  });
}

/** The entries, nodes and head a batch adds to the tree: a pure function of the head and the batch. */
function extendTree(
  head: LedgerHead,
  batch: readonly AppendRequest[],
  cursor: string,
): { entries: IntegratedEntry[]; nodes: StoredNode[]; head: LedgerHead } {
  const frontier = MerkleFrontier.deserialize(head.frontier);
  const entries: IntegratedEntry[] = [];
  const nodes: StoredNode[] = [];
  for (const request of batch) {
    const index = frontier.size;
    for (const node of frontier.append(Buffer.from(request.leafHash, 'hex'))) {
      nodes.push({ level: node.level, index: node.index, hash: Buffer.from(node.hash).toString('hex') });
    }
    entries.push({
      index,
      writer: request.writer,
      idempotencyKey: request.idempotencyKey,
      entry: request.entry,
      leafHash: request.leafHash,
      receivedAt: request.receivedAt,
    });
  }
  return {
    entries,
    nodes,
    head: {
      treeSize: frontier.size,
      rootHash: Buffer.from(frontier.root()).toString('hex'),
      frontier: frontier.serialize(),
      cursor,
      version: head.version + 1,
    },
  };
}

function base64(hash: Hash): string {
  return Buffer.from(hash).toString('base64');
}
