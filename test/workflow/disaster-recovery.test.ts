import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDbRecoveryRunStore } from '../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import { openLocalState } from '../../local/harness/local-state';
import { RUNS_SUBJECT_INDEX } from '../../lambdas/core/recovery/recovery-contract';
import {
  LOCAL_RUNS_TABLE,
  type RecoveryDrillOptions,
  type RecoveryDrillReport,
  runRecoveryDrill,
} from '../../local/harness/recovery-drill';
import { drTargetGroupArn, PHOENIX_ROOIVALK_DR_SITE } from '../../local/simulation/phoenix-rooivalk-dr';
import { SimulatedPlatform } from '../../local/simulation/platform';
import { RECOVERY_STEPS, type RecoveryStep } from '../../local/simulation/recovery-faults';

const directories: string[] = [];
afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
const START = new Date('2026-11-23T04:00:00.000Z');
const PRIMARY = 'phoenix-rooivalk-prod-1a2b3c4d5e.us-gov-west-1.elb.amazonaws.com';
const DR = 'phoenix-rooivalk-dr-6f7e8d9c0b.us-gov-east-1.elb.amazonaws.com';

function stateDirectory(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aor-dr-'));
  directories.push(dir);
  return dir;
}

function drill(options: Omit<RecoveryDrillOptions, 'stateDirectory'>) {
  return runRecoveryDrill({ start: START, persist: false, stateDirectory: stateDirectory(), ...options });
}

/** The simulated DR site at START, for a test to arrange, share between runs and inspect. */
function drSite(): SimulatedPlatform {
  return SimulatedPlatform.phoenixRooivalkDrSite({ epoch: START.getTime(), seed: 'dr-drill' });
}

const instance = (identifier: string) => ({ kind: 'instance', identifier }) as const;
const STANDBY = instance(PHOENIX_ROOIVALK_DR_SITE.standbyReplica.identifier);
const RESTORE_TARGET = instance(PHOENIX_ROOIVALK_DR_SITE.database.identifier);

/** A database as RDS describes it half an hour after the run (a deletion takes minutes). */
function databaseAfter(
  platform: SimulatedPlatform,
  report: RecoveryDrillReport,
  database: { kind: 'instance'; identifier: string } = RESTORE_TARGET,
  start = START,
) {
  return platform.rdsRecovery.describe(database, start.getTime() + report.durationMs + 30 * 60_000);
}

const subjects = (report: RecoveryDrillReport) =>
  report.notifications.map((notice) => notice.subject.replace(/^\[DR\] \S+ /, ''));

