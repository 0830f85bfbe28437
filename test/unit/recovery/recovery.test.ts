import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRecoveryRunStore } from '../../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import {
  InvalidRecoveryRequestError,
  measureRecovery,
  nextPollSeconds,
  parseRecoveryRequest,
  recoveryPlan,
} from '../../../lambdas/core/recovery/recovery';
import { recoverySettings } from '../../../lib/constructs/disaster-recovery-workflow';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from '../../../local/dynamodb/embedded-dynamodb';
import { exampleConfig } from '../../support/app';

const settings = recoverySettings(exampleConfig());
const today = new Date('2026-11-23T04:00:00.000Z');
const valid = { drSite: 'us-gov-east-1', recoveryType: 'full', backupDate: 'latest', dryRun: false };

describe('recovery request', () => {
  it('accepts the seed’s arguments, and a mode', () => {
    expect(parseRecoveryRequest(valid, settings, today)).toEqual(valid);
    const snapshotOfADay = { ...valid, backupDate: '2026-11-20', mode: 'snapshot' };
    expect(parseRecoveryRequest(snapshotOfADay, settings, today)).toEqual(snapshotOfADay);
  });

  it('refuses a day for a warm-standby recovery: a standby holds only its current data', () => {
    // The example deployment recovers by warm standby unless the request says otherwise.
    expect(settings.recoveryMode).toBe('warm-standby');
    expect(() => parseRecoveryRequest({ ...valid, backupDate: '2026-11-20' }, settings, today)).toThrow(
      'backupDate: a warm-standby recovery promotes the standby',
    );
  });

  it('refuses warm standby where the deployment has no standby replica', () => {
    const noStandby = { ...settings, recoveryMode: 'snapshot' as const, standbyReplica: undefined };
    expect(() => parseRecoveryRequest({ ...valid, mode: 'warm-standby' }, noStandby, today)).toThrow(
      'mode: warm-standby needs disasterRecovery.standbyReplica',
    );
    expect(parseRecoveryRequest(valid, noStandby, today)).toEqual(valid);
  });

  it.each([
    ['an unknown recovery type', { recoveryType: 'everything' }, 'recoveryType'],
    ['a date that does not exist', { backupDate: '2026-02-30' }, 'backupDate: latest or a real date'],
    [
      'a date in the future',
      { backupDate: '2026-12-01', mode: 'snapshot' },
      'backupDate: 2026-12-01 is in the future',
    ],
    ['an unknown mode', { mode: 'pilot-light' }, 'mode'],
    ['another DR site', { drSite: 'us-gov-west-1' }, 'drSite: this workflow recovers into us-gov-east-1'],
    ['dryRun as a string', { dryRun: 'yes' }, 'dryRun'],
    ['an extra key', { force: true }, 'Unrecognized key'],
  ])('refuses %s, naming the field', (_case, change, message) => {
    expect(() => parseRecoveryRequest({ ...valid, ...change }, settings, today)).toThrow(
      InvalidRecoveryRequestError,
    );
    expect(() => parseRecoveryRequest({ ...valid, ...change }, settings, today)).toThrow(message);
  });
});

