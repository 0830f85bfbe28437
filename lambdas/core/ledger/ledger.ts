/**
 * The audit ledger: QLDB's concepts (journal, digest, revision, proofs, export) on an RFC 9162
 * Merkle log. Writers append concurrently; one sequencer integrates what they appended into the
 * tree in batches and signs one checkpoint per run.
 */
import * as z from 'zod';
import { type AuditRecord, canonicalEntryBytes } from './audit-record';
import {
  consistencyProofAsync,
  type Hash,
  inclusionProofAsync,
  leafHash,
  MerkleFrontier,
  type NodeId,
} from './merkle';
import {
  type CheckpointArchive,
  type IntegratedEntry,
  type LedgerHead,
  type LedgerStore,
  nodeId,
  type PendingAppend,
  type StoredCheckpoint,
  type StoredNode,
} from './ports';
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

/** The whole ledger, QLDB's operations kept. */
export interface AuditLedger extends AuditTrail {
  integrate(): Promise<IntegrationResult>;
  getDigest(): Promise<LedgerDigest>;
  getRevision(index: number, treeSize?: number): Promise<LedgerRevision>;
  getConsistencyProof(oldSize: number, newSize: number): Promise<string[]>;
  /** Every checkpoint and every entry they cover, oldest first, for an export. */
  exportContents(pageSize?: number): AsyncGenerator<LedgerExportPart>;
}

export type LedgerExportPart =
  | { readonly kind: 'checkpoints'; readonly checkpoints: StoredCheckpoint[] }
  | { readonly kind: 'entries'; readonly entries: IntegratedEntry[] };

export interface IntegrationResult {
  readonly integrated: number;
  /** Pending appends skipped because their key was already in the tree (a re-queued straggler). */
  readonly duplicatesSkipped: number;
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

const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export interface LedgerAppenderOptions {
  readonly store: LedgerStore;
  readonly clock?: () => Date;
  /**
   * How old a pending append must be before the sequencer takes it. Writers stamp appends with
   * their own clock; the wait lets an append stamped just before a batch's cursor still land
   * before the batch is taken, and `append` re-queues one that took longer than half of it.
   */
  readonly settleMs?: number;
}

export interface SequencedLedgerOptions extends LedgerAppenderOptions {
  readonly signer: NoteSigner;
  /** The checkpoint origin line; also the signing key's name. */
  readonly origin: string;
  readonly archive?: CheckpointArchive;
  /** Entries per committed batch; a run integrates up to `maxBatchesPerRun` of them. */
  readonly batchSize?: number;
  readonly maxBatchesPerRun?: number;
}

const DEFAULT_SETTLE_MS = 10_000;

/**
 * The writers' side of the ledger: appends only, so the workflows that record their actions need
 * no access to the signing key or the tree.
 */
export class LedgerAppender implements AuditTrail {
  protected readonly store: LedgerStore;
  protected readonly clock: () => Date;
  protected readonly settleMs: number;

  constructor(options: LedgerAppenderOptions) {
    this.store = options.store;
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
    const request: PendingAppend = {
      idempotencyKey,
      entry: Buffer.from(entryBytes).toString('utf8'),
      leafHash: Buffer.from(leafHash(entryBytes)).toString('hex'),
      receivedAt,
      pendingId: `${receivedAt}#${idempotencyKey}`,
    };
    const { stored, created } = await this.store.putRequest(request);
    if (!created) return this.receiptForRepeat(stored, request);
    await this.store.enqueue(stored);
    // An append that took more than half the settle window may have landed behind a batch
    // the sequencer already took; queue it again, later. The sequencer drops whichever copy
    // comes second.
    if (this.settleMs > 0 && this.clock().getTime() - Date.parse(receivedAt) > this.settleMs / 2) {
      await this.store.enqueue(this.requeued(stored));
    }
    return receipt(stored, false);
  }

  private async receiptForRepeat(stored: PendingAppend, repeat: PendingAppend): Promise<AppendReceipt> {
    if (stored.leafHash !== repeat.leafHash) {
      throw new IdempotencyConflictError(
        `idempotency key ${repeat.idempotencyKey} was used for a different record (leaf ${stored.leafHash})`,
      );
    }
    const head = await this.store.readHead();
    const index = (await this.store.integratedIndexes([stored.idempotencyKey])).get(stored.idempotencyKey);
    if (index !== undefined && index < head.treeSize) return receipt(stored, true, index);
    // Not integrated yet: either still queued, or the first attempt died before queueing it or
    // queued it behind the sequencer's cursor. Queueing again is harmless in every case.
    await this.store.enqueue(stored.pendingId > head.cursor ? stored : this.requeued(stored));
    return receipt(stored, true);
  }

  private requeued(request: PendingAppend): PendingAppend {
    return { ...request, pendingId: `${this.clock().toISOString()}#${request.idempotencyKey}` };
  }
}

/** The whole ledger: the appender plus the sequencer, the digest, revisions, proofs and export. */
export class SequencedLedger extends LedgerAppender implements AuditLedger {
  private readonly batchSize: number;
  private readonly maxBatchesPerRun: number;

  constructor(private readonly options: SequencedLedgerOptions) {
    super(options);
    this.batchSize = options.batchSize ?? 1_000;
    this.maxBatchesPerRun = options.maxBatchesPerRun ?? 50;
  }

