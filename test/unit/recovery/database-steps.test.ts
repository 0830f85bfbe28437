import { describe, expect, it } from 'vitest';
import type { DatabaseRecovery, RestoreStatus } from '../../../lambdas/core/recovery/ports';
import {
  DATABASE_PHASE_DEADLINE_MINUTES,
  DatabaseRestoreFailedError,
  DatabaseSteps,
  type DatabaseProgress,
} from '../../../lambdas/core/recovery/database-steps';
import { recoveryPlan } from '../../../lambdas/core/recovery/recovery';
import type { RunRecorder } from '../../../lambdas/core/recovery/run-recorder';
import { recoverySettings } from '../../../lib/constructs/disaster-recovery-workflow';
import { exampleConfig } from '../../support/app';

const settings = recoverySettings(exampleConfig());
const request = {
  drSite: 'us-gov-east-1',
  recoveryType: 'full',
  backupDate: 'latest',
  dryRun: false,
  mode: 'snapshot',
} as const;
const run = {
  runId: 'DR-20261123T040000Z-abc123',
  execution: 'arn:aws-us-gov:states:us-gov-east-1:111122223333:execution:aor-disaster-recovery:abc123',
  request,
  plan: recoveryPlan('DR-20261123T040000Z-abc123', request, settings),
};
const STARTED = Date.parse('2026-11-23T04:00:00.000Z');

/** The database steps over a database that is `status`, checked `minutes` after the restore began. */
function checkAfter(minutes: number, status: Partial<RestoreStatus>) {
  const recorded: string[] = [];
  const steps = new DatabaseSteps(
    {
      recovery: {
        restoreStatus: async () => ({
          identifier: run.plan.database.identifier,
          status: 'creating',
          available: false,
          failed: false,
          deletionProtection: false,
          ...status,
        }),
      } as Partial<DatabaseRecovery> as DatabaseRecovery,
      clock: () => new Date(STARTED + minutes * 60_000),
    },
    settings,
    {
      finishedStep: async (_run: unknown, step: string) => void recorded.push(step),
    } as unknown as RunRecorder,
  );
  const progress: DatabaseProgress = {
    phase: 'restore',
    startedAt: new Date(STARTED).toISOString(),
    recoveryPoint: '2026-11-23T03:05:00.000Z',
    preparationSeconds: 0,
    status: 'creating',
    available: false,
    nextPollSeconds: 240,
  };
  return { check: () => steps.check(run, progress), recorded };
}

describe('a database recovery that does not end', () => {
  it('fails, naming how long, once a restore is past its deadline: the run must end before its execution does', async () => {
    const late = checkAfter(DATABASE_PHASE_DEADLINE_MINUTES + 1, { status: 'creating' });
    await expect(late.check()).rejects.toThrow(DatabaseRestoreFailedError);
    await expect(late.check()).rejects.toThrow(
      `phoenix-rooivalk-dr is still creating after ${DATABASE_PHASE_DEADLINE_MINUTES + 1} minutes of its restore`,
    );
  });

  it('keeps polling before the deadline, and a restore available at any time is done', async () => {
    await expect(checkAfter(DATABASE_PHASE_DEADLINE_MINUTES - 1, {}).check()).resolves.toMatchObject({
      available: false,
    });
    const done = checkAfter(DATABASE_PHASE_DEADLINE_MINUTES + 30, { status: 'available', available: true });
    await expect(done.check()).resolves.toMatchObject({ available: true });
    expect(done.recorded).toEqual(['restore-database']);
  });
});

describe('a drill’s promotion of the standby’s twin', () => {
  const drill = { ...request, dryRun: true, mode: 'warm-standby' } as const;
  const twinRun = { ...run, request: drill, plan: recoveryPlan(run.runId, drill, settings) };

  async function promoteTwin(standbyLag: number | null) {
    const steps = new DatabaseSteps(
      {
        recovery: {
          restoreStatus: async (database) => ({
            identifier: database.identifier,
            status: 'available',
            available: true,
            failed: false,
            deletionProtection: false,
            replicaOf: 'phoenix-rooivalk-dr-replica',
          }),
          promoteReplica: async (database) => ({
            identifier: database.identifier,
            status: 'modifying',
            promotedBy: run.runId,
            lagSeconds: 0.3,
            recoveryPoint: '2026-11-23T04:20:00.000Z',
          }),
          replicaStatus: async (database) => ({
            identifier: database.identifier,
            status: 'available',
            available: true,
            failed: false,
            deletionProtection: false,
            replicaOf: 'phoenix-rooivalk-production',
            lagSeconds: standbyLag,
            recoveryPoint: null,
          }),
        } as Partial<DatabaseRecovery> as DatabaseRecovery,
        clock: () => new Date(STARTED + 15 * 60_000),
      },
      settings,
      { record: async () => undefined } as unknown as RunRecorder,
    );
    const rehearsing: DatabaseProgress = {
      phase: 'rehearsal',
      startedAt: new Date(STARTED).toISOString(),
      recoveryPoint: null,
      preparationSeconds: 0,
      status: 'creating',
      available: false,
      nextPollSeconds: 240,
    };
    return steps.check(twinRun, rehearsing);
  }

  it('counts the standby’s own lag behind the primary: the data a real promotion would lose', async () => {
    await expect(promoteTwin(4)).resolves.toMatchObject({
      phase: 'promotion',
      recoveryPoint: '2026-11-23T04:19:56.000Z',
      preparationSeconds: 900,
    });
  });

  it('leaves the recovery point unknown when the standby’s lag is', async () => {
    await expect(promoteTwin(null)).resolves.toMatchObject({ phase: 'promotion', recoveryPoint: null });
  });
});
