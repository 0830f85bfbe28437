/**
 * AOR's tables as the stacks define them (a `pk`/`sk` string key, string-keyed global indexes
 * projecting everything, on demand), made through the DynamoDB API: in the embedded DynamoDB of the
 * drills, and in the emulator of the integration suite.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';

/** A global secondary index over string attributes, projecting every attribute. */
export interface SecondaryIndex {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

function attributes(indexes: readonly SecondaryIndex[]) {
  return [
    ...new Set(['pk', 'sk', ...indexes.flatMap((i) => [i.partitionKey, ...(i.sortKey ? [i.sortKey] : [])])]),
  ].map((name) => ({ AttributeName: name, AttributeType: 'S' as const }));
}

function indexDefinition(index: SecondaryIndex) {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
      ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    Projection: { ProjectionType: 'ALL' as const },
  };
}

/** A new table reports CREATING for a while; writes before it is ACTIVE are refused. */
export async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

export async function createAorTable(
  client: DynamoDBClient,
  tableName: string,
  indexes: readonly SecondaryIndex[] = [],
): Promise<void> {
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
  await waitUntilActive(client, tableName);
}

/** Adds the indexes a table made by an older version lacks. */
export async function addMissingIndexes(
  client: DynamoDBClient,
  tableName: string,
  indexes: readonly SecondaryIndex[],
): Promise<void> {
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
    await waitUntilActive(client, tableName);
  }
}