describe('disaster recovery, the synthesized state machine run locally', () => {
  it('recovers by warm standby within the 15-minute RTO: promotes, validates, asks, switches, protects', async () => {
    const platform = drSite();
    const report = await drill({ dryRun: false, platform });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.mode).toBe('warm-standby');
    expect(report.routing).toEqual({ before: PRIMARY, after: DR });
    expect(report.recordedSteps.map((s) => s.step).sort()).toEqual(
      [
        'restore-applications',
        'restore-blockchain-data',
        'restore-database',
        'switch-routing',
        'validate-recovery',
        'validate-site',
      ].sort(),
    );
    // The critical path is the longer restore, not the sum of both.
    const path = report.criticalPath;
    expect(path?.restoreData).toBe(Math.max(path?.database ?? 0, path?.blockchain ?? 0));
    expect(path?.restoreData).toBeLessThan((path?.database ?? 0) + (path?.blockchain ?? 0));
    const measured = report.measurement as { rtoSeconds: number; rpoSeconds: number };
    expect(measured).toMatchObject({ rtoMet: true, rpoMet: true, drillPreparationSeconds: 0 });
    // From the run's start to its last step: the workflow's own transitions around it are seconds.
    expect(Math.abs(measured.rtoSeconds - report.durationMs / 1000)).toBeLessThan(3);
    expect(measured.rtoSeconds).toBeLessThanOrEqual(900);
    expect(report.run).toMatchObject({ status: 'succeeded' });
    // The standby is the site's database now: writable, protected, marked as this run's promotion.
    const runId = report.run?.runId;
    expect(databaseAfter(platform, report, STANDBY)).toMatchObject({
      available: true,
      deletionProtection: true,
      promotedBy: runId,
    });
    expect(databaseAfter(platform, report, STANDBY)?.replicaOf).toBeUndefined();
    expect(databaseAfter(platform, report, STANDBY)?.runTag).toBeUndefined();
    // The DR target group checks the application's health path, not its default `/`.
    expect(platform.route53.healthCheckPath(drTargetGroupArn(platform.layout))).toBe('/health');
    expect(subjects(report)).toEqual([
      'started: full recovery, backup latest, warm-standby mode',
      'awaits approval to switch api.phoenixrooivalk.mil',
      'recovered',
    ]);
    expect(report.notifications.at(-1)?.message).toMatch(/RTO \d+ s \(met\); RPO \d+ s \(met\)/);
    expect(report.notifications.at(-1)?.message).toContain(`api.phoenixrooivalk.mil now answers ${DR}`);
    expect(report.ledger.verified).toBe(true);
  });

  it('recovers by snapshot and reports its honest figures: RTO missed, RPO the restored snapshot’s age', async () => {
    const platform = drSite();
    const report = await drill({ dryRun: false, mode: 'snapshot', platform });
    expect(report.status).toBe('SUCCEEDED');
    const measured = report.measurement as { rtoSeconds: number; rpoSeconds: number; rtoMet: boolean };
    // A snapshot restore alone takes 15–25 minutes, and the newest snapshot is the night's.
    expect(report.criticalPath?.database).toBeGreaterThan(15 * 60_000);
    expect(measured.rtoMet).toBe(false);
    const restored = report.recordedSteps.find((s) => s.step === 'restore-database');
    const recoveryPoint = String(restored?.details?.recoveryPoint);
    expect(measured.rpoSeconds).toBe(
      Math.round((Date.parse(restored?.startedAt ?? '') - Date.parse(recoveryPoint)) / 1000),
    );
    // At 04:00 UTC the newest is the night's automated snapshot, taken early in the 03:00 window.
    expect(measured.rpoSeconds).toBeGreaterThan(30 * 60);
    expect(report.measurement).toMatchObject({ rpoMet: false });
    expect(databaseAfter(platform, report)).toMatchObject({
      available: true,
      deletionProtection: true,
      promotedBy: report.run?.runId,
    });
    expect(databaseAfter(platform, report)?.runTag).toBeUndefined();
  });

  it('rehearses warm standby with a twin of the standby, never the standby itself, and cleans up', async () => {
    const platform = drSite();
    const report = await drill({ dryRun: true, platform });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.routing).toEqual({ before: PRIMARY, after: PRIMARY });
    expect(report.steps.map((s) => s.state)).not.toContain('Switch routing');
    const finish = report.measurement as {
      rtoSeconds: number;
      drillPreparationSeconds: number;
      cleanedUp: { database: string; databaseDeleted: boolean; objectsDeleted: number };
    };
    // Making the twin is the drill's own time, out of the RTO and reported apart.
    expect(finish.drillPreparationSeconds).toBeGreaterThan(5 * 60);
    expect(
      Math.abs(finish.rtoSeconds + finish.drillPreparationSeconds - report.durationMs / 1000),
    ).toBeLessThan(3);
    expect(finish.cleanedUp).toMatchObject({
      database: 'phoenix-rooivalk-dr-replica-drill',
      databaseDeleted: true,
    });
    expect(finish.cleanedUp.objectsDeleted).toBeGreaterThanOrEqual(4);
    // The standby still replicates: the drill never promoted it.
    expect(databaseAfter(platform, report, STANDBY)?.replicaOf).toBeDefined();
    expect(report.ledger.verified).toBe(true);
  });

  it('rehearses a snapshot restore into drill-suffixed targets, cleaned up, routing never touched', async () => {
    const platform = drSite();
    const report = await drill({ dryRun: true, mode: 'snapshot', platform });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.routing).toEqual({ before: PRIMARY, after: PRIMARY });
    const finish = report.measurement as { cleanedUp: { databaseDeleted: boolean; finalSnapshot: string } };
    expect(finish.cleanedUp).toMatchObject({ databaseDeleted: true });
    expect(databaseAfter(platform, report, instance('phoenix-rooivalk-dr-drill'))).toBeUndefined();
  });

  const FAILURES = {
    'validate-site': ['validate-site', 'DrSiteNotReadyError: storage class gp3-encrypted is missing'],
    'restore-database': [
      'restore-data',
      'DatabaseRestoreFailedError: phoenix-rooivalk-dr-replica is incompatible',
    ],
    'restore-blockchain-data': ['restore-data', 'BlockchainRestoreFailedError: job aor-restore-'],
    'restore-applications': ['restore-applications', 'ApplicationsNotReadyError: not available after 600 s'],
    'validate-recovery': ['validate-recovery', 'RecoveryValidationFailedError: row-counts check failed'],
    'switch-routing': ['switch-routing', 'AccessDenied: User: arn:aws-us-gov:sts::111122223333:assumed-role'],
  } as const satisfies Record<RecoveryStep, readonly [string, string]>;

  it.each(RECOVERY_STEPS)(
    'a real run failing at %s stops, stores the real error, keeps what it restored and says so',
    async (step) => {
      const platform = drSite();
      const report = await drill({ dryRun: false, fail: step, platform });
      expect(report.status).toBe('FAILED');
      expect(report.steps.map((s) => s.state)).toContain('Compensate');
      expect(report.steps.at(-1)?.state).toBe('Recovery failed');
      const [failedStep, error] = FAILURES[step];
      expect(report.run).toMatchObject({ status: 'failed', failedStep });
      expect(report.run?.error?.startsWith(error)).toBe(true);
      expect(report.routing).toEqual({ before: PRIMARY, after: PRIMARY });
      // Nothing removed on a real run; the promoted standby is kept, and the notice says so.
      expect(report.compensation).toMatchObject({ removed: null });
      const promoted = step !== 'validate-site';
      expect(databaseAfter(platform, report, STANDBY)).toMatchObject(
        promoted ? { promotedBy: report.run?.runId } : { replicaOf: expect.any(String) },
      );
      const failed = report.notifications.at(-1);
      expect(failed?.subject).toMatch(new RegExp(`FAILED at ${failedStep}$`));
      expect(failed?.message).toContain(error);
      expect(failed?.message).toContain(
        promoted
          ? 'Kept what it restored: database phoenix-rooivalk-dr-replica'
          : 'Kept what it restored: nothing',
      );
      expect(failed?.message).toContain(`api.phoenixrooivalk.mil answers ${PRIMARY}`);
      expect(report.ledger.verified).toBe(true);
    },
  );

  it('a dry run that fails removes what it made', async () => {
    const platform = drSite();
    const report = await drill({ dryRun: true, fail: 'validate-recovery', platform });
    expect(report.status).toBe('FAILED');
    expect(report.compensation).toMatchObject({
      removed: { database: 'phoenix-rooivalk-dr-replica-drill', databaseDeleted: true },
      kept: null,
    });
    expect(databaseAfter(platform, report, instance('phoenix-rooivalk-dr-replica-drill'))).toBeUndefined();
    expect(report.notifications.at(-1)?.message).toContain('Removed what the dry run created');
  });

  it.each([
    ['approved by someone else', 'approve', 'SUCCEEDED', DR, undefined],
    ['rejected', 'reject', 'FAILED', PRIMARY, 'RoutingSwitchRejectedError'],
    ['approved by its starter only: timed out', 'starter-only', 'FAILED', PRIMARY, 'ApprovalTimedOutError'],
    ['not answered: timed out', 'none', 'FAILED', PRIMARY, 'ApprovalTimedOutError'],
  ] as const)(
    'holds the routing switch for a second person: %s',
    async (_case, approval, status, routedTo, error) => {
      const platform = drSite();
      const report = await drill({ dryRun: false, approval, platform });
      expect(report.status).toBe(status);
      expect(report.steps.map((s) => s.state)).toContain('Wait for routing approval');
      expect(report.routing.after).toBe(routedTo);
      if (error === undefined) return;
      expect(report.error?.error).toBe(error);
      expect(report.run?.failedStep).toBe('approve-routing');
      expect(report.run?.error?.startsWith(`${error}: `)).toBe(true);
      if (error === 'ApprovalTimedOutError') expect(report.durationMs).toBeGreaterThanOrEqual(240 * 60_000);
      // What the run spent its minutes recovering is still there.
      expect(databaseAfter(platform, report, STANDBY)).toMatchObject({
        available: true,
        promotedBy: report.run?.runId,
      });
    },
  );

  it('refuses an invalid request before doing anything', async () => {
    const report = await drill({ dryRun: true, backupDate: '2026-02-30' });
    expect(report.status).toBe('FAILED');
    expect(report.error?.error).toBe('InvalidRecoveryRequestError');
    expect(report.steps.map((s) => s.state)).toEqual(['Abandon a run?', 'Begin recovery', 'Refuse run']);
    expect(report.run).toBeNull();
  });
});

