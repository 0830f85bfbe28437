import {
  QueryCommand,
  type QueryCommandInput,
  BatchGetCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/** DynamoDB's per-request limit: BatchGetItem takes 100 keys. */
const GET_BATCH = 100;
const MAX_ATTEMPTS = 8;

export class DynamoDbBatchIncompleteError extends Error {
  override name = 'DynamoDbBatchIncompleteError';
}

/** Gets items by key with BatchGetItem, resubmitting unprocessed keys; missing items are absent. */
export async function batchGet(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Item[],
): Promise<Item[]> {
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += GET_BATCH) {
    let request: BatchGetCommandInput['RequestItems'] = {
      [tableName]: { Keys: keys.slice(start, start + GET_BATCH), ConsistentRead: true },
    };
    for (let attempt = 1; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) {
        throw new DynamoDbBatchIncompleteError(`keys still unprocessed in ${tableName}`);
      }
      if (attempt > 1) await backoff(attempt);
      const result: BatchGetCommandOutput = await client.send(new BatchGetCommand({ RequestItems: request }));
      found.push(...(result.Responses?.[tableName] ?? []));
      request = result.UnprocessedKeys;
    }
  }
  return found;
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(2_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Every item a query matches, page after page (DynamoDB returns at most 1 MB a page), as they
 * arrive: a caller that needs only the first few stops iterating and no further page is read.
 */
export async function* queryItems(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): AsyncGenerator<Item> {
  let startKey: Item | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    yield* page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
