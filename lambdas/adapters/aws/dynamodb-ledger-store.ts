import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  EMPTY_HEAD,
  type IntegratedEntry,
  type LedgerHead,
  LedgerHeadConflictError,
  type LedgerStore,
  nodeId,
  type PendingAppend,
  type StoredCheckpoint,
} from '../../core/ledger/ports';
import { batchGet, batchPut, queryItems } from './dynamodb-batches';

/** Entries are grouped in partitions of this many, so an export reads them with few queries. */
const ENTRIES_PER_PARTITION = 1000;

/**
 * The ledger's single-table layout. Every item is written once, except HEAD:
 *
 * | pk | sk | what |
 * |---|---|---|
 * | `REQ#<key>` | `REQUEST` | an append as received (idempotency) |
 * | `REQ#<key>` | `INDEX` | where the sequencer put it |
 * | `PENDING` | `<pendingId>` | the sequencer's queue, in receive order |
 * | `ENTRIES#<index / 1000>` | `<index, 12 digits>` | the journal |
 * | `NODE#<level>#<index>` | `NODE` | perfect-subtree hashes, for proofs |
 * | `CHECKPOINT` | `<tree size, 12 digits>` | signed checkpoints |
 * | `HEAD` | `HEAD` | the committed tree head (compare-and-set on `version`) |
 *
 * The IAM policies of the construct follow the same prefixes (dynamodb:LeadingKeys).
 */
export const LEDGER_KEYS = {
  request: (key: string) => ({ pk: `REQ#${key}`, sk: 'REQUEST' }),
  indexMarker: (key: string) => ({ pk: `REQ#${key}`, sk: 'INDEX' }),
  pending: (pendingId: string) => ({ pk: 'PENDING', sk: pendingId }),
  entry: (index: number) => ({
    pk: `ENTRIES#${Math.floor(index / ENTRIES_PER_PARTITION)}`,
    sk: pad(index),
  }),
  node: (level: number, index: number) => ({ pk: `NODE#${level}#${index}`, sk: 'NODE' }),
  checkpoint: (treeSize: number) => ({ pk: 'CHECKPOINT', sk: pad(treeSize) }),
  head: { pk: 'HEAD', sk: 'HEAD' },
} as const;

function pad(n: number): string {
  return n.toString().padStart(12, '0');
}

export class DynamoDbLedgerStore implements LedgerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putRequest(request: PendingAppend): Promise<{ stored: PendingAppend; created: boolean }> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...LEDGER_KEYS.request(request.idempotencyKey), ...request },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { stored: request, created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: LEDGER_KEYS.request(request.idempotencyKey),
          ConsistentRead: true,
        }),
      );
      return { stored: toPending(existing.Item ?? {}), created: false };
    }
  }

  async enqueue(request: PendingAppend): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...LEDGER_KEYS.pending(request.pendingId), ...request },
      }),
    );
  }

  async pendingAfter(cursor: string, receivedBefore: string, limit: number): Promise<PendingAppend[]> {
    const found: PendingAppend[] = [];
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pending AND sk BETWEEN :from AND :to',
      // DynamoDB rejects an empty key value; a space sorts before every pendingId.
      ExpressionAttributeValues: { ':pending': 'PENDING', ':from': cursor || ' ', ':to': receivedBefore },
      ConsistentRead: true,
      // BETWEEN includes the cursor itself: one more than the batch.
      Limit: limit + 1,
    });
    for await (const item of items) {
      if (item.sk === cursor) continue;
      found.push(toPending(item));
      if (found.length === limit) break;
    }
    return found;
  }

  async integratedIndexes(idempotencyKeys: readonly string[]): Promise<Map<string, number>> {
    const items = await batchGet(
      this.client,
      this.tableName,
      [...new Set(idempotencyKeys)].map(LEDGER_KEYS.indexMarker),
    );
    return new Map(items.map((item) => [String(item.idempotencyKey), Number(item.entryIndex)]));
  }

  async readHead(): Promise<LedgerHead> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: LEDGER_KEYS.head, ConsistentRead: true }),
    );
    if (!result.Item) return EMPTY_HEAD;
    const { treeSize, rootHash, frontier, cursor, version } = result.Item;
    return { treeSize, rootHash, frontier, cursor, version } as LedgerHead;
  }

  async writeBatch(
    entries: readonly IntegratedEntry[],
    nodes: readonly { level: number; index: number; hash: string }[],
  ): Promise<void> {
    await batchPut(this.client, this.tableName, [
      ...entries.map((entry) => ({ ...LEDGER_KEYS.entry(entry.index), ...toEntryItem(entry) })),
      ...nodes.map((node) => ({ ...LEDGER_KEYS.node(node.level, node.index), hash: node.hash })),
      ...entries.map((entry) => ({
        ...LEDGER_KEYS.indexMarker(entry.idempotencyKey),
        idempotencyKey: entry.idempotencyKey,
        entryIndex: entry.index,
      })),
    ]);
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
          ':partition': `ENTRIES#${partition}`,
          ':from': pad(fromIndex),
          ':to': pad(toIndexExclusive - 1),
        },
        ConsistentRead: true,
      });
      for await (const item of items) entries.push(toIntegrated(item));
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
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...LEDGER_KEYS.checkpoint(checkpoint.treeSize), ...checkpoint },
      }),
    );
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :checkpoint',
        ExpressionAttributeValues: { ':checkpoint': 'CHECKPOINT' },
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = page.Items?.[0];
    return item && { treeSize: Number(item.treeSize), note: String(item.note) };
  }

  async readCheckpoints(): Promise<StoredCheckpoint[]> {
    const checkpoints: StoredCheckpoint[] = [];
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :checkpoint',
      ExpressionAttributeValues: { ':checkpoint': 'CHECKPOINT' },
      ConsistentRead: true,
    });
    for await (const item of items)
      checkpoints.push({ treeSize: Number(item.treeSize), note: String(item.note) });
    return checkpoints;
  }
}

function toPending(item: Record<string, unknown>): PendingAppend {
  return {
    idempotencyKey: String(item.idempotencyKey),
    entry: String(item.entry),
    leafHash: String(item.leafHash),
    receivedAt: String(item.receivedAt),
    pendingId: String(item.pendingId),
  };
}

function toEntryItem(entry: IntegratedEntry): Record<string, unknown> {
  return {
    entryIndex: entry.index,
    idempotencyKey: entry.idempotencyKey,
    entry: entry.entry,
    leafHash: entry.leafHash,
    receivedAt: entry.receivedAt,
  };
}

function toIntegrated(item: Record<string, unknown>): IntegratedEntry {
  return {
    index: Number(item.entryIndex),
    idempotencyKey: String(item.idempotencyKey),
    entry: String(item.entry),
    leafHash: String(item.leafHash),
    receivedAt: String(item.receivedAt),
  };
}
