import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDbRecoveryRunStore } from '../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import { openLocalState } from '../../local/harness/local-state';
import {
  LOCAL_RUNS_TABLE,
  type RecoveryDrillOptions,
  runRecoveryDrill,
} from '../../local/harness/recovery-drill';
import { RECOVERY_STEPS } from '../../local/simulation/recovery-faults';

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

describe('disaster recovery, the synthesized state machine run locally', () => {
  it('recovers fully: restores in parallel, validates, switches routing, measures RTO and RPO', async () => {
    const report = await drill({ dryRun: false });
    expect(report.status).toBe('SUCCEEDED');
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
    expect(path).not.toBeNull();
    expect(path?.restoreData).toBe(Math.max(path?.database ?? 0, path?.blockchain ?? 0));
    expect(path?.restoreData).toBeLessThan((path?.database ?? 0) + (path?.blockchain ?? 0));
    // A 20-minute database restore, polled with backoff.
    expect(path?.database).toBeGreaterThan(15 * 60_000);
    expect(report.transitions).toBeLessThanOrEqual(300);
    expect(report.measurement).toMatchObject({
      rtoSeconds: Math.round(report.durationMs / 1000),
      rpoMet: true,
    });
    expect(report.run).toMatchObject({ status: 'succeeded' });
    expect(report.ledger.verified).toBe(true);
  });

  it('rehearses with a dry run: drill-suffixed targets, cleaned up, routing never touched', async () => {
    const report = await drill({ dryRun: true });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.routing).toEqual({ before: PRIMARY, after: PRIMARY });
    expect(report.steps.map((s) => s.state)).not.toContain('Switch routing');
    const finish = report.measurement as { steps: { step: string }[]; cleanedUp: unknown } | null;
    expect(finish?.steps.map((s) => s.step)).not.toContain('switch-routing');
    // The drill database, the restore volume and Job, the check Jobs and the applications: all gone.
    expect(finish?.cleanedUp).toMatchObject({ databaseDeleted: true, objectsDeleted: expect.any(Number) });
    expect((finish?.cleanedUp as { objectsDeleted: number }).objectsDeleted).toBeGreaterThanOrEqual(4);
    expect(report.ledger.verified).toBe(true);
  });

  it.each(RECOVERY_STEPS)('fails at %s: compensates, records why, leaves routing untouched', async (step) => {
    const report = await drill({ dryRun: false, fail: step });
    expect(report.status).toBe('FAILED');
    expect(report.steps.map((s) => s.state)).toContain('Compensate');
    expect(report.steps.at(-1)?.state).toBe('Recovery failed');
    expect(report.run).toMatchObject({ status: 'failed' });
    const failedStep =
      step === 'restore-database' || step === 'restore-blockchain-data' ? 'restore-data' : step;
    expect(report.run?.failedStep).toBe(failedStep);
    expect(report.routing).toEqual({ before: PRIMARY, after: PRIMARY });
    // What was restored before the failure was removed again.
    if (step !== 'validate-site') expect(report.compensation).toMatchObject({ databaseDeleted: true });
    expect(report.ledger.verified).toBe(true);
  });

  it.each([
    ['approved', 'approve', 'SUCCEEDED', DR],
    ['rejected', 'reject', 'FAILED', PRIMARY],
  ] as const)('holds the routing switch for an operator: %s', async (_case, approval, status, routedTo) => {
    const report = await drill({ dryRun: false, approval });
    expect(report.status).toBe(status);
    expect(report.steps.map((s) => s.state)).toContain('Wait for routing approval');
    expect(report.routing.after).toBe(routedTo);
    if (approval === 'reject') {
      expect(report.error?.error).toBe('RoutingSwitchRejectedError');
      expect(report.run?.failedStep).toBe('switch-routing');
    }
  });

  it('refuses an invalid request before doing anything', async () => {
    const report = await drill({ dryRun: true, backupDate: '2026-02-30' });
    expect(report.status).toBe('FAILED');
    expect(report.error?.error).toBe('InvalidRecoveryRequestError');
    expect(report.steps.map((s) => s.state)).toEqual(['Begin recovery', 'Refuse run']);
    expect(report.run).toBeNull();
  });
});

describe('the one-run lock across drills on one state', () => {
  it('a run that holds the lock makes the next start fail as Refuse run', async () => {
    const dir = stateDirectory();
    const state = await openLocalState(dir);
    await state.dynamo.ensureTable(LOCAL_RUNS_TABLE);
    const runs = new DynamoDbRecoveryRunStore(state.dynamo.documentClient, LOCAL_RUNS_TABLE);
    await runs.acquireLock(
      {
        runId: 'DR-20261123T035000Z-other',
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
    expect(report.steps.map((s) => s.state)).toEqual(['Begin recovery', 'Refuse run']);
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
