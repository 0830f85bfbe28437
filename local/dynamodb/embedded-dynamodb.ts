import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

import { addMissingIndexes, createAorTable, type SecondaryIndex, waitUntilActive } from './aor-tables';

export type { SecondaryIndex } from './aor-tables';

export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  /** Creates a table with the `pk`/`sk` string keys every AOR table uses, and its string-keyed indexes. */
  createTable(tableName: string, indexes?: readonly SecondaryIndex[]): Promise<void>;
  /**
   * Creates the table unless it exists (a persisted database keeps its tables), and adds the
   * indexes a table made by an older version lacks.
   */
  ensureTable(tableName: string, indexes?: readonly SecondaryIndex[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * DynamoDB in this process (dynalite, in memory, on a loopback port): the same wire protocol the
 * AWS adapters speak in production, with no Java, Docker or network. It has no transactions,
 * streams or TTL, which AOR's adapters do not use.
 */
export async function startEmbeddedDynamoDb(options: { path?: string } = {}): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.path });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-gov-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const createTable = (tableName: string, indexes: readonly SecondaryIndex[] = []) =>
    createAorTable(client, tableName, indexes);
  return {
    endpoint,
    client,
    documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    createTable,
    async ensureTable(tableName, indexes = []) {
      try {
        await createTable(tableName, indexes);
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        await waitUntilActive(client, tableName);
        await addMissingIndexes(client, tableName, indexes);
      }
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
