import { randomUUID } from 'node:crypto';
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
import { queryItems } from './dynamodb-batches';
import {
  type AlarmClaim,
  type IncidentRepository,
  IncidentVersionConflictError,
} from '../../core/incident/ports';

/**
 * The incidents table:
 *
 * | pk | sk | what |
 * |---|---|---|
 * | `INCIDENT#<id>` | `META` | the incident (version-checked writes) |
 * | `INCIDENT#<id>` | `TIMELINE#<at>#<uuid>` | its timeline, in time order |
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
    if (await this.putIfAbsent({ ...keys.claim(alarmName), ...claim })) return { won: true, claim };
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
    return this.putIfAbsent({ ...keys.incident(incident.id), ...incident });
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

  async appendTimeline(incidentId: string, event: TimelineEvent): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        // Events of one millisecond keep the order this process wrote them in (hrtime), and never
        // collide with another writer's (uuid).
        Item: {
          pk: `INCIDENT#${incidentId}`,
          sk: `TIMELINE#${event.at}#${process.hrtime.bigint().toString().padStart(20, '0')}#${randomUUID()}`,
          ...event,
        },
      }),
    );
  }

  async readTimeline(incidentId: string): Promise<TimelineEvent[]> {
    const events: TimelineEvent[] = [];
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :timeline)',
      ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':timeline': 'TIMELINE#' },
      ConsistentRead: true,
    });
    for await (const { pk: _pk, sk: _sk, ...event } of items) events.push(event as unknown as TimelineEvent);
    return events;
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

  private async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function toIncident(item: Record<string, unknown>): Incident {
  const { pk: _pk, sk: _sk, ...incident } = item;
  return incident as unknown as Incident;
}
