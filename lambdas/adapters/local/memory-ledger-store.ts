import {
  EMPTY_HEAD,
  type IntegratedEntry,
  type LedgerHead,
  LedgerHeadConflictError,
  type LedgerStore,
  nodeId,
  type PendingAppend,
  type StoredCheckpoint,
  type StoredNode,
} from '../../core/ledger/ports';

export class LedgerNodeMissingError extends Error {
  override name = 'LedgerNodeMissingError';
}

/**
 * The ledger store in memory: the reference implementation of the port, used by the unit tests,
 * the benchmark and (with the file store on top) the local drills. It keeps the same write-once
 * discipline as the DynamoDB store, so crash tests on it mean something.
 */
export class MemoryLedgerStore implements LedgerStore {
  protected readonly requests = new Map<string, PendingAppend>();
  /** Kept sorted by pendingId; appends almost always land at the end. */
  protected readonly pending: PendingAppend[] = [];
  protected readonly indexes = new Map<string, number>();
  protected readonly entries: IntegratedEntry[] = [];
  /** nodes[level][index] = hex hash of that perfect subtree. */
  protected readonly nodes: string[][] = [];
  protected readonly checkpoints: StoredCheckpoint[] = [];
  protected head: LedgerHead = EMPTY_HEAD;

  async putRequest(request: PendingAppend): Promise<{ stored: PendingAppend; created: boolean }> {
    const existing = this.requests.get(request.idempotencyKey);
    if (existing) return { stored: existing, created: false };
    this.requests.set(request.idempotencyKey, request);
    return { stored: request, created: true };
  }

  async enqueue(request: PendingAppend): Promise<void> {
    const at = this.firstPendingAfter(request.pendingId);
    if (this.pending[at - 1]?.pendingId === request.pendingId) return;
    this.pending.splice(at, 0, request);
  }

  async pendingAfter(cursor: string, receivedBefore: string, limit: number): Promise<PendingAppend[]> {
    const found: PendingAppend[] = [];
    for (let i = this.firstPendingAfter(cursor); i < this.pending.length && found.length < limit; i++) {
      const request = this.pending[i];
      if (!request || request.pendingId > receivedBefore) break;
      found.push(request);
    }
    return found;
  }

  async integratedIndexes(idempotencyKeys: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const key of idempotencyKeys) {
      const index = this.indexes.get(key);
      if (index !== undefined) found.set(key, index);
    }
    return found;
  }

  async readHead(): Promise<LedgerHead> {
    return this.head;
  }

  async writeBatch(entries: readonly IntegratedEntry[], nodes: readonly StoredNode[]): Promise<void> {
    for (const entry of entries) {
      this.entries[entry.index] = entry;
      this.indexes.set(entry.idempotencyKey, entry.index);
    }
    for (const node of nodes) {
      let level = this.nodes[node.level];
      if (!level) {
        level = [];
        this.nodes[node.level] = level;
      }
      level[node.index] = node.hash;
    }
  }

  async commitHead(expected: LedgerHead, next: LedgerHead): Promise<void> {
    if (this.head.version !== expected.version) {
      throw new LedgerHeadConflictError(`the ledger head moved past version ${expected.version}`);
    }
    this.head = next;
  }

  async readEntries(fromIndex: number, toIndexExclusive: number): Promise<IntegratedEntry[]> {
    return this.entries.slice(fromIndex, Math.min(toIndexExclusive, this.head.treeSize));
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
    if (this.checkpoints.some((existing) => existing.treeSize === checkpoint.treeSize)) return;
    this.checkpoints.push(checkpoint);
    this.checkpoints.sort((a, b) => a.treeSize - b.treeSize);
  }

  async readCheckpoints(): Promise<StoredCheckpoint[]> {
    return [...this.checkpoints];
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return this.checkpoints.at(-1);
  }

  /** Index of the first pending append whose pendingId sorts after `pendingId`. */
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
