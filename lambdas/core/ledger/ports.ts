/**
 * The storage port of the audit ledger. The ledger keeps QLDB's concepts — a journal of entries,
 * a digest (signed checkpoint), revisions with proofs — on storage that only ever grows: entries,
 * tree nodes and checkpoints are written once and never changed. The one mutable item is the head,
 * and only the sequencer moves it, with a compare-and-set that is the commit point of a batch.
 */
import type { SerializedFrontier } from './merkle';

/** An append as received, before the sequencer gives it a place in the tree. */
export interface PendingAppend {
  readonly idempotencyKey: string;
  /** RFC 8785 canonical JSON of the audit record: the exact bytes the leaf hash covers. */
  readonly entry: string;
  /** Hex SHA-256 leaf hash of `entry` (RFC 9162: SHA-256(0x00 ‖ entry)). */
  readonly leafHash: string;
  /** ISO 8601 time the ledger received it; pending appends are integrated in this order. */
  readonly receivedAt: string;
  /** Sort key among pending appends: receivedAt, then the key, so equal times still order. */
  readonly pendingId: string;
}

/** An entry with its index in the tree. */
export interface IntegratedEntry {
  readonly index: number;
  readonly idempotencyKey: string;
  readonly entry: string;
  readonly leafHash: string;
  readonly receivedAt: string;
}

/** The hash of a perfect subtree: leaves [index·2^level, (index+1)·2^level). */
export interface StoredNode {
  readonly level: number;
  readonly index: number;
  /** Hex SHA-256. */
  readonly hash: string;
}

/** The integrated state of the tree, as the sequencer last committed it. */
export interface LedgerHead {
  readonly treeSize: number;
  /** Hex root hash of the tree of `treeSize` entries. */
  readonly rootHash: string;
  /** The perfect subtrees that make up the tree (the compact range): what the next batch extends. */
  readonly frontier: SerializedFrontier;
  /** `pendingId` of the last pending append integrated; the next batch starts after it. */
  readonly cursor: string;
  /** Incremented by every commit; the compare-and-set token. */
  readonly version: number;
}

export const EMPTY_HEAD: LedgerHead = {
  treeSize: 0,
  rootHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  frontier: { size: 0, hashes: [] },
  cursor: '',
  version: 0,
};

/** A signed checkpoint (C2SP signed note) of the tree at `treeSize`. */
export interface StoredCheckpoint {
  readonly treeSize: number;
  readonly note: string;
}

export interface LedgerStore {
  /**
   * Stores an append request under its idempotency key unless one is there already; returns the
   * request that is stored, so a repeat of a key gets the original back.
   */
  putRequest(request: PendingAppend): Promise<{ stored: PendingAppend; created: boolean }>;
  /** Adds (or re-adds, with a new `pendingId`) a request to the queue the sequencer reads. */
  enqueue(request: PendingAppend): Promise<void>;
  /** Queued requests with `pendingId` after `cursor` and received before `receivedBefore`, in order. */
  pendingAfter(cursor: string, receivedBefore: string, limit: number): Promise<PendingAppend[]>;
  /** Index of the entry integrated for each key that has one. */
  integratedIndexes(idempotencyKeys: readonly string[]): Promise<Map<string, number>>;
  readHead(): Promise<LedgerHead>;
  /** Writes entries and nodes of a batch that is not committed yet; safe to repeat after a crash. */
  writeBatch(entries: readonly IntegratedEntry[], nodes: readonly StoredNode[]): Promise<void>;
  /** Moves the head from `expected` to `next`; throws LedgerHeadConflictError if it moved. */
  commitHead(expected: LedgerHead, next: LedgerHead): Promise<void>;
  readEntries(fromIndex: number, toIndexExclusive: number): Promise<IntegratedEntry[]>;
  /** Hashes of the given perfect subtrees (all must exist), keyed `level/index`. */
  readNodes(ids: readonly { level: number; index: number }[]): Promise<Map<string, string>>;
  putCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** Every checkpoint, oldest first. */
  readCheckpoints(): Promise<StoredCheckpoint[]>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
}

/** The write-once copy of every checkpoint (S3 Object Lock in AWS). */
export interface CheckpointArchive {
  put(checkpoint: StoredCheckpoint): Promise<void>;
}

export class LedgerHeadConflictError extends Error {
  override name = 'LedgerHeadConflictError';
}

export function nodeId(level: number, index: number): string {
  return `${level}/${index}`;
}
