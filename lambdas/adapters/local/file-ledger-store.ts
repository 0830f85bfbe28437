import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type {
  IntegratedEntry,
  LedgerHead,
  PendingAppend,
  StoredCheckpoint,
  StoredNode,
} from '../../core/ledger/ports';
import { MemoryLedgerStore } from './memory-ledger-store';

const FILES = {
  requests: 'requests.jsonl',
  pending: 'pending.jsonl',
  entries: 'entries.jsonl',
  nodes: 'nodes.jsonl',
  checkpoints: 'checkpoints.jsonl',
  head: 'head.json',
} as const;

/**
 * The local ledger of the drills, under `.aor/ledger/`: the in-memory store, persisted as
 * append-only JSON-lines files (the head alone is replaced, atomically by rename, as the DynamoDB
 * head item is). Opening it replays the files, so a later `aor ledger export` sees every drill.
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

  override async putRequest(request: PendingAppend): Promise<{ stored: PendingAppend; created: boolean }> {
    const result = await super.putRequest(request);
    if (result.created) this.appendLine(FILES.requests, request);
    return result;
  }

  override async enqueue(request: PendingAppend): Promise<void> {
    await super.enqueue(request);
    this.appendLine(FILES.pending, request);
  }

  override async writeBatch(
    entries: readonly IntegratedEntry[],
    nodes: readonly StoredNode[],
  ): Promise<void> {
    await super.writeBatch(entries, nodes);
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
    await super.putCheckpoint(checkpoint);
    this.appendLine(FILES.checkpoints, checkpoint);
  }

  private replay(): void {
    for (const request of this.readLines<PendingAppend>(FILES.requests))
      this.requests.set(request.idempotencyKey, request);
    for (const request of this.readLines<PendingAppend>(FILES.pending)) void super.enqueue(request);
    const headFile = path.join(this.directory, FILES.head);
    if (existsSync(headFile)) this.head = JSON.parse(readFileSync(headFile, 'utf8')) as LedgerHead;
    // Lines past the committed head belong to a batch that never committed; the sequencer rewrites them.
    const committed = this.readLines<IntegratedEntry>(FILES.entries).filter(
      (e) => e.index < this.head.treeSize,
    );
    void super.writeBatch(committed, this.readLines<StoredNode>(FILES.nodes));
    for (const checkpoint of this.readLines<StoredCheckpoint>(FILES.checkpoints))
      void super.putCheckpoint(checkpoint);
  }

  private readLines<T>(file: string): T[] {
    const fullPath = path.join(this.directory, file);
    if (!existsSync(fullPath)) return [];
    return readFileSync(fullPath, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as T);
  }

  private appendLine(file: string, value: unknown): void {
    appendFileSync(path.join(this.directory, file), `${JSON.stringify(value)}\n`);
  }

  private appendLines(file: string, values: readonly unknown[]): void {
    if (values.length === 0) return;
    appendFileSync(path.join(this.directory, file), values.map((v) => `${JSON.stringify(v)}\n`).join(''));
  }
}
