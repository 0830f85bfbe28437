import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Incident, TimelineEvent } from '../../core/incident/incident';
import {
  type AlarmClaim,
  type IncidentRepository,
  IncidentVersionConflictError,
  type RecordedEvent,
} from '../../core/incident/ports';
import type { AuditRecord } from '../../core/ledger/audit-record';
import type { UnsettledEntry } from '../../core/ledger/owed-records';
import { queryItems } from './dynamodb-batches';
import { markAppended, putIfAbsent, putOnce } from './dynamodb-write-once';

/**
 * The incidents table:
 *
 * | pk | sk | what |
 * |---|---|---|
 * | `INCIDENT#<id>` | `META` | the incident (version-checked writes) |
 * | `INCIDENT#<id>` | `TIMELINE#<idempotency key>` | an event of its timeline and the audit record it owes, written once |
 * | `ALARM#<alarm name>` | `CLAIM` | the alarm's claim while its incident is active |
 * | `COUNTER#<YYYY-MM-DD>` | `COUNTER` | the day's incident counter |
 */
const keys = {
  incident: (id: string) => ({ pk: `INCIDENT#${id}`, sk: 'META' }),
  claim: (alarmName: string) => ({ pk: `ALARM#${alarmName}`, sk: 'CLAIM' }),
  counter: (day: string) => ({ pk: `COUNTER#${day}`, sk: 'COUNTER' }),
};

