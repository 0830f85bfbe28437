import { afterAll, beforeAll } from 'vitest';
import {
  type EmbeddedDynamoDb,
  type SecondaryIndex,
  startEmbeddedDynamoDb,
} from '../../local/dynamodb/embedded-dynamodb';

/**
 * DynamoDB in process for one test file: started before its tests, closed after them. Each call
 * of `freshTable` creates a new, empty table, so tests do not see each other's items.
 */
export function useEmbeddedDynamoDb(): {
  freshTable: (prefix: string, indexes?: readonly SecondaryIndex[]) => Promise<string>;
  client: () => EmbeddedDynamoDb;
} {
  let dynamo: EmbeddedDynamoDb | undefined;
  let tables = 0;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb();
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  const client = () => {
    if (!dynamo) throw new Error('the embedded DynamoDB is started before the tests');
    return dynamo;
  };
  return {
    client,
    async freshTable(prefix, indexes) {
      const tableName = `${prefix}-${++tables}`;
      await client().createTable(tableName, indexes);
      return tableName;
    },
  };
}
