import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  /** Creates a table with the `pk`/`sk` string keys every AOR table uses. */
  createTable(tableName: string): Promise<void>;
  /** Creates the table unless it exists (a persisted database keeps its tables). */
  ensureTable(tableName: string): Promise<void>;
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
  const createTable = async (tableName: string) => {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    await waitUntilActive(tableName);
  };
  return {
    endpoint,
    client,
    documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    createTable,
    async ensureTable(tableName) {
      try {
        await createTable(tableName);
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        await waitUntilActive(tableName);
      }
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