describe('never harm what the run did not create', () => {
  it('a second real run refuses the first one’s kept database, and its stop deletes nothing; abandon removes it', async () => {
    const platform = drSite();
    const dir = stateDirectory();
    const on = { platform, stateDirectory: dir, persist: true, mode: 'snapshot' } as const;
    const first = await runRecoveryDrill({ ...on, start: START, dryRun: false, approval: 'reject' });
    expect(first.status).toBe('FAILED');
    const firstRun = first.run?.runId;
    expect(databaseAfter(platform, first)).toMatchObject({ available: true, runTag: firstRun });

    // The first run's stop freed the lock: the second starts, and collides with what the first kept.
    const secondStart = new Date(START.getTime() + first.durationMs + 60_000);
    const second = await runRecoveryDrill({ ...on, start: secondStart, dryRun: false });
    expect(second.status).toBe('FAILED');
    expect(second.steps.map((s) => s.state)).toContain('Validate DR site');
    expect(second.run?.error).toMatch(/^RestoreTargetConflictError: /);
    expect(databaseAfter(platform, second, RESTORE_TARGET, secondStart)).toMatchObject({
      available: true,
      runTag: firstRun,
    });

    const abandonAt = new Date(secondStart.getTime() + second.durationMs + 60_000);
    const abandoned = await runRecoveryDrill({ ...on, start: abandonAt, dryRun: false, abandon: firstRun });
    expect(abandoned.status).toBe('SUCCEEDED');
    expect(abandoned.run).toMatchObject({ runId: firstRun, abandonedAt: expect.any(String) });
    expect(subjects(abandoned)).toEqual(['abandoned: what it kept is removed']);
    const at = abandonAt.getTime() + abandoned.durationMs + 30 * 60_000;
    expect(platform.rdsRecovery.describe(RESTORE_TARGET, at)).toBeUndefined();
    // Deleted after a final snapshot named after the run.
    expect(abandoned.notifications[0]?.message).toContain(
      'database phoenix-rooivalk-dr (a final snapshot first)',
    );
  });

  it.each([
    ['tagged by another run', { 'aor:recovery-run': 'DR-20261101T000000Z-other' }],
    ['untagged', {}],
  ])('keeps a database %s where a dry run would restore', async (_case, tags) => {
    const platform = drSite();
    platform.rds.addInstance({
      identifier: 'phoenix-rooivalk-dr-drill',
      multiAz: false,
      connections: 0,
      tags,
    });
    const report = await drill({ dryRun: true, mode: 'snapshot', platform });
    expect(report.status).toBe('FAILED');
    expect(report.run?.error).toMatch(/^RestoreTargetConflictError: /);
    expect(report.compensation).toMatchObject({ removed: { databaseDeleted: false } });
    const kept = (report.compensation as { removed: { notes: string[] } }).removed.notes;
    expect(kept).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Kept database phoenix-rooivalk-dr-drill: /)]),
    );
    expect(databaseAfter(platform, report, instance('phoenix-rooivalk-dr-drill'))).toMatchObject({
      status: 'available',
    });
  });

  it('keeps a Kubernetes object of the same name that is not labelled as the run’s', async () => {
    const platform = drSite();
    const foreign = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'blockchain-service',
        namespace: 'phoenix-rooivalk-drill',
        labels: { team: 'platform' },
      },
      spec: { selector: { app: 'something-else' }, ports: [{ port: 9090 }] },
    };
    platform.kubernetes.addObject(foreign);
    const report = await drill({ dryRun: true, platform });
    expect(report.status).toBe('FAILED');
    expect(report.run?.failedStep).toBe('restore-applications');
    expect(report.run?.error).toMatch(
      /^RunObjectConflictError: Service phoenix-rooivalk-drill\/blockchain-service exists/,
    );
    const ref = {
      apiVersion: 'v1',
      kind: 'Service',
      name: 'blockchain-service',
      namespace: 'phoenix-rooivalk-drill',
    };
    expect(platform.kubernetes.object(ref)?.metadata.labels).toEqual({ team: 'platform' });
    const removed = (report.compensation as { removed: { notes: string[]; objects: string[] } }).removed;
    expect(removed.objects).not.toContain('Service phoenix-rooivalk-drill/blockchain-service');
  });
});

