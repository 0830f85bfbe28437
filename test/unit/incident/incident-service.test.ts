import { describe, expect, it } from 'vitest';
import { DynamoDbIncidentRepository } from '../../../lambdas/adapters/aws/dynamodb-incident-repository';
import { MemoryLedgerStore } from '../../../lambdas/adapters/local/memory-ledger-store';
import { parseAlarmSignal } from '../../../lambdas/core/incident/alarm-signal';
import { classifyAlarm } from '../../../lambdas/core/incident/classify';
import { InvalidTransitionError } from '../../../lambdas/core/incident/incident';
import {
  type Actor,
  IncidentOpeningInProgressError,
  IncidentService,
} from '../../../lambdas/core/incident/incident-service';
import { SequencedLedger } from '../../../lambdas/core/ledger/ledger';
import { alarmStateChangeEvent } from '../../../local/harness/alarm-events';
import { useEmbeddedDynamoDb } from '../../support/embedded-dynamodb';
import { TEST_ORIGIN, testSigner } from '../../support/ledger-fixtures';

const dynamo = useEmbeddedDynamoDb();

async function setUp(start = Date.parse('2026-11-23T04:00:00.000Z')) {
  const tableName = await dynamo.freshTable('incidents');
  const repository = new DynamoDbIncidentRepository(dynamo.client().documentClient, tableName);
  const ledger = new SequencedLedger({
    store: new MemoryLedgerStore(),
    signer: testSigner().signer,
    origin: TEST_ORIGIN,
    settleMs: 0,
  });
  let now = start;
  const clock = {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
  const service = new IncidentService(repository, ledger, clock.now);
  return { repository, ledger, service, clock };
}

const execution = (n: number): Actor => ({
  type: 'workflow',
  id: 'aor-incident-response',
  execution: `arn:aws-us-gov:states:us-gov-west-1:111122223333:execution:aor-incident-response:run-${n}`,
  state: 'Take in alarm',
});
const operator: Actor = { type: 'iam-principal', id: 'arn:aws-us-gov:iam::111122223333:user/oncall' };

function alarm(state: 'ALARM' | 'OK', seq = 0) {
  return parseAlarmSignal(
    alarmStateChangeEvent({
      alarmName: 'phoenix-rooivalk-blockchain-node-down',
      state,
      time: new Date(Date.UTC(2026, 10, 23, 4, 0, seq)),
    }),
    new Date(),
  );
}

describe('incident service on DynamoDB (dynalite)', () => {
  it('opens one incident for 50 identical alarms arriving at once; the rest are repeats on its timeline', async () => {
    const { service, repository, ledger } = await setUp();
    const signal = alarm('ALARM');
    const classification = classifyAlarm(signal);
    // As the state machine does: IncidentOpeningInProgressError is retried after a pause.
    const intake = async (n: number) => {
      for (;;) {
        try {
          return await service.openOrRepeat(signal, classification, execution(n));
        } catch (error) {
          if (!(error instanceof IncidentOpeningInProgressError)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    };
    const results = await Promise.all(Array.from({ length: 50 }, (_, n) => intake(n)));
    expect(results.filter((r) => r.isNew)).toHaveLength(1);
    const ids = new Set(results.map((r) => r.incident.id));
    expect([...ids]).toEqual(['INC-20261123-0001']);

    const incidents = await repository.listIncidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ repeatCount: 49, status: 'open', playbook: 'blockchain_node_down' });
    const timeline = await repository.readTimeline('INC-20261123-0001');
    expect(timeline.filter((e) => e.type === 'opened')).toHaveLength(1);
    expect(timeline.filter((e) => e.type === 'alarm-repeated')).toHaveLength(49);
    // No incident number was burned by the losers: the next incident of the day is 0002.
    expect(await repository.nextSequence('2026-11-23')).toBe(2);
    expect((await ledger.integrate()).treeSize).toBe(50);
  });

  it('resolves the open incident when its alarm returns to OK, and opens a new one for the next episode', async () => {
    const { service, repository, clock } = await setUp();
    const first = await service.openOrRepeat(alarm('ALARM'), classifyAlarm(alarm('ALARM')), execution(1));
    clock.advance(7 * 60_000);
    const resolved = await service.resolveOnRecovery(alarm('OK'), execution(2));
    expect(resolved).toMatchObject({ id: first.incident.id, status: 'resolved', timeToResolveSeconds: 420 });
    expect(await repository.readClaim('phoenix-rooivalk-blockchain-node-down')).toBeUndefined();
    expect(await service.resolveOnRecovery(alarm('OK', 1), execution(3))).toBeUndefined();

    const next = await service.openOrRepeat(
      alarm('ALARM', 2),
      classifyAlarm(alarm('ALARM', 2)),
      execution(4),
    );
    expect(next).toMatchObject({ isNew: true, incident: { id: 'INC-20261123-0002' } });
  });

  it('takes over a claim whose holder died before allocating an id, once it is stale', async () => {
    const { service, repository, clock } = await setUp();
    await repository.claimAlarm(
      'phoenix-rooivalk-blockchain-node-down',
      'dead-execution',
      clock.now().toISOString(),
    );
    const signal = alarm('ALARM');
    await expect(service.openOrRepeat(signal, classifyAlarm(signal), execution(1))).rejects.toThrow(
      IncidentOpeningInProgressError,
    );
    clock.advance(61_000);
    const taken = await service.openOrRepeat(signal, classifyAlarm(signal), execution(1));
    expect(taken).toMatchObject({ isNew: true, incident: { id: 'INC-20261123-0001' } });
  });

  it('acknowledges, resolves and closes with notes; invalid changes are refused and nothing is written', async () => {
    const { service, repository } = await setUp();
    const { incident } = await service.openOrRepeat(
      alarm('ALARM'),
      classifyAlarm(alarm('ALARM')),
      execution(1),
    );
    expect(await service.escalationState(incident.id)).toEqual({
      acknowledged: false,
      active: true,
      escalationLevel: 0,
    });
    await service.acknowledge(incident.id, operator);
    expect(await service.escalationState(incident.id)).toMatchObject({ acknowledged: true });
    const before = await repository.readTimeline(incident.id);
    await expect(service.changeStatus(incident.id, 'closed', operator, 'done')).rejects.toThrow(
      InvalidTransitionError,
    );
    expect(await repository.readTimeline(incident.id)).toHaveLength(before.length);
    await service.changeStatus(incident.id, 'resolved', operator);
    const closed = await service.changeStatus(
      incident.id,
      'closed',
      operator,
      'Node restarted; disk expanded.',
    );
    expect(closed).toMatchObject({ status: 'closed', resolutionNotes: 'Node restarted; disk expanded.' });
    expect((await repository.readTimeline(incident.id)).map((e) => e.type)).toEqual([
      'opened',
      'acknowledged',
      'status-changed',
      'status-changed',
    ]);
  });
});
