import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/** An item of an AOR table: every one has the string keys `pk` and `sk`. */
export type KeyedItem = { readonly pk: string; readonly sk: string } & Record<string, unknown>;

/** Puts the item unless one with its key exists; false when one did. */
export async function putIfAbsent(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: KeyedItem,
): Promise<boolean> {
  try {
    await client.send(
      new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Puts the item unless one with its key exists; returns the item that is stored either way. */
export async function putOnce(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: KeyedItem,
): Promise<Record<string, unknown>> {
  if (await putIfAbsent(client, tableName, item)) return item;
  const { Item } = await client.send(
    new GetCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }),
  );
  // Nothing deletes a write-once item; if someone did, nothing is stored any more, so this one is.
  return Item ?? putOnce(client, tableName, item);
}

/**
 * Flags a stored journal entry as appended to the ledger (an owed record that no longer needs
 * settling). The entry itself is never changed: only the flag is added.
 */
export async function markAppended(
  client: DynamoDBDocumentClient,
  tableName: string,
  key: { readonly pk: string; readonly sk: string },
): Promise<void> {
  await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: key,
      UpdateExpression: 'SET appended = :true',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':true': true },
    }),
  );
}