describe('transient errors are retried, not compensated', () => {
  const throttled = (name: string) => () => Object.assign(new Error('Rate exceeded'), { name });

  it('one throttle while polling the database and one while checking the routing change: the run succeeds', async () => {
    const platform = drSite();
    const database = platform.injectFault({
      operation: 'restoreStatus',
      times: 1,
      error: throttled('RdsThrottledError'),
    });
    const routing = platform.injectFault({
      operation: 'trafficStatus',
      times: 1,
      error: throttled('DnsResolverUnavailableError'),
    });
    const report = await drill({ dryRun: false, platform });
    expect(report.status).toBe('SUCCEEDED');
    expect([database.triggered, routing.triggered]).toEqual([1, 1]);
    expect(report.steps.map((s) => s.state)).not.toContain('Compensate');
  });

  it('a routing check that keeps failing compensates, with that error stored', async () => {
    const platform = drSite();
    platform.injectFault({ operation: 'trafficStatus', error: throttled('DnsResolverUnavailableError') });
    const report = await drill({ dryRun: false, platform });
    expect(report.status).toBe('FAILED');
    expect(report.run).toMatchObject({ failedStep: 'switch-routing' });
    expect(report.run?.error).toBe('DnsResolverUnavailableError: Rate exceeded');
  });

  it('a dry run failing while RDS still creates its database waits out RDS’s refusal, then removes it', async () => {
    const platform = drSite();
    const refusal = platform.injectFault({
      operation: 'deleteRestored',
      times: 1,
      error: () =>
        Object.assign(new Error('phoenix-rooivalk-dr-drill: Instance is not in available state.'), {
          name: 'DatabaseStateConflictError',
        }),
    });
    const report = await drill({ dryRun: true, mode: 'snapshot', fail: 'restore-blockchain-data', platform });
    expect(report.status).toBe('FAILED');
    expect(refusal.triggered).toBe(1);
    // Still being created when the blockchain restore failed: nothing in it its snapshot lacks.
    expect(report.compensation).toMatchObject({
      removed: { database: 'phoenix-rooivalk-dr-drill', databaseDeleted: true, finalSnapshot: null },
    });
    expect(databaseAfter(platform, report, instance('phoenix-rooivalk-dr-drill'))).toBeUndefined();
  });

  it('Compensate retries its own throttled call and still removes what the dry run made', async () => {
    const platform = drSite();
    const fault = platform.injectFault({
      operation: 'deleteRestored',
      times: 1,
      error: throttled('RdsThrottledError'),
    });
    const report = await drill({ dryRun: true, fail: 'validate-recovery', platform });
    expect(report.status).toBe('FAILED');
    expect(fault.triggered).toBe(1);
    expect(report.steps.filter((s) => s.state === 'Compensate').map((s) => s.status)).toEqual([
      'RETRIED',
      'SUCCEEDED',
    ]);
    expect(report.compensation).toMatchObject({ removed: { databaseDeleted: true } });
  });
});