describe('recovery plan', () => {
  it.each([
    ['warm-standby', 'phoenix-rooivalk-dr-replica-drill'],
    ['snapshot', 'phoenix-rooivalk-dr-drill'],
  ])(
    'a %s dry run brings up %s, in the drill namespace, never switching routing nor asking approval',
    (mode, database) => {
      const plan = recoveryPlan(
        'DR-20261123T040000Z-abc',
        { ...valid, recoveryType: 'full', dryRun: true, mode } as never,
        settings,
      );
      expect(plan).toMatchObject({
        restoresData: true,
        restoresApplications: true,
        switchesRouting: false,
        requiresApproval: false,
        databaseMode: mode,
        database: { identifier: database },
        namespace: 'phoenix-rooivalk-drill',
      });
    },
  );

  it('a real run promotes the standby itself and waits for approval before switching', () => {
    const plan = recoveryPlan('DR-1', valid as never, settings);
    expect(plan).toMatchObject({
      databaseMode: 'warm-standby',
      database: { identifier: 'phoenix-rooivalk-dr-replica' },
      namespace: 'phoenix-rooivalk',
      switchesRouting: true,
      requiresApproval: true,
    });
  });

  it.each([
    ['data-only', true, false],
    ['applications-only', false, true],
  ])('%s restores data %s, applications %s', (recoveryType, data, apps) => {
    const plan = recoveryPlan('DR-1', { ...valid, recoveryType } as never, settings);
    expect([plan.restoresData, plan.restoresApplications, plan.switchesRouting]).toEqual([data, apps, true]);
  });

  it('polls with backoff: 30 s doubling to 4 minutes', () => {
    const polls: number[] = [];
    let last: number | undefined;
    for (let i = 0; i < 7; i++) polls.push((last = nextPollSeconds(last)));
    expect(polls).toEqual([30, 60, 120, 240, 240, 240, 240]);
  });

  it('measures RTO from start to finish and RPO as the oldest restored data’s age', () => {
    expect(
      measureRecovery({
        startedAt: '2026-11-23T04:00:00Z',
        finishedAt: '2026-11-23T04:14:00Z',
        restores: [
          { takenAt: '2026-11-23T03:56:00Z', restoreStartedAt: '2026-11-23T04:00:30Z' },
          { takenAt: '2026-11-23T03:57:00Z', restoreStartedAt: '2026-11-23T04:00:31Z' },
        ],
        objectives: { rtoSeconds: 900, rpoSeconds: 300 },
      }),
    ).toEqual({ rtoSeconds: 840, rpoSeconds: 270, rtoMet: true, rpoMet: true, drillPreparationSeconds: 0 });
  });

  it('leaves the RPO unmeasured when one data set’s recovery point is unknown, never the others’ age alone', () => {
    const measured = measureRecovery({
      startedAt: '2026-11-23T04:00:00Z',
      finishedAt: '2026-11-23T04:10:00Z',
      restores: [
        { takenAt: null, restoreStartedAt: '2026-11-23T04:00:30Z' },
        { takenAt: '2026-11-23T03:56:00Z', restoreStartedAt: '2026-11-23T04:00:31Z' },
      ],
      objectives: { rtoSeconds: 900, rpoSeconds: 300 },
    });
    expect(measured).toMatchObject({ rpoSeconds: null, rpoMet: null, rtoMet: true });
  });

  it('takes a drill’s preparation out of its RTO, and says how much', () => {
    const measured = measureRecovery({
      startedAt: '2026-11-23T04:00:00Z',
      finishedAt: '2026-11-23T04:30:00Z',
      restores: [],
      preparationSeconds: 900,
      objectives: { rtoSeconds: 900, rpoSeconds: 300 },
    });
    expect(measured).toEqual({
      rtoSeconds: 900,
      rpoSeconds: null,
      rtoMet: true,
      rpoMet: null,
      drillPreparationSeconds: 900,
    });
  });
});

describe('one run at a time (DynamoDB lock)', () => {
  let dynamo: EmbeddedDynamoDb;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb();
    await dynamo.createTable('runs');
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('refuses a second run, frees on release, and lets a dead run’s lock expire', async () => {
    const store = new DynamoDbRecoveryRunStore(dynamo.documentClient, 'runs');
    const hold = (runId: string, at: string, minutes: number) => ({
      runId,
      acquiredAt: at,
      expiresAt: new Date(Date.parse(at) + minutes * 60_000).toISOString(),
    });
    const t0 = '2026-11-23T04:00:00.000Z';
    expect(await store.acquireLock(hold('DR-1', t0, 180), new Date(t0))).toEqual({ acquired: true });
    expect(await store.acquireLock(hold('DR-1', t0, 180), new Date(t0))).toEqual({ acquired: true });
    expect(await store.acquireLock(hold('DR-2', t0, 180), new Date(t0))).toMatchObject({
      acquired: false,
      holder: { runId: 'DR-1' },
    });
    await store.releaseLock('DR-2');
    expect(await store.acquireLock(hold('DR-2', t0, 180), new Date(t0))).toMatchObject({ acquired: false });
    await store.releaseLock('DR-1');
    expect(await store.acquireLock(hold('DR-2', t0, 180), new Date(t0))).toEqual({ acquired: true });
    const later = '2026-11-23T07:01:00.000Z';
    expect(await store.acquireLock(hold('DR-3', later, 180), new Date(later))).toEqual({ acquired: true });
  });
});
