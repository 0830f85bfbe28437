import {
  type AppendRef,
  type AppendRequest,
  type CosignedCheckpoint,
  EMPTY_HEAD,
  type IntegratedEntry,
  type LedgerHead,
  LedgerHeadConflictError,
  LedgerItemConflictError,
  type LedgerStore,
  nodeId,
  type QueuedAppend,
  refKey,
  type StoredCheckpoint,
  type StoredNode,
  type WitnessState,
} from '../../core/ledger/ports';

export class LedgerNodeMissingError extends Error {
  override name = 'LedgerNodeMissingError';
}

/**
 * The ledger store in memory: the reference implementation of the port, used by the unit tests,
 * the benchmark and (with the file store on top) the local drills. It keeps the same write-once
 * discipline as the DynamoDB store, so crash and tamper tests on it mean something.
 */
export class MemoryLedgerStore implements LedgerStore {
  protected readonly requests = new Map<string, AppendRequest>();
  /** Kept sorted by pendingId; appends almost always land at the end. */
  protected readonly pending: QueuedAppend[] = [];
  /** refKey → every index a marker names. */
  protected readonly markers = new Map<string, number[]>();
  protected readonly entries: IntegratedEntry[] = [];
  /** nodes[level][index] = hex hash of that perfect subtree. */
  protected readonly nodes: string[][] = [];
  protected readonly checkpoints: StoredCheckpoint[] = [];
  protected readonly witnessed = new Map<string, WitnessState>();
  protected readonly cosigned: CosignedCheckpoint[] = [];
  protected head: LedgerHead = EMPTY_HEAD;

  async putRequest(request: AppendRequest): Promise<{ stored: AppendRequest; created: boolean }> {
    const existing = this.requests.get(refKey(request));
    if (existing) return { stored: existing, created: false };
    this.requests.set(refKey(request), request);
    return { stored: request, created: true };
  }

  async enqueue(queued: QueuedAppend): Promise<void> {
    const at = this.firstPendingAfter(queued.pendingId);
    if (this.pending[at - 1]?.pendingId === queued.pendingId) return;
    this.pending.splice(at, 0, queued);
  }

  async pendingAfter(cursor: string, receivedBefore: string, limit: number): Promise<QueuedAppend[]> {
    const found: QueuedAppend[] = [];
    for (let i = this.firstPendingAfter(cursor); i < this.pending.length && found.length < limit; i++) {
      const queued = this.pending[i];
      if (!queued || queued.pendingId > receivedBefore) break;
      found.push(queued);
    }
    return found;
  }

  async readRequests(refs: readonly AppendRef[]): Promise<Map<string, AppendRequest>> {
    const found = new Map<string, AppendRequest>();
    for (const ref of refs) {
      const request = this.requests.get(refKey(ref));
      if (request) found.set(refKey(ref), request);
    }
    return found;
  }