describe('the one-run lock across drills on one state', () => {
  it('a start that fails for good after taking the lock frees it: the next run need not wait for it to expire', async () => {
    const platform = drSite();
    const dir = stateDirectory();
    const on = { platform, stateDirectory: dir, persist: true, dryRun: true } as const;
    const denied = platform.injectFault({
      operation: 'publish',
      times: 1,
      error: () =>
        Object.assign(new Error('User is not authorized to perform: SNS:Publish'), {
          name: 'AuthorizationErrorException',
        }),
    });
    const first = await runRecoveryDrill({ ...on, start: START });
    expect(denied.triggered).toBe(1);
    expect(first.status).toBe('FAILED');
    expect(first.error?.error).toBe('AuthorizationErrorException');
    expect(first.steps.map((s) => s.state)).toEqual([
      'Abandon a run?',
      'Begin recovery',
      'Release the lock of the failed start',
      'Start failed',
    ]);
    const next = await runRecoveryDrill({ ...on, start: new Date(START.getTime() + 5 * 60_000) });
    expect(next.status).toBe('SUCCEEDED');
  });

  it('a run that holds the lock makes the next start fail as Refuse run', async () => {
    const dir = stateDirectory();
    const state = await openLocalState(dir);
    await state.dynamo.ensureTable(LOCAL_RUNS_TABLE, [RUNS_SUBJECT_INDEX]);
    const runs = new DynamoDbRecoveryRunStore(state.dynamo.documentClient, LOCAL_RUNS_TABLE);
    await runs.acquireLock(
      {
        runId: 'DR-20261123T035000Z-other',
        execution: 'arn:aws-us-gov:states:us-gov-east-1:111122223333:execution:aor-disaster-recovery:other',
        acquiredAt: '2026-11-23T03:50:00.000Z',
        expiresAt: '2026-11-23T06:50:00.000Z',
      },
      START,
    );
    await state.close();
    const report = await runRecoveryDrill({ start: START, persist: true, stateDirectory: dir, dryRun: true });
    expect(report.status).toBe('FAILED');
    expect(report.error?.error).toBe('RecoveryAlreadyRunningError');
    expect(report.error?.cause).toContain('DR-20261123T035000Z-other');
    expect(report.steps.map((s) => s.state)).toEqual(['Abandon a run?', 'Begin recovery', 'Refuse run']);
  });
});