  /**
   * The sequencer: integrates queued appends in batches, each committed by a compare-and-set of
   * the head, then signs one checkpoint of the final tree. Every step before the commit only
   * writes items nothing reads yet, so a run that dies anywhere is finished by the next one.
   */
  async integrate(): Promise<IntegrationResult> {
    let head = await this.store.readHead();
    let integrated = 0;
    let duplicatesSkipped = 0;
    const receivedBefore = new Date(this.clock().getTime() - this.settleMs).toISOString();
    for (let batch = 0; batch < this.maxBatchesPerRun; batch++) {
      const pending = await this.store.pendingAfter(head.cursor, receivedBefore, this.batchSize);
      const last = pending.at(-1);
      if (!last) break;
      const indexes = await this.store.integratedIndexes(pending.map((p) => p.idempotencyKey));
      // An index at or past the committed size was written by a batch that died before its commit.
      const committed = (key: string) => (indexes.get(key) ?? Number.POSITIVE_INFINITY) < head.treeSize;
      const fresh = uniqueByKey(pending.filter((p) => !committed(p.idempotencyKey)));
      const next = extendTree(head, fresh, last.pendingId);
      await this.store.writeBatch(next.entries, next.nodes);
      await this.store.commitHead(head, next.head);
      head = next.head;
      integrated += fresh.length;
      duplicatesSkipped += pending.length - fresh.length;
      if (pending.length < this.batchSize) break;
    }
    const latest = await this.store.latestCheckpoint();
    const checkpoint =
      head.treeSize > 0 && (latest?.treeSize ?? -1) < head.treeSize ? await this.checkpoint(head) : undefined;
    return { integrated, duplicatesSkipped, treeSize: head.treeSize, rootHash: head.rootHash, checkpoint };
  }

  private async checkpoint(head: LedgerHead): Promise<StoredCheckpoint> {
    const note = await signCheckpoint(
      { origin: this.options.origin, treeSize: head.treeSize, rootHash: Buffer.from(head.rootHash, 'hex') },
      this.options.signer,
    );
    const checkpoint = { treeSize: head.treeSize, note };
    // The locked archive first: a checkpoint the store lists is always one that cannot be deleted.
    await this.options.archive?.put(checkpoint);
    await this.store.putCheckpoint(checkpoint);
    return checkpoint;
  }

  async getDigest(): Promise<LedgerDigest> {
    const latest = await this.store.latestCheckpoint();
    if (!latest) throw new LedgerEmptyError('the ledger has no signed checkpoint yet');
    // The note's text ends at its last blank line; the signature lines follow it.
    const parsed = parseCheckpoint(latest.note.slice(0, latest.note.lastIndexOf('\n\n') + 1));
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
    const proof = await inclusionProofAsync(index, size, (ids) => this.fetchNodes(ids));
    return {
      index,
      idempotencyKey: entry.idempotencyKey,
      entry: entry.entry,
      leafHash: entry.leafHash,
      treeSize: size,
      inclusionProof: proof.map(base64),
      checkpoint,
    };
  }

  async getConsistencyProof(oldSize: number, newSize: number): Promise<string[]> {
    const proof = await consistencyProofAsync(oldSize, newSize, (ids) => this.fetchNodes(ids));
    return proof.map(base64);
  }

  exportContents(pageSize?: number): AsyncGenerator<LedgerExportPart> {
    return ledgerExportContents(this.store, pageSize);
  }

  private async checkpointAt(treeSize: number): Promise<string> {
    const found = (await this.store.readCheckpoints()).find((c) => c.treeSize === treeSize);
    if (!found) throw new RevisionNotFoundError(`no signed checkpoint at tree size ${treeSize}`);
    return found.note;
  }

  private async fetchNodes(ids: NodeId[]): Promise<Hash[]> {
    const found = await this.store.readNodes(ids);
    return ids.map((id) => Buffer.from(found.get(nodeId(id.level, id.index)) ?? '', 'hex'));
  }
}

/**
 * Every checkpoint, then every entry the latest one covers, in pages: what an export holds. Needs
 * only read access to the store, so an auditor's role can export without the signing key.
 */
export async function* ledgerExportContents(
  store: LedgerStore,
  pageSize = 10_000,
): AsyncGenerator<LedgerExportPart> {
  const checkpoints = await store.readCheckpoints();
  yield { kind: 'checkpoints', checkpoints };
  const covered = checkpoints.at(-1)?.treeSize ?? 0;
  for (let from = 0; from < covered; from += pageSize) {
    yield { kind: 'entries', entries: await store.readEntries(from, Math.min(covered, from + pageSize)) };
  }
}

function receipt(request: PendingAppend, duplicate: boolean, index?: number): AppendReceipt {
  return {
    idempotencyKey: request.idempotencyKey,
    leafHash: request.leafHash,
    receivedAt: request.receivedAt,
    status: index === undefined ? 'pending' : 'integrated',
    ...(index !== undefined && { index }),
    duplicate,
  };
}

function uniqueByKey(requests: PendingAppend[]): PendingAppend[] {
  const seen = new Set<string>();
  return requests.filter((request) => !seen.has(request.idempotencyKey) && seen.add(request.idempotencyKey));
}

/** The entries, nodes and head a batch adds to the tree: a pure function of the head and the batch. */
function extendTree(
  head: LedgerHead,
  batch: readonly PendingAppend[],
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
