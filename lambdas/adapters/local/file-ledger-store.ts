import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type {
  AppendRequest,
  CosignedCheckpoint,
  IntegratedEntry,
  LedgerHead,
  QueuedAppend,
  StoredCheckpoint,
  StoredNode,
} from '../../core/ledger/ports';
import { refKey } from '../../core/ledger/ports';
import { MemoryLedgerStore } from './memory-ledger-store';

const FILES = {
  requests: 'requests.jsonl',
  pending: 'pending.jsonl',
  entries: 'entries.jsonl',
  nodes: 'nodes.jsonl',
  checkpoints: 'checkpoints.jsonl',
  witness: 'witness.jsonl',
  head: 'head.json',
} as const;

type WitnessEvent =
  | { readonly kind: 'pin'; readonly origin: string; readonly verifierKey: string }
  | {
      readonly kind: 'cosigned';
      readonly cosigned: CosignedCheckpoint;
      readonly rootHash: string;
      readonly expectedVersion: number;
    };

/**
 * A region's ledger of the local drills, under `.aor/ledger/<region>/`: the in-memory store,
 * persisted as append-only JSON-lines files (the head alone is replaced, atomically by rename, as
 * the DynamoDB head item is). Opening it replays the files, so a later `aor ledger export` sees
 * every drill. Lines are replayed in the order they were written, so a dead run's leftovers are
 * written over by the run that followed it, as in DynamoDB.
 */
export class FileLedgerStore extends MemoryLedgerStore {
  private constructor(private readonly directory: string) {
    super();
  }

  static open(directory: string): FileLedgerStore {
    mkdirSync(directory, { recursive: true });
    const store = new FileLedgerStore(directory);
    store.replay();
    return store;
  }

  override async putRequest(request: AppendRequest): Promise<{ stored: AppendRequest; created: boolean }> {
    const result = await super.putRequest(request);
    if (result.created) this.appendLines(FILES.requests, [request]);
    return result;
  }

  override async enqueue(queued: QueuedAppend): Promise<void> {
    await super.enqueue(queued);
    this.appendLines(FILES.pending, [queued]);
  }

  override async writeBatch(
    committedSize: number,
    entries: readonly IntegratedEntry[],
    nodes: readonly StoredNode[],
  ): Promise<void> {
    await super.writeBatch(committedSize, entries, nodes);
    this.appendLines(FILES.entries, entries);
    this.appendLines(FILES.nodes, nodes);
  }

  override async commitHead(expected: LedgerHead, next: LedgerHead): Promise<void> {
    await super.commitHead(expected, next);
    const file = path.join(this.directory, FILES.head);
    writeFileSync(`${file}.tmp`, JSON.stringify(next));
    renameSync(`${file}.tmp`, file);
  }

  override async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    const listed = (await this.readCheckpoints()).some((c) => c.treeSize === checkpoint.treeSize);
    await super.putCheckpoint(checkpoint);
    if (!listed) this.appendLines(FILES.checkpoints, [checkpoint]);
  }

  override async pinWitnessedKey(origin: string, verifierKey: string): Promise<string> {
    const pinned = await super.pinWitnessedKey(origin, verifierKey);
    if (pinned === verifierKey) this.appendLines(FILES.witness, [{ kind: 'pin', origin, verifierKey }]);
    return pinned;
  }

  override async recordCosigned(
    cosigned: CosignedCheckpoint,
    rootHash: string,
    expectedVersion: number,
  ): Promise<void> {
    await super.recordCosigned(cosigned, rootHash, expectedVersion);
    this.appendLines(FILES.witness, [{ kind: 'cosigned', cosigned, rootHash, expectedVersion }]);
  }

  private replay(): void {
    for (const request of this.readLines<AppendRequest>(FILES.requests)) void super.putRequest(request);
    for (const queued of this.readLines<QueuedAppend>(FILES.pending)) void super.enqueue(queued);
    const headFile = path.join(this.directory, FILES.head);
    if (existsSync(headFile)) this.head = JSON.parse(readFileSync(headFile, 'utf8')) as LedgerHead;
    for (const entry of this.readLines<IntegratedEntry>(FILES.entries)) {
      this.entries[entry.index] = entry;
      this.addMarker(refKey(entry), entry.index);
    }
    for (const node of this.readLines<StoredNode>(FILES.nodes)) this.storeNode(node);
    for (const checkpoint of this.readLines<StoredCheckpoint>(FILES.checkpoints))
      void super.putCheckpoint(checkpoint);
    for (const event of this.readLines<WitnessEvent>(FILES.witness)) {
      if (event.kind === 'pin') void super.pinWitnessedKey(event.origin, event.verifierKey);
      else void super.recordCosigned(event.cosigned, event.rootHash, event.expectedVersion);
    }
  }

  private readLines<T>(file: string): T[] {
    const fullPath = path.join(this.directory, file);
    if (!existsSync(fullPath)) return [];
    return readFileSync(fullPath, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as T);
  }

  private appendLines(file: string, values: readonly unknown[]): void {
    if (values.length === 0) return;
    appendFileSync(path.join(this.directory, file), values.map((v) => `${JSON.stringify(v)}\n`).join(''));
  }
}
