/**
 * The storage ports of the audit ledger. The ledger keeps QLDB's concepts — a journal of entries,
 * a digest (signed checkpoint), revisions with proofs — on storage that only ever grows: requests,
 * entries, tree nodes, index markers and checkpoints are written once and never changed. The one
 * mutable item is the head, and only the sequencer moves it, with a compare-and-set that is the
 * commit point of a batch.
 *
 * Nothing a writer stores is trusted by the sequencer: the queue holds only pointers, and each
 * request's leaf hash is recomputed from its entry, its record re-validated and its actor checked
 * against the writer's namespace before it is integrated.
 */
import type { SerializedFrontier } from './merkle';

/** Names a request: the writer's namespace (enforced by IAM) and the writer's idempotency key. */
export interface AppendRef {
  readonly writer: string;
  readonly idempotencyKey: string;
}

/** An append as received, before the sequencer gives it a place in the tree. */
export interface AppendRequest extends AppendRef {
  /** RFC 8785 canonical JSON of the audit record: the exact bytes the leaf hash covers. */
  readonly entry: string;
  /** Hex SHA-256 leaf hash of `entry` (RFC 9162: SHA-256(0x00 ‖ entry)), as the writer computed it. */
  readonly leafHash: string;
  /** ISO 8601 time the ledger received it. */
  readonly receivedAt: string;
  /** Sort key in the queue: receivedAt, then writer and key, so equal times still order. */
  readonly pendingId: string;
}

/** What the queue holds: a pointer to a request. The sequencer reads the request itself. */
export interface QueuedAppend extends AppendRef {
  readonly pendingId: string;
}

/** An entry with its index in the tree. */
export interface IntegratedEntry extends AppendRef {
  readonly index: number;
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
  /** `pendingId` of the last queued append taken; the next batch starts after it. */
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

/** Another log's checkpoint as this region's witness cosigned it: the note with both signatures. */
export interface CosignedCheckpoint {
  /** Origin of the witnessed (other) log. */
  readonly origin: string;
  readonly treeSize: number;
  readonly note: string;
}

/** What a witness remembers of the other log: its pinned key and the latest checkpoint it cosigned. */
export interface WitnessState {
  /** The other log's verifier key (c2sp.org/signed-note vkey), pinned on first contact. */
  readonly verifierKey: string;
  readonly latest?: { readonly treeSize: number; readonly rootHash: string; readonly version: number };
}

export interface LedgerStore {
  /**
   * Stores a request under its writer and idempotency key unless one is there already; returns
   * the request that is stored, so a repeat of a key gets the original back.
   */
  putRequest(request: AppendRequest): Promise<{ stored: AppendRequest; created: boolean }>;
  /** Adds (or re-adds, with a new `pendingId`) a pointer to a request to the sequencer's queue. */
  enqueue(queued: QueuedAppend): Promise<void>;
  /** Queued pointers with `pendingId` after `cursor` and before `receivedBefore`, in order. */
  pendingAfter(cursor: string, receivedBefore: string, limit: number): Promise<QueuedAppend[]>;
  /** The stored requests the refs name (absent ones are left out), keyed by `refKey`. */
  readRequests(refs: readonly AppendRef[]): Promise<Map<string, AppendRequest>>;
  /**
   * Every index the markers of each ref name, keyed by `refKey`. Markers are claims, not facts: one
   * left by a run that died before its commit, or written by someone else, names an entry that is
   * another record; a marker counts only when the entry it names is the request it marks.
   */
  integratedIndexes(refs: readonly AppendRef[]): Promise<Map<string, number[]>>;
  readHead(): Promise<LedgerHead>;
  /**
   * Writes a batch's entries, nodes and index markers (one per entry) before its commit. What the
   * committed tree of `committedSize` entries covers is never written again: an item there with the
   * same content is fine, one with different content is a LedgerItemConflictError. Past it, a dead
   * run's uncommitted leftovers are written over. Markers are write-once per ref and index.
   */
  writeBatch(
    committedSize: number,
    entries: readonly IntegratedEntry[],
    nodes: readonly StoredNode[],
  ): Promise<void>;
  /** Moves the head from `expected` to `next`; throws LedgerHeadConflictError if it moved. */
  commitHead(expected: LedgerHead, next: LedgerHead): Promise<void>;
  /** The entries stored at indexes in the range, in index order, stopping at the first gap. */
  readEntries(fromIndex: number, toIndexExclusive: number): Promise<IntegratedEntry[]>;
  /** Hashes of the given perfect subtrees (all must exist), keyed `level/index`. */
  readNodes(ids: readonly { level: number; index: number }[]): Promise<Map<string, string>>;
  /** Written once; the same checkpoint again is fine, a different one at that size a LedgerItemConflictError. */
  putCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** Every checkpoint, oldest first. */
  readCheckpoints(): Promise<StoredCheckpoint[]>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  readWitnessState(origin: string): Promise<WitnessState | undefined>;
  /** Pins the other log's key, once; returns the key that is pinned (an earlier one wins). */
  pinWitnessedKey(origin: string, verifierKey: string): Promise<string>;
  /**
   * Stores a cosigned checkpoint (write-once) and moves the witness's latest state to it, by
   * compare-and-set on `expectedVersion`; LedgerHeadConflictError if another run moved it.
   */
  recordCosigned(cosigned: CosignedCheckpoint, rootHash: string, expectedVersion: number): Promise<void>;
}

/**
 * The write-once copy of every checkpoint and cosignature (S3 Object Lock in AWS). The archive,
 * not the table, is what an export is taken from.
 */
export interface CheckpointArchive {
  /**
   * Archives a checkpoint unless one of that tree size is archived already; returns the archived
   * one (an earlier run may have archived a different signature of the same tree).
   */
  putCheckpoint(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint>;
  /** Archives a cosigned checkpoint of the other log, unless one of that size is there already. */
  putCosigned(cosigned: CosignedCheckpoint): Promise<CosignedCheckpoint>;
  /** Every archived checkpoint, oldest first; where an object has several versions, the first one. */
  readCheckpoints(): Promise<StoredCheckpoint[]>;
  /** Every archived cosigned checkpoint, by origin then tree size; the first version of each. */
  readCosigned(): Promise<CosignedCheckpoint[]>;
}

export class LedgerHeadConflictError extends Error {
  override name = 'LedgerHeadConflictError';
}

/** A write-once item exists with different content: someone wrote where only the sequencer may. */
export class LedgerItemConflictError extends Error {
  override name = 'LedgerItemConflictError';
}

export function nodeId(level: number, index: number): string {
  return `${level}/${index}`;
}

/** The map key of a ref: writer and idempotency key, which may itself contain any printable character. */
export function refKey(ref: AppendRef): string {
  return `${ref.writer}\n${ref.idempotencyKey}`;
}
