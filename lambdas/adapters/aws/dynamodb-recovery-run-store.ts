import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import type { OwedEntry } from '../../core/ledger/owed-records';
import type { ApprovalDecision, StartRequest } from '../../core/recovery/approvals';
import { RUNS_SUBJECT_INDEX, RUNS_TABLE_KEYS } from '../../core/recovery/recovery-contract';
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

  releaseLockOf(execution: string): Promise<void> {
    return this.releaseLockHeldBy('execution', execution);
  }

  releaseLock(runId: string): Promise<void> {
    return this.releaseLockHeldBy('runId', runId);
  }

  /** Deletes the lock if its holder's field has this value; a lock held by another stays. */
  private async releaseLockHeldBy(field: 'runId' | 'execution', value: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: LOCK_KEY,
          ConditionExpression: '#field = :value',
          ExpressionAttributeNames: { '#field': field },
          ExpressionAttributeValues: { ':value': value },
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

  async hasRecord(runId: string, idempotencyKey: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `RUN#${runId}`, sk: `RECORD#${idempotencyKey}` },
        ProjectionExpression: 'pk',
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async markRecordAppended(runId: string, idempotencyKey: string): Promise<void> {
    await markAppended(this.client, this.tableName, { pk: `RUN#${runId}`, sk: `RECORD#${idempotencyKey}` });
  }

  async putApprovalRequest(runId: string, requestedAt: string): Promise<string> {
    const stored = await putOnce(this.client, this.tableName, {
      pk: `RUN#${runId}`,
      sk: 'APPROVAL',
      requestedAt,
    });
    return String(stored.requestedAt);
  }

  async approvalRequestedAt(runId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `RUN#${runId}`, sk: 'APPROVAL' },
        ConsistentRead: true,
      }),
    );
    return Item?.requestedAt === undefined ? undefined : String(Item.requestedAt);
  }

  async approvalDecisions(runId: string): Promise<ApprovalDecision[]> {
    const decisions: ApprovalDecision[] = [];
    for await (const item of this.bySubject(RUNS_TABLE_KEYS.approvalSubject(runId))) {
      decisions.push({
        runId: String(item.runId),
        principalId: personOf(item, RUNS_TABLE_KEYS.approvalDecision('')),
        principalArn: String(item.principalArn),
        decision: item.decision === 'reject' ? 'reject' : 'approve',
        reason: String(item.reason ?? ''),
        at: String(item.at),
      });
    }
    // Only items of this run (the index is keyed by subject; the sort key is the author).
    return decisions.filter((d) => d.runId === runId);
  }

  async putApprovalDecision(decision: ApprovalDecision): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: RUNS_TABLE_KEYS.approvalDecision(decision.principalId),
          sk: decision.runId,
          subject: RUNS_TABLE_KEYS.approvalSubject(decision.runId),
          runId: decision.runId,
          principalArn: decision.principalArn,
          decision: decision.decision,
          reason: decision.reason,
          at: decision.at,
        },
      }),
    );
  }

  async startRequests(executionName: string): Promise<StartRequest[]> {
    const requests: StartRequest[] = [];
    for await (const item of this.bySubject(RUNS_TABLE_KEYS.startSubject(executionName))) {
      if (item.executionName !== executionName) continue;
      requests.push({
        executionName,
        principalId: personOf(item, RUNS_TABLE_KEYS.startRequest('')),
        principalArn: String(item.principalArn),
        at: String(item.at),
      });
    }
    return requests;
  }

  async putStartRequest(request: StartRequest): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: RUNS_TABLE_KEYS.startRequest(request.principalId),
          sk: request.executionName,
          subject: RUNS_TABLE_KEYS.startSubject(request.executionName),
          executionName: request.executionName,
          principalArn: request.principalArn,
          at: request.at,
        },
        // A start request is a statement made once: nobody rewrites when they said it.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listRuns(): Promise<RecoveryRunRecord[]> {
    const runs: RecoveryRunRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      // Few runs a year: a filtered scan saves an index every write would pay for.
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :meta AND begins_with(pk, :run)',
          ExpressionAttributeValues: { ':meta': 'META', ':run': 'RUN#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const { pk: _pk, sk: _sk, ...run } of page.Items ?? []) runs.push(run as RecoveryRunRecord);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  private bySubject(subject: string) {
    return queryItems(this.client, {
      TableName: this.tableName,
      IndexName: RUNS_SUBJECT_INDEX.name,
      KeyConditionExpression: '#subject = :subject',
      ExpressionAttributeNames: { '#subject': RUNS_SUBJECT_INDEX.partitionKey },
      ExpressionAttributeValues: { ':subject': subject },
    });
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

/** The person an item belongs to: its partition key after the prefix, which IAM let only them write. */
function personOf(item: Record<string, unknown>, prefix: string): string {
  return String(item.pk).slice(prefix.length);
}
