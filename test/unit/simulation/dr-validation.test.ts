import { describe, expect, it } from 'vitest';
import type { RecoveryRunState, SiteValidation } from '../../../lambdas/core/recovery/recovery-service';
import { RecoveryValidationFailedError } from '../../../lambdas/core/recovery/recovery-service';
import { inClusterValidation } from '../../../lambdas/core/recovery/validation';
import { DR_RECOVERY_PREREQUISITES } from '../../../local/simulation/phoenix-rooivalk-dr';
import type { SimulatedPlatform } from '../../../local/simulation/platform';
import type { SimulatedClock } from '../../../local/workflow/clock';
import { backup, NAMESPACE, restoreApplications, restoreDatabase, run, settings } from './dr-run';
import { drSite, thrown } from './fixtures';

/**
 * The recovery's in-cluster validation, its real code on the simulated DR site: its verdict is the
 * check Jobs' programs' (curl, psql) against the restored world, and a failed check is reported with
 * what its pod said.
 */

const state = {
  ...run,
  execution: 'arn:aws-us-gov:states:us-gov-east-1:111122223333:execution:aor-disaster-recovery:drill1',
  request: { drSite: 'us-gov-east-1', recoveryType: 'full', backupDate: 'latest', dryRun: true },
  startedAt: '2026-11-23T04:00:00.000Z',
} as unknown as RecoveryRunState;

async function restoredSite(platform: SimulatedPlatform, clock: SimulatedClock) {
  await restoreApplications(platform, clock);
  const { manifest } = await restoreDatabase(platform, clock);
  const site = { account: '111122223333', snapshot: null, backup: backup(manifest.day) };
  return site as unknown as SiteValidation;
}

function validate(platform: SimulatedPlatform, clock: SimulatedClock, site: SiteValidation) {
  return inClusterValidation(platform.ports(clock), settings)(state, site);
}

describe('in-cluster validation on the simulated DR site', () => {
  it('passes once the applications answer and the restored rows match the manifest', async () => {
    const { platform, clock } = drSite();
    const site = await restoredSite(platform, clock);
    expect(await validate(platform, clock, site)).toEqual({
      nodes: { workloads: ['StatefulSet/blockchain-node: 3 ready'], readyPeers: 3 },
      endpoint: 'http://blockchain-service:9090/health answered from inside the cluster',
      integrity: expect.stringMatching(/^row-counts of 5 tables match the manifest of \d{4}-\d{2}-\d{2}$/),
    });
  });

  it('fails on rows the restore lacks, quoting the check’s own report', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('validate-recovery');
    const site = await restoredSite(platform, clock);
    const error = await thrown(validate(platform, clock, site));
    expect(error).toBeInstanceOf(RecoveryValidationFailedError);
    expect(error.message).toMatch(
      /^row-counts check failed: Job phoenix-rooivalk-drill\/aor-integrity-check-dr-\S+ failed: BackoffLimitExceeded: Job has reached the specified backoff limit; pod \S+ exited 1: NOTICE: {2}\{"check": "row-counts", "passed": false, /,
    );
    expect(error.message).toContain('"mismatched": ["sensor_tracks"]');
    expect(error.message).toContain('ERROR:  row-counts differ from the integrity manifest: sensor_tracks');
  });

  it('fails when the peers’ Service has no ready endpoint, even though every workload reports rolled out', async () => {
    const { platform, clock } = drSite();
    const site = await restoredSite(platform, clock);
    // Scaled to zero: a rollout with nothing to roll out is complete, and nothing answers.
    const [blockchain] = settings.workloads;
    const workload = blockchain && platform.kubernetes.workload({ namespace: NAMESPACE, ...blockchain });
    if (!workload) throw new Error('the blockchain workload was restored');
    platform.kubernetes.scale(workload, 0, clock.now());
    clock.advance(60_000);
    const error = await thrown(validate(platform, clock, site));
    expect(error).toBeInstanceOf(RecoveryValidationFailedError);
    expect(error.message).toBe('service blockchain-service has no ready endpoint');
  });

  it('fails when its Secret is missing, naming the kubelet’s reason, rather than wait for ever', async () => {
    const { platform, clock } = drSite();
    const site = await restoredSite(platform, clock);
    const secret = DR_RECOVERY_PREREQUISITES.integritySecret.name;
    platform.kubernetes.delete(
      { apiVersion: 'v1', kind: 'Secret', namespace: NAMESPACE, name: secret },
      clock.now(),
    );
    const error = await thrown(validate(platform, clock, site));
    expect(error).toBeInstanceOf(RecoveryValidationFailedError);
    expect(error.message).toContain('row-counts check failed: Job');
    expect(error.message).toContain(`waiting: CreateContainerConfigError: secret "${secret}" not found`);
  });
});