describe('a disaster recovery while the primary region is down', () => {
  const run = promisify(execFile);
  const aor = (dir: string, ...args: string[]) =>
    run('node', [path.join(PROJECT_ROOT, 'cli', 'aor.mjs'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AOR_STATE_DIR: dir },
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: `${error.stdout}${error.stderr}`,
      }),
    );

  it('records the run in the DR region’s log; both logs export and verify, and one changed byte fails', async () => {
    const dir = stateDirectory();
    const report = await runRecoveryDrill({
      start: START,
      persist: true,
      stateDirectory: dir,
      dryRun: true,
      primaryDown: true,
    });
    expect(report.status).toBe('SUCCEEDED');
    // While the primary was down, the DR region's witness could not reach it…
    expect(report.outage?.witnessDuringOutage).toMatchObject({
      status: 'unreachable',
      reason: expect.stringContaining('ETIMEDOUT'),
    });
    // …the run's records are all in the DR region's log, none in the primary's…
    const [primary, dr] = report.ledger.logs;
    expect(primary).toMatchObject({ region: 'us-gov-west-1', entries: 0 });
    expect(dr?.entries).toBeGreaterThan(5);
    // …and once it is back, each region has cosigned the other's latest checkpoint.
    expect(primary?.witness).toMatchObject({ status: 'cosigned', treeSize: dr?.entries });
    expect(report.ledger.verified).toBe(true);

    const exported = path.join(dir, 'export');
    expect((await aor(dir, 'ledger', 'export', '--out', exported)).code).toBe(0);
    const keys = path.join(dir, 'ledger', 'verifier-keys.txt');
    const verified = await aor(dir, 'ledger', 'verify', exported, '--key', keys);
    expect(verified).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('verified localhost/aor/audit-ledger/us-gov-east-1'),
    });
    expect(verified.stdout).toContain('cosigned at');
    // No key pinned: refused, not verified against the export's own.
    expect((await aor(dir, 'ledger', 'verify', exported)).code).not.toBe(0);

    const entries = path.join(exported, 'localhost_aor_audit-ledger_us-gov-east-1', 'entries.jsonl');
    const bytes = readFileSync(entries);
    bytes[40] = (bytes[40] ?? 0) ^ 0x01;
    writeFileSync(entries, bytes);
    const tampered = await aor(dir, 'ledger', 'verify', exported, '--key', keys);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('FAILED localhost/aor/audit-ledger/us-gov-east-1');
  });
});
