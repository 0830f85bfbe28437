import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LEDGER_PARTITIONS } from '../../core/ledger/ledger-contract';
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
import { mapConcurrently } from '../../shared/concurrently';
import { batchGet, queryItems } from './dynamodb-batches';
import { putIfAbsent } from './dynamodb-write-once';

/** Entries are grouped in partitions of this many, so an export reads them with few queries. */
const ENTRIES_PER_PARTITION = 1000;
/** Conditional puts in flight at once: one batch is up to ~3000 items. */
const WRITE_CONCURRENCY = 32;

type Item = Record<string, unknown>;

/**
 * The ledger's single-table layout (see LEDGER_PARTITIONS in the ledger contract for who writes
 * what). Every item is written with a condition: requests, markers, checkpoints and cosignatures
 * once; entries and nodes once the committed tree covers them; the head and the witness state by
 * compare-and-set. The IAM policies of the construct follow the same partition keys.
 */
export const LEDGER_KEYS = {
  request: (ref: AppendRef) => ({
    pk: LEDGER_PARTITIONS.request(ref.writer, ref.idempotencyKey),
    sk: 'REQUEST',
  }),
  indexMarker: (ref: AppendRef, index: number) => ({
    pk: LEDGER_PARTITIONS.indexMarker(ref.writer, ref.idempotencyKey),
    sk: pad(index),
  }),
  pending: (pendingId: string) => ({ pk: LEDGER_PARTITIONS.pending, sk: pendingId }),
  entry: (index: number) => ({
    pk: LEDGER_PARTITIONS.entries(Math.floor(index / ENTRIES_PER_PARTITION)),
    sk: pad(index),
  }),
  node: (level: number, index: number) => ({ pk: LEDGER_PARTITIONS.node(level, index), sk: 'NODE' }),
  checkpoint: (treeSize: number) => ({ pk: LEDGER_PARTITIONS.checkpoint, sk: pad(treeSize) }),
  head: { pk: LEDGER_PARTITIONS.head, sk: 'HEAD' },
  witnessKey: (origin: string) => ({ pk: LEDGER_PARTITIONS.witness(origin), sk: 'KEY' }),
  witnessLatest: (origin: string) => ({ pk: LEDGER_PARTITIONS.witness(origin), sk: 'LATEST' }),
  cosigned: (origin: string, treeSize: number) => ({
    pk: LEDGER_PARTITIONS.witness(origin),
    sk: `COSIGNED#${pad(treeSize)}`,
  }),
} as const;

function pad(n: number): string {
  return n.toString().padStart(12, '0');
}

