import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DynamoDbIncidentRepository } from '../../../lambdas/adapters/aws/dynamodb-incident-repository';
import { parseAlarmSignal } from '../../../lambdas/core/incident/alarm-signal';
import { classifyAlarm } from '../../../lambdas/core/incident/classify';
import {
  IncidentNotFoundError,
  InvalidTransitionError,
  ResolutionNotesRequiredError,
} from '../../../lambdas/core/incident/incident';
import {
  type Actor,
  IncidentOpeningInProgressError,
  IncidentService,
} from '../../../lambdas/core/incident/incident-service';
import type { RecordedEvent } from '../../../lambdas/core/incident/ports';
import { InvalidAuditRecordError } from '../../../lambdas/core/ledger/audit-record';
import type { ActionPorts, ActionSettings } from '../../../lambdas/core/incident/actions';
import type { Notifier } from '../../../lambdas/core/operations/ports';
import { createActionHandler } from '../../../lambdas/handlers/incident/action';
import { createNotifyHandler } from '../../../lambdas/handlers/incident/notify';
import { alarmStateChangeEvent } from '../../../local/harness/alarm-events';
import { useEmbeddedDynamoDb } from '../../support/embedded-dynamodb';
import { namedError, RecordingTrail } from '../../support/recording-trail';

const dynamo = useEmbeddedDynamoDb();

