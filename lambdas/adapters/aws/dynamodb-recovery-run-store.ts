import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { OwedEntry } from '../../core/ledger/owed-records';
import type {
  LockHolder,
  RecoveryRunRecord,
  RecoveryRunStore,
  RecoveryStepRecord,
} from '../../core/recovery/run-store';
import { queryItems } from './dynamodb-batches';
import { markAppended, putOnce } from './dynamodb-write-once';

const LOCK_KEY = { pk: 'LOCK', sk: 'LOCK' };

/**
 * The recovery runs table: `LOCK/LOCK` (the one-run-at-a-time lock, with a TTL attribute so
 * DynamoDB also removes a dead run's lock), `RUN#<id>/META`, `RUN#<id>/STEP#<start>#<step>` and
 * `RUN#<id>/RECORD#<idempotency key>` (what a step owes the ledger, written once).
 */
export class DynamoDbRecoveryRunStore implements RecoveryRunStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async acquireLock(
    holder: LockHolder,
    now: Date,
  ): Promise<{ acquired: true } | { acquired: false; holder: LockHolder }> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...LOCK_KEY, ...holder, expiresAtEpoch: Math.floor(Date.parse(holder.expiresAt) / 1000) },
          // Free, expired, or already ours (a retried start of the same run).
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR runId = :runId',
          ExpressionAttributeValues: { ':now': now.toISOString(), ':runId': holder.runId },
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: LOCK_KEY, ConsistentRead: true }),
      );
      return {
        acquired: false,
        holder: {
          runId: String(Item?.runId),
          ...(Item?.execution !== undefined && { execution: String(Item.execution) }),
          acquiredAt: String(Item?.acquiredAt),
          expiresAt: String(Item?.expiresAt),
        },
      };
    }
  }

  async releaseLock(runId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: LOCK_KEY,
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':runId': runId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async putRun(run: RecoveryRunRecord): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: `RUN#${run.runId}`, sk: 'META', ...run } }),
    );
  }

  async getRun(runId: string): Promise<RecoveryRunRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `RUN#${runId}`, sk: 'META' },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...run } = Item;
    return run as RecoveryRunRecord;
  }

  async recordStep(runId: string, step: RecoveryStepRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `RUN#${runId}`, sk: `STEP#${step.startedAt}#${step.step}`, ...step },
      }),
    );
  }

  async putRecordOnce<Entry extends OwedEntry>(
    runId: string,
    idempotencyKey: string,
    entry: Entry,
  ): Promise<Entry> {
    const stored = await putOnce(this.client, this.tableName, {
      pk: `RUN#${runId}`,
      sk: `RECORD#${idempotencyKey}`,
      // As JSON text: the ledger gets back the very bytes it was first given.
      entry: JSON.stringify(entry),
    });
    return JSON.parse(String(stored.entry)) as Entry;
  }

  async markRecordAppended(runId: string, idempotencyKey: string): Promise<void> {
    await markAppended(this.client, this.tableName, { pk: `RUN#${runId}`, sk: `RECORD#${idempotencyKey}` });
  }

  async putApprovalToken(runId: string, taskToken: string, requestedAt: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `RUN#${runId}`, sk: 'APPROVAL', taskToken, requestedAt },
      }),
    );
  }

  async approvalToken(runId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `RUN#${runId}`, sk: 'APPROVAL' },
        ConsistentRead: true,
      }),
    );
    return Item?.taskToken === undefined ? undefined : String(Item.taskToken);
  }

  async readSteps(runId: string): Promise<RecoveryStepRecord[]> {
    const steps: RecoveryStepRecord[] = [];
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :step)',
      ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':step': 'STEP#' },
      ConsistentRead: true,
    });
    for await (const { pk: _pk, sk: _sk, ...step } of items)
      steps.push(step as unknown as RecoveryStepRecord);
    return steps;
  }
}
