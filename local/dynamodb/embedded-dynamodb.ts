import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

/** A global secondary index over string attributes, projecting every attribute. */
export interface SecondaryIndex {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

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
  // dynalite reports a new table CREATING until its timer fires; writes before then are refused.
  const waitUntilActive = async (tableName: string) => {
    for (let attempt = 0; attempt < 500; attempt++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`table ${tableName} did not become ACTIVE`);
  };
  const attributes = (indexes: readonly SecondaryIndex[]) =>
    [
      ...new Set([
        'pk',
        'sk',
        ...indexes.flatMap((i) => [i.partitionKey, ...(i.sortKey ? [i.sortKey] : [])]),
      ]),
    ].map((name) => ({ AttributeName: name, AttributeType: 'S' as const }));
  const indexDefinition = (index: SecondaryIndex) => ({
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
      ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  const createTable = async (tableName: string, indexes: readonly SecondaryIndex[] = []) => {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributes(indexes),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        ...(indexes.length > 0 && { GlobalSecondaryIndexes: indexes.map(indexDefinition) }),
      }),
    );
    await waitUntilActive(tableName);
  };
  const addMissingIndexes = async (tableName: string, indexes: readonly SecondaryIndex[]) => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of indexes.filter((i) => !present.has(i.name))) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributes([index]),
          GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
        }),
      );
      await waitUntilActive(tableName);
    }
  };
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
        await waitUntilActive(tableName);
        await addMissingIndexes(tableName, indexes);
      }
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