async function setUp(start = Date.parse('2026-11-23T04:00:00.000Z')) {
  const tableName = await dynamo.freshTable('incidents');
  const repository = new DynamoDbIncidentRepository(dynamo.client().documentClient, tableName);
  const trail = new RecordingTrail();
  let now = start;
  const clock = {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
  const service = new IncidentService(repository, trail, clock.now);
  return { repository, trail, service, clock };
}

const execution = (n: number): Actor => ({
  type: 'workflow',
  id: 'aor-incident-response',
  execution: `arn:aws-us-gov:states:us-gov-west-1:111122223333:execution:aor-incident-response:run-${n}`,
  state: 'Take in alarm',
});
const operator: Actor = { type: 'iam-principal', id: 'arn:aws-us-gov:iam::111122223333:user/oncall' };

/** The service with the incident of the test alarm opened by execution 1. */
async function setUpWithIncident() {
  const setup = await setUp();
  const { incident } = await setup.service.openOrRepeat(
    alarm('ALARM'),
    classifyAlarm(alarm('ALARM')),
    execution(1),
  );
  return { ...setup, incident };
}

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
    const { service, repository, trail } = await setUp();
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
    expect(trail.stored()).toHaveLength(50);
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
    const { service, repository, incident } = await setUpWithIncident();
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

/** The attempt's failure, as the state machine sees it: its error name decides the Retry. */
async function failure(attempt: Promise<unknown>): Promise<Error> {
  return attempt.then(
    () => expect.unreachable('the attempt must fail'),
    (error: Error) => error,
  );
}

describe('a retried step records each event exactly once (Step Functions retries a failed task)', () => {
  // A retry comes seconds after the failed attempt: whatever the clock stamps differs between them.
  const RETRY_DELAY_MS = 4_000;

  it('opened: the append is throttled once; the retry records the first attempt’s record, once', async () => {
    const { service, repository, trail, clock } = await setUp();
    const signal = alarm('ALARM');
    trail.failNext('ThrottlingException');
    const first = await failure(service.openOrRepeat(signal, classifyAlarm(signal), execution(1)));
    expect(first.name).toBe('ThrottlingException');
    clock.advance(RETRY_DELAY_MS);

    const retried = await service.openOrRepeat(signal, classifyAlarm(signal), execution(1));

    expect(retried).toMatchObject({ isNew: true, incident: { id: 'INC-20261123-0001' } });
    const opened = trail.storedOf('incident.opened');
    expect(opened).toHaveLength(1);
    expect(opened[0]?.entry).toBe(trail.attemptsOf('incident.opened')[0]);
    const timeline = await repository.readTimeline('INC-20261123-0001');
    expect(timeline.filter((e) => e.type === 'opened')).toHaveLength(1);
  });

  it('acknowledged: a retry by the same person records it once; someone acknowledging later adds nothing', async () => {
    const { service, repository, trail, clock, incident } = await setUpWithIncident();
    clock.advance(60_000);
    trail.failNext('ThrottlingException');
    expect((await failure(service.acknowledge(incident.id, operator))).name).toBe('ThrottlingException');
    clock.advance(RETRY_DELAY_MS);

    await service.acknowledge(incident.id, operator);
    await service.acknowledge(incident.id, { type: 'operator', id: 'operator:second-on-call' });

    const acknowledged = trail.storedOf('incident.acknowledged');
    expect(acknowledged).toHaveLength(1);
    expect(acknowledged[0]?.entry).toBe(trail.attemptsOf('incident.acknowledged')[0]);
    expect(acknowledged[0]?.record.actor.id).toBe(operator.id);
    const timeline = await repository.readTimeline(incident.id);
    expect(timeline.filter((e) => e.type === 'acknowledged')).toEqual([
      expect.objectContaining({ actor: operator.id, at: '2026-11-23T04:01:00.000Z' }),
    ]);
  });

  it('acknowledged: stays the acknowledger’s record when someone else acknowledges before their retry', async () => {
    const { service, repository, trail, clock, incident } = await setUpWithIncident();
    // The acknowledgement is saved, then storing what it owes fails.
    const storage = Object.create(repository) as DynamoDbIncidentRepository;
    storage.putEventOnce = async (): Promise<RecordedEvent> => {
      throw namedError('ThrottlingException');
    };
    await failure(new IncidentService(storage, trail, clock.now).acknowledge(incident.id, operator));
    const someoneElse: Actor = { type: 'operator', id: 'operator:second-on-call' };

    await service.acknowledge(incident.id, someoneElse);
    await service.acknowledge(incident.id, operator);

    expect(trail.storedOf('incident.acknowledged').map((r) => r.record.actor.id)).toEqual([operator.id]);
    expect((await repository.readTimeline(incident.id)).filter((e) => e.type === 'acknowledged')).toEqual([
      expect.objectContaining({ actor: operator.id }),
    ]);
  });

  it('status changed: a status entered again (resolved, reopened, resolved) is recorded each time', async () => {
    const { service, trail, clock, incident } = await setUpWithIncident();
    for (const to of ['resolved', 'investigating', 'resolved'] as const) {
      clock.advance(60_000);
      await service.changeStatus(incident.id, to, operator);
    }
    expect(trail.storedOf('incident.status-changed').map((r) => r.record.inputs)).toEqual([
      { from: 'open', to: 'resolved' },
      { from: 'resolved', to: 'investigating' },
      { from: 'investigating', to: 'resolved' },
    ]);
  });

  it('status changed: the retry of a resolution whose append failed records it once instead of refusing', async () => {
    const { service, repository, trail, clock, incident } = await setUpWithIncident();
    trail.failNext('ThrottlingException');
    await failure(service.changeStatus(incident.id, 'resolved', operator, 'disk expanded'));
    clock.advance(RETRY_DELAY_MS);

    const resolved = await service.changeStatus(incident.id, 'resolved', operator, 'disk expanded');

    expect(resolved).toMatchObject({ status: 'resolved' });
    const changes = trail.storedOf('incident.status-changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]?.entry).toBe(trail.attemptsOf('incident.status-changed')[0]);
    const timeline = await repository.readTimeline(incident.id);
    expect(timeline.filter((e) => e.type === 'status-changed')).toHaveLength(1);
    // The retry also finished what the failed attempt could not: the alarm is free again.
    expect(await repository.readClaim('phoenix-rooivalk-blockchain-node-down')).toBeUndefined();
  });

  it('status changed: the retry of a resolution on OK records it once and frees the alarm', async () => {
    const { service, repository, trail, clock, incident } = await setUpWithIncident();
    trail.failNext('ThrottlingException');
    await failure(service.resolveOnRecovery(alarm('OK', 1), execution(2)));
    clock.advance(RETRY_DELAY_MS);

    const resolved = await service.resolveOnRecovery(alarm('OK', 1), execution(2));

    expect(resolved).toMatchObject({ id: incident.id, status: 'resolved' });
    expect(trail.storedOf('incident.status-changed')).toHaveLength(1);
    expect(await repository.readClaim('phoenix-rooivalk-blockchain-node-down')).toBeUndefined();
  });

  it('escalated: the level stays unsaved until its record is appended, so the retry escalates the same tier once', async () => {
    const { service, repository, trail, clock, incident } = await setUpWithIncident();
    clock.advance(300_000);
    trail.failNext('ThrottlingException');
    await failure(service.recordEscalation(incident.id, 'incident-commander', 1, execution(1)));
    // What the workflow's retry reads to decide the tier: still the one the failed attempt escalated to.
    expect(await service.escalationState(incident.id)).toMatchObject({ escalationLevel: 0 });
    clock.advance(RETRY_DELAY_MS);

    const escalated = await service.recordEscalation(incident.id, 'incident-commander', 1, execution(1));

    expect(escalated.escalationLevel).toBe(1);
    const records = trail.storedOf('incident.escalated');
    expect(records).toHaveLength(1);
    expect(records[0]?.entry).toBe(trail.attemptsOf('incident.escalated')[0]);
    const timeline = await repository.readTimeline(incident.id);
    expect(timeline.filter((e) => e.type === 'escalated')).toHaveLength(1);
  });

  it('a genuine repeat records once per alarm event, and a retried one is counted once', async () => {
    const { service, repository, trail, clock, incident } = await setUpWithIncident();
    await service.openOrRepeat(alarm('ALARM', 1), classifyAlarm(alarm('ALARM', 1)), execution(2));
    trail.failNext('ThrottlingException');
    await failure(service.openOrRepeat(alarm('ALARM', 2), classifyAlarm(alarm('ALARM', 2)), execution(3)));
    clock.advance(RETRY_DELAY_MS);

    const retried = await service.openOrRepeat(
      alarm('ALARM', 2),
      classifyAlarm(alarm('ALARM', 2)),
      execution(3),
    );

    expect(retried.isNew).toBe(false);
    const repeats = trail.storedOf('incident.alarm-repeated');
    expect(repeats.map((r) => r.record.inputs?.eventId)).toEqual([
      alarm('ALARM', 1).eventId,
      alarm('ALARM', 2).eventId,
    ]);
    const timeline = await repository.readTimeline(incident.id);
    expect(timeline.filter((e) => e.type === 'alarm-repeated')).toHaveLength(2);
    expect((await service.requireIncident(incident.id)).repeatCount).toBe(2);
  });

  it('a note whose append failed is recorded once under its key on the retry', async () => {
    const { service, repository, trail, clock, incident } = await setUpWithIncident();
    const note = () =>
      service.note(
        incident.id,
        execution(1),
        {
          type: 'notified',
          message: 'notified ops-team',
          details: { channel: 'ops-team', at: clock.now().toISOString() },
        },
        'run-1/Notify_channels/ops-team/req-1',
        'succeeded',
      );
    trail.failNext('ThrottlingException');
    await failure(note());
    clock.advance(RETRY_DELAY_MS);
    await note();

    expect(trail.storedOf('incident.notified')).toHaveLength(1);
    expect(trail.storedOf('incident.notified')[0]?.entry).toBe(trail.attemptsOf('incident.notified')[0]);
    expect((await repository.readTimeline(incident.id)).filter((e) => e.type === 'notified')).toHaveLength(1);
  });
});

describe('the workflow’s guarded status change (only from the statuses it names)', () => {
  it('treats its own retry as the change it made, and records that change once', async () => {
    const { service, trail, clock, incident } = await setUpWithIncident();
    const startMitigation = { ...execution(1), state: 'Start mitigation' };
    trail.failNext('ThrottlingException');
    await failure(
      service.changeStatusFrom(incident.id, 'mitigating', ['open', 'investigating'], startMitigation),
    );
    clock.advance(4_000);

    const retried = await service.changeStatusFrom(
      incident.id,
      'mitigating',
      ['open', 'investigating'],
      startMitigation,
    );

    expect(retried).toMatchObject({ changed: true, incident: { status: 'mitigating' } });
    expect(trail.storedOf('incident.status-changed')).toHaveLength(1);
  });

  it('leaves alone what someone else moved, to that status or another, and records nothing', async () => {
    const { service, trail, incident } = await setUpWithIncident();
    await service.changeStatus(incident.id, 'mitigating', operator);
    const recorded = trail.stored().length;

    const mitigation = await service.changeStatusFrom(incident.id, 'mitigating', ['open', 'investigating'], {
      ...execution(1),
      state: 'Start mitigation',
    });

    expect(mitigation).toMatchObject({ changed: false, incident: { status: 'mitigating' } });
    // A person asking for the status the incident already has is still told why not.
    await expect(
      service.changeStatus(incident.id, 'mitigating', { type: 'operator', id: 'operator:someone-else' }),
    ).rejects.toThrow(InvalidTransitionError);
    expect(trail.stored()).toHaveLength(recorded);
  });
});

describe('bad input keeps its named errors, and nothing is half-written', () => {
  it('a change the lifecycle refuses writes nothing: no event, no record', async () => {
    const { service, repository, trail, incident } = await setUpWithIncident();
    await service.changeStatus(incident.id, 'resolved', operator);
    const timeline = await repository.readTimeline(incident.id);
    const calls = trail.calls.length;

    await expect(service.changeStatus(incident.id, 'closed', operator)).rejects.toThrow(
      ResolutionNotesRequiredError,
    );
    await expect(service.acknowledge('INC-20261123-0099', operator)).rejects.toThrow(IncidentNotFoundError);
    await expect(
      service.recordEscalation('INC-20261123-0099', 'incident-commander', 1, execution(1)),
    ).rejects.toThrow(IncidentNotFoundError);

    expect(await repository.readTimeline(incident.id)).toEqual(timeline);
    expect(trail.calls).toHaveLength(calls);
  });

  it('a record the ledger would refuse is refused before it is stored: the retry does not meet it again', async () => {
    const { service, repository, trail, incident } = await setUpWithIncident();
    const calls = trail.calls.length;

    const refused = await failure(
      service.note(
        incident.id,
        execution(1),
        { type: 'action-succeeded', message: 'forensics captured' },
        'run-1/Run_action/capture_forensics/succeeded/req-1',
        'succeeded',
        [{ sha256: 'not-a-digest' }],
      ),
    );

    expect(refused).toBeInstanceOf(InvalidAuditRecordError);
    expect((await repository.readTimeline(incident.id)).map((e) => e.type)).toEqual(['opened']);
    expect(trail.calls).toHaveLength(calls);
  });

  it('when the event cannot be stored, nothing is appended', async () => {
    const { repository, trail, clock } = await setUp();
    const storage = Object.create(repository) as DynamoDbIncidentRepository;
    storage.putEventOnce = async (): Promise<RecordedEvent> => {
      throw namedError('ProvisionedThroughputExceededException');
    };
    const service = new IncidentService(storage, trail, clock.now);

    const stored = await failure(
      service.openOrRepeat(alarm('ALARM'), classifyAlarm(alarm('ALARM')), execution(1)),
    );

    expect(stored.name).toBe('ProvisionedThroughputExceededException');
    expect(trail.calls).toEqual([]);
  });
});

describe('escalation through the notify task, retried by the state machine', () => {
  const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

  it('a throttled record makes the retry page the same tier and record that escalation once', async () => {
    const { service, trail, clock, incident } = await setUpWithIncident();
    const paged: string[] = [];
    const escalate = createNotifyHandler(() => ({
      incidents: service,
      notifier: {
        publish: async (channel) => {
          paged.push(channel);
          return `message-${paged.length}`;
        },
      },
      executionUrl: (arn) => `https://console.example/${arn}`,
    }));
    const input = {
      operation: 'escalate-if-unacknowledged' as const,
      incidentId: incident.id,
      task: { execution: execution(1).execution ?? '', state: 'Escalate if unacknowledged' },
    };
    clock.advance(300_000);
    trail.failNext('ThrottlingException');
    expect((await failure(escalate(input, context))).name).toBe('ThrottlingException');
    clock.advance(2_000);

    const retried = await escalate(input, context);

    expect(retried).toMatchObject({ escalated: true, tier: 'incident-commander', escalationLevel: 1 });
    expect(trail.storedOf('incident.escalated').map((r) => r.record.inputs)).toEqual([
      { tier: 'incident-commander', level: 1 },
    ]);
    // The retry finds the escalation its first attempt stored, and does not page the tier again.
    expect(paged).toEqual(['incident-commander']);
  });
});

describe('action and notification tasks retried by the state machine', () => {
  const attempt = (n: number) =>
    ({ awsRequestId: `req-${n}`, getRemainingTimeInMillis: () => 60_000 }) as unknown as Context;

  async function openIncident() {
    const setup = await setUpWithIncident();
    const published: string[] = [];
    const notifier = {
      failures: 0,
      publish: async (channel: string) => {
        if (notifier.failures-- > 0) throw namedError('SnsThrottledError');
        published.push(channel);
        return `message-${published.length}`;
      },
    };
    const task = (state: string) => ({ execution: execution(1).execution ?? '', state });
    return { ...setup, published, notifier, task };
  }

  function actionTask(service: IncidentService, notifier: Notifier) {
    return createActionHandler(() => ({
      incidents: service,
      settings: {} as ActionSettings,
      ports: { notifier, clock: () => new Date() } as unknown as ActionPorts,
    }));
  }

  it('an action whose record is throttled is not run again by the retry, and is recorded once', async () => {
    const { service, trail, incident, published, notifier, task } = await openIncident();
    const run = actionTask(service, notifier);
    const input = {
      incidentId: incident.id,
      action: 'notify_security_team' as const,
      task: task('Run action'),
    };
    trail.failNext('ThrottlingException');
    expect((await failure(run(input, attempt(1)))).name).toBe('ThrottlingException');

    expect(await run(input, attempt(2))).toMatchObject({
      status: 'succeeded',
      action: 'notify_security_team',
    });
    expect(published).toEqual(['security-team']);
    expect(trail.storedOf('incident.action-succeeded')).toHaveLength(1);
    expect(trail.storedOf('incident.action-failed')).toHaveLength(0);
  });

  it('a failed attempt whose record was throttled is settled by the next attempt: each attempt recorded once', async () => {
    const { service, trail, incident, notifier, task } = await openIncident();
    const run = actionTask(service, notifier);
    const input = {
      incidentId: incident.id,
      action: 'notify_security_team' as const,
      task: task('Run action'),
    };
    notifier.failures = 1;
    trail.failNext('ThrottlingException');
    expect((await failure(run(input, attempt(1)))).name).toBe('ThrottlingException');

    await run(input, attempt(2));
    expect(trail.storedOf('incident.action-failed').map((r) => r.record.inputs)).toEqual([
      { action: 'notify_security_team', error: 'SnsThrottledError' },
    ]);
    expect(trail.storedOf('incident.action-succeeded')).toHaveLength(1);
  });

  it('a channel paged before its record was throttled is not paged again by the retry', async () => {
    const { service, trail, incident, published, notifier, task } = await openIncident();
    const notify = createNotifyHandler(() => ({ incidents: service, notifier, executionUrl: (arn) => arn }));
    const input = {
      operation: 'notify-channels' as const,
      incidentId: incident.id,
      channels: ['ops-team', 'blockchain-team'] as ('ops-team' | 'blockchain-team')[],
      task: task('Notify channels'),
    };
    trail.failNext('ThrottlingException');
    expect((await failure(notify(input, attempt(1)))).name).toBe('ThrottlingException');

    expect(await notify(input, attempt(2))).toEqual({ delivered: ['ops-team', 'blockchain-team'] });
    expect(published).toEqual(['ops-team', 'blockchain-team']);
    expect(trail.storedOf('incident.notified')).toHaveLength(2);
  });
});
