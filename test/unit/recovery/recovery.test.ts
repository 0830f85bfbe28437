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
  it('accepts the seed’s arguments', () => {
    expect(parseRecoveryRequest({ ...valid, backupDate: '2026-11-20' }, settings, today)).toEqual({
      ...valid,
      backupDate: '2026-11-20',
    });
  });

  it.each([
    ['an unknown recovery type', { recoveryType: 'everything' }, 'recoveryType'],
    ['a date that does not exist', { backupDate: '2026-02-30' }, 'backupDate: latest or a real date'],
    ['a date in the future', { backupDate: '2026-12-01' }, 'backupDate: 2026-12-01 is in the future'],
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
  it('restores into drill-suffixed targets and never switches routing in a dry run', () => {
    const plan = recoveryPlan(
      'DR-20261123T040000Z-abc',
      { ...valid, recoveryType: 'full', dryRun: true } as never,
      settings,
    );
    expect(plan).toMatchObject({
      restoresData: true,
      restoresApplications: true,
      switchesRouting: false,
      database: { identifier: 'phoenix-rooivalk-dr-drill' },
      namespace: 'phoenix-rooivalk-drill',
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
    ).toEqual({ rtoSeconds: 840, rpoSeconds: 270, rtoMet: true, rpoMet: true });
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
