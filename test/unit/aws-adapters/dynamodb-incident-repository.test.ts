import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbIncidentRepository } from '../../../lambdas/adapters/aws/dynamodb-incident-repository';
import type { TimelineEvent } from '../../../lambdas/core/incident/incident';
import type { RecordedEvent } from '../../../lambdas/core/incident/ports';
import { canonicalEntryBytes } from '../../../lambdas/core/ledger/audit-record';
import { useEmbeddedDynamoDb } from '../../support/embedded-dynamodb';

const dynamo = useEmbeddedDynamoDb();
const INCIDENT = 'INC-20261123-0001';

function recorded(event: Omit<TimelineEvent, 'actor'>, inputs: Record<string, unknown> = {}): RecordedEvent {
  return {
    event: { ...event, actor: 'operator:on-call' },
    record: {
      action: `incident.${event.type}`,
      target: { type: 'incident', id: INCIDENT },
      actor: { type: 'operator', id: 'operator:on-call' },
      occurredAt: event.at,
      inputs,
      outputs: { status: 'open', version: 1 },
      outcome: 'succeeded',
      incidentId: INCIDENT,
    },
  };
}

async function repository() {
  const tableName = await dynamo.freshTable('incidents');
  return { tableName, repository: new DynamoDbIncidentRepository(dynamo.client().documentClient, tableName) };
}

describe('DynamoDbIncidentRepository: timeline events with the records they owe, written once', () => {
  it('keeps the first event stored under a key, and returns it to every later put', async () => {
    const { repository: incidents } = await repository();
    const first = recorded({ at: '2026-11-23T04:00:00.000Z', type: 'opened', message: 'first attempt' });
    const retry = recorded({ at: '2026-11-23T04:00:04.000Z', type: 'opened', message: 'retry' });

    expect(await incidents.putEventOnce(INCIDENT, `incident/${INCIDENT}/opened`, first)).toEqual(first);
    expect(await incidents.putEventOnce(INCIDENT, `incident/${INCIDENT}/opened`, retry)).toEqual(first);
    expect(await incidents.readTimeline(INCIDENT)).toEqual([first.event]);
  });

  it('gives back the record’s very bytes, whatever JSON it holds', async () => {
    const { repository: incidents } = await repository();
    const original = recorded(
      { at: '2026-11-23T04:00:00.000Z', type: 'note', message: 'values DynamoDB would reshape' },
      {
        ratio: 0.1,
        big: 1e21,
        empty: '',
        none: null,
        nested: { list: [1, 'two', { three: [] }] },
        text: 'Zürich ✓',
      },
    );
    await incidents.putEventOnce(INCIDENT, 'k', original);
    const stored = await incidents.putEventOnce(
      INCIDENT,
      'k',
      recorded({ ...original.event, message: 'other' }),
    );
    expect(Buffer.from(canonicalEntryBytes(stored.record))).toEqual(
      Buffer.from(canonicalEntryBytes(original.record)),
    );
  });

  it('reads the timeline in time order, events of one millisecond as first stored, older items too', async () => {
    const { tableName, repository: incidents } = await repository();
    // An event as the repository wrote them before it kept records: a time-ordered key, no record.
    await dynamo.client().documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: `INCIDENT#${INCIDENT}`,
          sk: 'TIMELINE#2026-11-23T03:59:00.000Z#00000000000000000001#0b7e',
          at: '2026-11-23T03:59:00.000Z',
          type: 'note',
          actor: 'operator:on-call',
          message: 'written before',
        },
      }),
    );
    const at = '2026-11-23T04:00:00.000Z';
    await incidents.putEventOnce(
      INCIDENT,
      'z-later-key',
      recorded({ at, type: 'opened', message: 'opened' }),
    );
    await incidents.putEventOnce(
      INCIDENT,
      'a-earlier-key',
      recorded({ at, type: 'notified', message: 'notified' }),
    );
    await incidents.putEventOnce(
      INCIDENT,
      'm-key',
      recorded({ at: '2026-11-23T03:59:30.000Z', type: 'note', message: 'earlier' }),
    );

    expect((await incidents.readTimeline(INCIDENT)).map((e) => e.message)).toEqual([
      'written before',
      'earlier',
      'opened',
      'notified',
    ]);
  });
});