export class DynamoDbIncidentRepository implements IncidentRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claimAlarm(
    alarmName: string,
    claimant: string,
    at: string,
  ): Promise<{ won: boolean; claim: AlarmClaim }> {
    const claim: AlarmClaim = { alarmName, claimedBy: claimant, claimedAt: at };
    if (await putIfAbsent(this.client, this.tableName, { ...keys.claim(alarmName), ...claim })) {
      return { won: true, claim };
    }
    const existing = await this.readClaim(alarmName);
    // Released between our put and our read: try once more.
    return existing ? { won: false, claim: existing } : this.claimAlarm(alarmName, claimant, at);
  }

  async bindClaim(alarmName: string, claimant: string, incidentId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.claim(alarmName),
        UpdateExpression: 'SET incidentId = :id',
        ConditionExpression: 'claimedBy = :claimant',
        ExpressionAttributeValues: { ':id': incidentId, ':claimant': claimant },
      }),
    );
  }

  async replaceStaleClaim(stale: AlarmClaim, claimant: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.claim(stale.alarmName),
          UpdateExpression: 'SET claimedBy = :claimant, claimedAt = :at',
          ConditionExpression: 'claimedBy = :stale AND claimedAt = :staleAt',
          ExpressionAttributeValues: {
            ':claimant': claimant,
            ':at': at,
            ':stale': stale.claimedBy,
            ':staleAt': stale.claimedAt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async readClaim(alarmName: string): Promise<AlarmClaim | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.claim(alarmName), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      alarmName: String(Item.alarmName),
      claimedBy: String(Item.claimedBy),
      claimedAt: String(Item.claimedAt),
      ...(Item.incidentId !== undefined && { incidentId: String(Item.incidentId) }),
    };
  }

  async releaseAlarm(alarmName: string, incidentId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.claim(alarmName),
          ConditionExpression: 'incidentId = :id',
          ExpressionAttributeValues: { ':id': incidentId },
        }),
      );
    } catch (error) {
      // Already released, or now claimed for a newer incident: either way not ours to delete.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async nextSequence(day: string): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.counter(day),
        UpdateExpression: 'ADD #sequence :one',
        ExpressionAttributeNames: { '#sequence': 'sequence' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.sequence);
  }

  async createIncident(incident: Incident): Promise<boolean> {
    return putIfAbsent(this.client, this.tableName, { ...keys.incident(incident.id), ...incident });
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.incident(id), ConsistentRead: true }),
    );
    return Item ? toIncident(Item) : undefined;
  }

  async saveIncident(incident: Incident): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.incident(incident.id), ...incident },
          ConditionExpression: 'version = :previous',
          ExpressionAttributeValues: { ':previous': incident.version - 1 },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new IncidentVersionConflictError(
          `${incident.id} changed since version ${incident.version - 1}`,
        );
      }
      throw error;
    }
  }

  async incrementRepeats(incidentId: string, at: string): Promise<Incident> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.incident(incidentId),
        UpdateExpression: 'ADD repeatCount :one, version :one SET updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1, ':at': at },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toIncident(Attributes ?? {});
  }

  async putEventOnce(
    incidentId: string,
    idempotencyKey: string,
    recorded: RecordedEvent,
  ): Promise<RecordedEvent> {
    const stored = await putOnce(this.client, this.tableName, {
      ...eventKey(incidentId, idempotencyKey),
      ...recorded.event,
      // As JSON text: the ledger gets back the very bytes it was first given, whatever DynamoDB
      // would make of nested maps and numbers.
      record: JSON.stringify(recorded.record),
      // Events of one millisecond keep the order this process first stored them in.
      storedOrder: process.hrtime.bigint().toString().padStart(20, '0'),
    });
    return toRecordedEvent(stored);
  }

  async getEvent(incidentId: string, idempotencyKey: string): Promise<RecordedEvent | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: eventKey(incidentId, idempotencyKey),
        ConsistentRead: true,
      }),
    );
    return Item && toRecordedEvent(Item);
  }

  async markEventAppended(incidentId: string, idempotencyKey: string): Promise<void> {
    await markAppended(this.client, this.tableName, eventKey(incidentId, idempotencyKey));
  }

  async unappendedEvents(incidentId: string): Promise<UnsettledEntry<RecordedEvent>[]> {
    const unsettled: UnsettledEntry<RecordedEvent>[] = [];
    for await (const item of queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :timeline)',
      FilterExpression: 'attribute_exists(#record) AND attribute_not_exists(appended)',
      ExpressionAttributeNames: { '#record': 'record' },
      ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':timeline': TIMELINE_PREFIX },
      ConsistentRead: true,
    })) {
      unsettled.push({
        idempotencyKey: String(item.sk).slice(TIMELINE_PREFIX.length),
        entry: toRecordedEvent(item),
      });
    }
    return unsettled;
  }

  async readTimeline(incidentId: string): Promise<TimelineEvent[]> {
    const items: Record<string, unknown>[] = [];
    for await (const item of queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :timeline)',
      ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':timeline': TIMELINE_PREFIX },
      ConsistentRead: true,
    })) {
      items.push(item);
    }
    // Keyed by idempotency key, the items come back in key order; the timeline is in time order.
    const order = (item: Record<string, unknown>) => `${String(item.at)}#${String(item.storedOrder ?? '')}`;
    return items.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)).map(toEvent);
  }

  async listIncidents(): Promise<Incident[]> {
    const incidents: Incident[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      // The table holds incidents of an operations team, not a consumer workload: a filtered
      // scan stays small, and saves an index that every write would pay for.
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :meta',
          ExpressionAttributeValues: { ':meta': 'META' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) incidents.push(toIncident(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return incidents.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }
}

const TIMELINE_PREFIX = 'TIMELINE#';

function eventKey(incidentId: string, idempotencyKey: string) {
  return { pk: `INCIDENT#${incidentId}`, sk: `${TIMELINE_PREFIX}${idempotencyKey}` };
}

function toEvent(item: Record<string, unknown>): TimelineEvent {
  const {
    pk: _pk,
    sk: _sk,
    record: _record,
    storedOrder: _storedOrder,
    appended: _appended,
    ...event
  } = item;
  return event as unknown as TimelineEvent;
}

function toRecordedEvent(item: Record<string, unknown>): RecordedEvent {
  return { event: toEvent(item), record: JSON.parse(String(item.record)) as AuditRecord };
}

function toIncident(item: Record<string, unknown>): Incident {
  const { pk: _pk, sk: _sk, ...incident } = item;
  return incident as unknown as Incident;
}