export class DynamoDbLedgerStore implements LedgerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putRequest(request: AppendRequest): Promise<{ stored: AppendRequest; created: boolean }> {
    const key = LEDGER_KEYS.request(request);
    if (await putIfAbsent(this.client, this.tableName, { ...key, ...request }))
      return { stored: request, created: true };
    return { stored: toRequest((await this.get(key)) ?? {}), created: false };
  }

  async enqueue(queued: QueuedAppend): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...LEDGER_KEYS.pending(queued.pendingId),
          writer: queued.writer,
          idempotencyKey: queued.idempotencyKey,
          pendingId: queued.pendingId,
        },
      }),
    );
  }

  async pendingAfter(cursor: string, receivedBefore: string, limit: number): Promise<QueuedAppend[]> {
    const found: QueuedAppend[] = [];
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pending AND sk BETWEEN :from AND :to',
      // DynamoDB rejects an empty key value; a space sorts before every pendingId.
      ExpressionAttributeValues: {
        ':pending': LEDGER_PARTITIONS.pending,
        ':from': cursor || ' ',
        ':to': receivedBefore,
      },
      ConsistentRead: true,
      // BETWEEN includes the cursor itself: one more than the batch.
      Limit: limit + 1,
    });
    for await (const item of items) {
      if (item.sk === cursor) continue;
      found.push({
        writer: String(item.writer),
        idempotencyKey: String(item.idempotencyKey),
        pendingId: String(item.sk),
      });
      if (found.length === limit) break;
    }
    return found;
  }

  async readRequests(refs: readonly AppendRef[]): Promise<Map<string, AppendRequest>> {
    const unique = new Map(refs.map((ref) => [refKey(ref), ref]));
    const items = await batchGet(this.client, this.tableName, [...unique.values()].map(LEDGER_KEYS.request));
    // The ref is read back from the key, which IAM constrained, not from the item's own attributes.
    return new Map(
      items.map((item) => {
        const request = toRequest(item);
        return [refKey(request), request];
      }),
    );
  }

  async integratedIndexes(refs: readonly AppendRef[]): Promise<Map<string, number[]>> {
    const unique = [...new Map(refs.map((ref) => [refKey(ref), ref])).values()];
    const found = await mapConcurrently(unique, WRITE_CONCURRENCY, async (ref) => {
      const indexes: number[] = [];
      const items = queryItems(this.client, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :marker',
        ExpressionAttributeValues: {
          ':marker': LEDGER_PARTITIONS.indexMarker(ref.writer, ref.idempotencyKey),
        },
        ConsistentRead: true,
      });
      for await (const item of items) indexes.push(Number(item.sk));
      return [refKey(ref), indexes] as const;
    });
    return new Map(found.filter(([, indexes]) => indexes.length > 0));
  }

  async readHead(): Promise<LedgerHead> {
    const item = await this.get(LEDGER_KEYS.head);
    if (!item) return EMPTY_HEAD;
    const { treeSize, rootHash, frontier, cursor, version } = item;
    return { treeSize, rootHash, frontier, cursor, version } as LedgerHead;
  }

  async writeBatch(
    committedSize: number,
    entries: readonly IntegratedEntry[],
    nodes: readonly StoredNode[],
  ): Promise<void> {
    const writes = [
      ...entries.map((entry) => ({
        item: { ...LEDGER_KEYS.entry(entry.index), ...toEntryItem(entry) },
        // Past the committed tree an item is a dead run's leftover, which may be written over.
        condition: 'attribute_not_exists(pk) OR entryIndex >= :committed',
        describe: `entry ${entry.index}`,
      })),
      ...nodes.map((node) => ({
        item: {
          ...LEDGER_KEYS.node(node.level, node.index),
          hash: node.hash,
          coversTo: (node.index + 1) * 2 ** node.level,
        },
        condition: 'attribute_not_exists(pk) OR coversTo > :committed',
        describe: `tree node ${nodeId(node.level, node.index)}`,
      })),
    ];
    await mapConcurrently(writes, WRITE_CONCURRENCY, ({ item, condition, describe }) =>
      this.putOnce(item, condition, { ':committed': committedSize }, describe),
    );
    // Markers last: one never names an entry that was not written.
    await mapConcurrently(entries, WRITE_CONCURRENCY, (entry) =>
      putIfAbsent(this.client, this.tableName, {
        ...LEDGER_KEYS.indexMarker(entry, entry.index),
        entryIndex: entry.index,
      }),
    );
  }

  async commitHead(expected: LedgerHead, next: LedgerHead): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...LEDGER_KEYS.head, ...next },
          ConditionExpression:
            expected.version === 0 ? 'attribute_not_exists(pk)' : 'version = :expectedVersion',
          ExpressionAttributeValues:
            expected.version === 0 ? undefined : { ':expectedVersion': expected.version },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new LedgerHeadConflictError(
          `the ledger head moved past version ${expected.version} while this batch was integrated`,
        );
      }
      throw error;
    }
  }

  async readEntries(fromIndex: number, toIndexExclusive: number): Promise<IntegratedEntry[]> {
    const entries: IntegratedEntry[] = [];
    if (toIndexExclusive <= fromIndex) return entries;
    const firstPartition = Math.floor(fromIndex / ENTRIES_PER_PARTITION);
    const lastPartition = Math.floor((toIndexExclusive - 1) / ENTRIES_PER_PARTITION);
    for (let partition = firstPartition; partition <= lastPartition; partition++) {
      const items = queryItems(this.client, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :partition AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':partition': LEDGER_PARTITIONS.entries(partition),
          ':from': pad(fromIndex),
          ':to': pad(toIndexExclusive - 1),
        },
        ConsistentRead: true,
      });
      for await (const item of items) {
        const entry = toIntegrated(item);
        // Stop at the first gap: what lies past it is no part of a contiguous tree.
        if (entry.index !== fromIndex + entries.length) return entries;
        entries.push(entry);
      }
    }
    return entries;
  }

  async readNodes(ids: readonly { level: number; index: number }[]): Promise<Map<string, string>> {
    const items = await batchGet(
      this.client,
      this.tableName,
      ids.map((id) => LEDGER_KEYS.node(id.level, id.index)),
    );
    return new Map(
      items.map((item) => {
        const [, level, index] = String(item.pk).split('#');
        return [nodeId(Number(level), Number(index)), String(item.hash)];
      }),
    );
  }

  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.putOnce(
      {
        ...LEDGER_KEYS.checkpoint(checkpoint.treeSize),
        treeSize: checkpoint.treeSize,
        note: checkpoint.note,
      },
      'attribute_not_exists(pk)',
      undefined,
      `checkpoint ${checkpoint.treeSize}`,
    );
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :checkpoint',
        ExpressionAttributeValues: { ':checkpoint': LEDGER_PARTITIONS.checkpoint },
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = page.Items?.[0];
    return item && toCheckpoint(item);
  }

  async readCheckpoints(): Promise<StoredCheckpoint[]> {
    const checkpoints: StoredCheckpoint[] = [];
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :checkpoint',
      ExpressionAttributeValues: { ':checkpoint': LEDGER_PARTITIONS.checkpoint },
      ConsistentRead: true,
    });
    for await (const item of items) checkpoints.push(toCheckpoint(item));
    return checkpoints;
  }

  async readWitnessState(origin: string): Promise<WitnessState | undefined> {
    const [key, latest] = await Promise.all([
      this.get(LEDGER_KEYS.witnessKey(origin)),
      this.get(LEDGER_KEYS.witnessLatest(origin)),
    ]);
    if (!key) return undefined;
    return {
      verifierKey: String(key.verifierKey),
      ...(latest && {
        latest: {
          treeSize: Number(latest.treeSize),
          rootHash: String(latest.rootHash),
          version: Number(latest.version),
        },
      }),
    };
  }

  async pinWitnessedKey(origin: string, verifierKey: string): Promise<string> {
    const key = LEDGER_KEYS.witnessKey(origin);
    if (await putIfAbsent(this.client, this.tableName, { ...key, verifierKey })) return verifierKey;
    return String((await this.get(key))?.verifierKey);
  }

  async recordCosigned(
    cosigned: CosignedCheckpoint,
    rootHash: string,
    expectedVersion: number,
  ): Promise<void> {
    await this.putOnce(
      { ...LEDGER_KEYS.cosigned(cosigned.origin, cosigned.treeSize), ...cosigned },
      'attribute_not_exists(pk)',
      undefined,
      `cosignature of ${cosigned.origin} at ${cosigned.treeSize}`,
    );
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...LEDGER_KEYS.witnessLatest(cosigned.origin),
            treeSize: cosigned.treeSize,
            rootHash,
            version: expectedVersion + 1,
          },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
          ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':expected': expectedVersion },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new LedgerHeadConflictError(
          `the witness state of ${cosigned.origin} moved past version ${expectedVersion}`,
        );
      }
      throw error;
    }
  }

  private async get(key: Item): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  /**
   * Puts the item under `condition`; where the condition fails, the item there must already be this
   * one (a retried write), else someone wrote where only the sequencer may.
   */
  private async putOnce(
    item: Item,
    condition: string,
    values: Record<string, unknown> | undefined,
    describe: string,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get({ pk: item.pk, sk: item.sk });
      const differs = !existing || Object.keys(item).some((name) => !sameValue(existing[name], item[name]));
      if (differs)
        throw new LedgerItemConflictError(`${describe} is already written with other content`, {
          cause: error,
        });
    }
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A request item as stored; its writer and key come from the partition key IAM constrained. */
function toRequest(item: Item): AppendRequest {
  const [writer, idempotencyKey] = splitRequestKey(String(item.pk));
  return {
    writer,
    idempotencyKey,
    entry: String(item.entry),
    leafHash: String(item.leafHash),
    receivedAt: String(item.receivedAt),
    pendingId: String(item.pendingId),
  };
}

/** `REQ#<writer>#<key>`: writers never contain `#`, keys may. */
function splitRequestKey(pk: string): [writer: string, idempotencyKey: string] {
  const rest = pk.slice('REQ#'.length);
  const separator = rest.indexOf('#');
  return [rest.slice(0, separator), rest.slice(separator + 1)];
}

function toEntryItem(entry: IntegratedEntry): Item {
  return {
    entryIndex: entry.index,
    writer: entry.writer,
    idempotencyKey: entry.idempotencyKey,
    entry: entry.entry,
    leafHash: entry.leafHash,
    receivedAt: entry.receivedAt,
  };
}

function toIntegrated(item: Item): IntegratedEntry {
  return {
    index: Number(item.entryIndex),
    writer: String(item.writer),
    idempotencyKey: String(item.idempotencyKey),
    entry: String(item.entry),
    leafHash: String(item.leafHash),
    receivedAt: String(item.receivedAt),
  };
}

function toCheckpoint(item: Item): StoredCheckpoint {
  return { treeSize: Number(item.treeSize), note: String(item.note) };
}