  async integratedIndexes(refs: readonly AppendRef[]): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    for (const ref of refs) {
      const indexes = this.markers.get(refKey(ref));
      if (indexes) found.set(refKey(ref), [...indexes]);
    }
    return found;
  }

  async readHead(): Promise<LedgerHead> {
    return this.head;
  }

  async writeBatch(
    committedSize: number,
    entries: readonly IntegratedEntry[],
    nodes: readonly StoredNode[],
  ): Promise<void> {
    for (const entry of entries) {
      const existing = this.entries[entry.index];
      if (existing && entry.index < committedSize && !sameEntry(existing, entry)) {
        throw new LedgerItemConflictError(`entry ${entry.index} is committed and holds another record`);
      }
    }
    for (const node of nodes) {
      const existing = this.nodes[node.level]?.[node.index];
      const committed = (node.index + 1) * 2 ** node.level <= committedSize;
      if (existing !== undefined && committed && existing !== node.hash) {
        throw new LedgerItemConflictError(
          `tree node ${nodeId(node.level, node.index)} is committed with another hash`,
        );
      }
    }
    for (const entry of entries) this.entries[entry.index] = entry;
    for (const node of nodes) this.storeNode(node);
    for (const entry of entries) this.addMarker(refKey(entry), entry.index);
  }

  async commitHead(expected: LedgerHead, next: LedgerHead): Promise<void> {
    if (this.head.version !== expected.version) {
      throw new LedgerHeadConflictError(`the ledger head moved past version ${expected.version}`);
    }
    this.head = next;
  }

  async readEntries(fromIndex: number, toIndexExclusive: number): Promise<IntegratedEntry[]> {
    const found: IntegratedEntry[] = [];
    for (let index = fromIndex; index < toIndexExclusive; index++) {
      const entry = this.entries[index];
      if (!entry) break;
      found.push(entry);
    }
    return found;
  }

  async readNodes(ids: readonly { level: number; index: number }[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const { level, index } of ids) {
      const hash = this.nodes[level]?.[index];
      if (hash === undefined) throw new LedgerNodeMissingError(`no tree node ${nodeId(level, index)}`);
      found.set(nodeId(level, index), hash);
    }
    return found;
  }

  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    const existing = this.checkpoints.find((stored) => stored.treeSize === checkpoint.treeSize);
    if (existing) {
      if (existing.note !== checkpoint.note) {
        throw new LedgerItemConflictError(
          `a different checkpoint of tree size ${checkpoint.treeSize} is listed`,
        );
      }
      return;
    }
    this.checkpoints.push(checkpoint);
    this.checkpoints.sort((a, b) => a.treeSize - b.treeSize);
  }

  async readCheckpoints(): Promise<StoredCheckpoint[]> {
    return [...this.checkpoints];
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return this.checkpoints.at(-1);
  }

  async readWitnessState(origin: string): Promise<WitnessState | undefined> {
    return this.witnessed.get(origin);
  }

  async pinWitnessedKey(origin: string, verifierKey: string): Promise<string> {
    const existing = this.witnessed.get(origin);
    if (existing) return existing.verifierKey;
    this.witnessed.set(origin, { verifierKey });
    return verifierKey;
  }

  async recordCosigned(
    cosigned: CosignedCheckpoint,
    rootHash: string,
    expectedVersion: number,
  ): Promise<void> {
    const state = this.witnessed.get(cosigned.origin);
    if (!state) throw new LedgerItemConflictError(`no key is pinned for ${cosigned.origin}`);
    if ((state.latest?.version ?? 0) !== expectedVersion) {
      throw new LedgerHeadConflictError(
        `the witness state of ${cosigned.origin} moved past version ${expectedVersion}`,
      );
    }
    const existing = this.cosigned.find(
      (c) => c.origin === cosigned.origin && c.treeSize === cosigned.treeSize,
    );
    if (existing && existing.note !== cosigned.note) {
      throw new LedgerItemConflictError(
        `a different cosignature of ${cosigned.origin} at ${cosigned.treeSize} is listed`,
      );
    }
    if (!existing) this.cosigned.push(cosigned);
    this.witnessed.set(cosigned.origin, {
      ...state,
      latest: { treeSize: cosigned.treeSize, rootHash, version: expectedVersion + 1 },
    });
  }

  protected storeNode(node: StoredNode): void {
    let level = this.nodes[node.level];
    if (!level) {
      level = [];
      this.nodes[node.level] = level;
    }
    level[node.index] = node.hash;
  }

  protected addMarker(key: string, index: number): void {
    const indexes = this.markers.get(key) ?? [];
    if (!indexes.includes(index)) this.markers.set(key, [...indexes, index]);
  }

  /** Index of the first queued pointer whose pendingId sorts after `pendingId`. */
  private firstPendingAfter(pendingId: string): number {
    let low = 0;
    let high = this.pending.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.pending[mid]?.pendingId ?? '') <= pendingId) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function sameEntry(a: IntegratedEntry, b: IntegratedEntry): boolean {
  return (
    refKey(a) === refKey(b) &&
    a.entry === b.entry &&
    a.leafHash === b.leafHash &&
    a.receivedAt === b.receivedAt
  );
}
