import type { IntegrityManifest } from '../../../lambdas/core/recovery/ports';
import { recoveryPlan } from '../../../lambdas/core/recovery/recovery';
import { labelledForRun } from '../../../lambdas/core/recovery/recovery-manifests';
import { recoverySettings } from '../../../lib/constructs/disaster-recovery-workflow';
import {
  DR_BLOCKCHAIN_BACKUP_GIB,
  PHOENIX_ROOIVALK_DR_SITE,
} from '../../../local/simulation/phoenix-rooivalk-dr';
import type { SimulatedPlatform } from '../../../local/simulation/platform';
import type { SimulatedClock } from '../../../local/workflow/clock';
import { exampleConfig } from '../../support/app';
import { MINUTE } from './fixtures';

/**
 * A snapshot-mode dry run of the disaster recovery on the simulated DR site, as the example
 * configuration describes it: its settings and plan, and the steps before validation done through the ports.
 */

export const BUCKET = 'phoenix-rooivalk-backups';
export const settings = recoverySettings(exampleConfig());
const runId = 'DR-20261123T040000Z-drill1';
export const run = {
  runId,
  plan: recoveryPlan(
    runId,
    { drSite: 'us-gov-east-1', recoveryType: 'full', backupDate: 'latest', dryRun: true, mode: 'snapshot' },
    settings,
  ),
};
/** The run's namespace: the platform namespace's `-drill` twin. */
export const NAMESPACE = run.plan.namespace;
export const DAY = '2026-11-01';

export function backup(day = DAY) {
  return {
    bucket: BUCKET,
    prefix: `blockchain/${day}/`,
    objects: 4,
    bytes: DR_BLOCKCHAIN_BACKUP_GIB * 1024 ** 3,
    takenAt: `${day}T03:00:00.000Z`,
  };
}

/** Applies the configured applications, labelled as the run's, and waits for their rollouts. */
export async function restoreApplications(platform: SimulatedPlatform, clock: SimulatedClock) {
  const ports = platform.ports(clock);
  await ports.cluster.applyManifests({
    namespace: NAMESPACE,
    manifests: settings.manifests.map((manifest) => labelledForRun(run, manifest)),
  });
  for (const workload of settings.workloads) {
    await ports.cluster.waitForRollout({
      namespace: NAMESPACE,
      ...workload,
      deadlineMs: 10 * MINUTE,
      pollMs: 5_000,
    });
  }
}

/** Restores the latest snapshot into the run's database and waits for it; returns its endpoint and the day's manifest. */
export async function restoreDatabase(
  platform: SimulatedPlatform,
  clock: SimulatedClock,
): Promise<{ endpoint: string; manifest: IntegrityManifest }> {
  const ports = platform.ports(clock);
  const snapshot = await ports.recovery.findSnapshot({
    sourceDatabase: PHOENIX_ROOIVALK_DR_SITE.sourceDatabase,
  });
  if (!snapshot) throw new Error('no snapshot');
  await ports.recovery.startRestore({
    snapshot,
    target: run.plan.database,
    instanceClass: 'db.r5.xlarge',
    subnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
    securityGroupIds: ['sg-0a1b2c3d4e5f60021'],
    tags: run.plan.tags,
  });
  for (;;) {
    const status = await ports.recovery.restoreStatus(run.plan.database);
    if (status?.failed) throw new Error(`restore failed: ${status.status}`);
    if (status?.available && status.endpoint) {
      const manifest = await ports.backups.readIntegrityManifest({
        bucket: BUCKET,
        day: snapshot.createdAt.slice(0, 10),
      });
      if (!manifest) throw new Error('no manifest');
      return { endpoint: status.endpoint, manifest };
    }
    clock.advance(MINUTE);
  }
}
