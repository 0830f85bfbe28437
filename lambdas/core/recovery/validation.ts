/**
 * The seed's validate_recovery, done from inside the DR cluster: the restored workloads are
 * available and the blockchain peers answer, the application endpoint responds (a Job curls it),
 * and the restored data matches the backup's integrity manifest (a Job counts rows, or checksums,
 * against it). Each check Job exits 0 on success; its report is its last log line.
 */
import type { ClusterOperations, KubernetesManifest } from '../operations/cluster';
import type { BackupCatalog, DatabaseRecovery } from './ports';
import { RECOVERY_RUN_LABEL, type RecoverySettings } from './recovery';
import {
  RecoveryValidationFailedError,
  type RecoveryRunState,
  type SiteValidation,
} from './recovery-service';

export const CHECK_ANNOTATION = 'aor.phoenixrooivalk.mil/check';
const CHECK_DEADLINE_MS = 5 * 60_000;
const CHECK_POLL_MS = 5_000;

export interface ValidationPorts {
  readonly cluster: ClusterOperations;
  readonly recovery: DatabaseRecovery;
  readonly backups: BackupCatalog;
}

export function inClusterValidation(ports: ValidationPorts, settings: RecoverySettings) {
  return async (run: RecoveryRunState, site: SiteValidation): Promise<Record<string, unknown>> => {
    const namespace = run.plan.namespace;
    const report: Record<string, unknown> = {};
    if (run.plan.restoresApplications) {
      const statuses = await Promise.all(
        settings.workloads.map((w) => ports.cluster.workloadStatus({ namespace, ...w })),
      );
      const unready = statuses.filter((s) => !s.rolledOut);
      if (unready.length > 0) {
        throw new RecoveryValidationFailedError(
          `not available: ${unready.map((s) => `${s.kind} ${s.name} (${s.message})`).join('; ')}`,
        );
      }
      const service = new URL(settings.validation.healthUrl).hostname.split('.')[0] ?? '';
      const peers = await ports.cluster.readyPeerEndpoints({ namespace, service });
      if (peers.ready === 0)
        throw new RecoveryValidationFailedError(`service ${service} has no ready endpoint`);
      report.nodes = {
        workloads: statuses.map((s) => `${s.kind}/${s.name}: ${s.readyReplicas} ready`),
        readyPeers: peers.ready,
      };
      await runCheck(ports, run, run.plan.checkJobs.endpoint, 'endpoint', settings, {
        args: [
          'curl',
          '--fail',
          '--silent',
          '--show-error',
          '--max-time',
          '10',
          settings.validation.healthUrl,
        ],
      });
      report.endpoint = `${settings.validation.healthUrl} answered from inside the cluster`;
    }
    if (run.plan.restoresData && site.backup) {
      const day = site.backup.prefix.split('/').filter(Boolean).at(-1) ?? '';
      const manifest = await ports.backups.readIntegrityManifest({ bucket: settings.backupBucket, day });
      if (!manifest)
        throw new RecoveryValidationFailedError(`no integrity manifest for the backup of ${day}`);
      const database = await ports.recovery.restoreStatus(run.plan.database);
      if (!database?.available || !database.endpoint) {
        throw new RecoveryValidationFailedError(
          `restored database ${run.plan.database.identifier} is not available`,
        );
      }
      await runCheck(ports, run, run.plan.checkJobs.integrity, settings.validation.integrity, settings, {
        env: [
          { name: 'PGHOST', value: database.endpoint },
          { name: 'EXPECTED_TABLES', value: JSON.stringify(manifest.tables) },
        ],
      });
      report.integrity = `${settings.validation.integrity} of ${Object.keys(manifest.tables).length} tables match the manifest of ${day}`;
    }
    return report;
  };
}

async function runCheck(
  ports: ValidationPorts,
  run: RecoveryRunState,
  name: string,
  check: string,
  settings: RecoverySettings,
  container: { args?: string[]; env?: { name: string; value: string }[] },
): Promise<void> {
  const job: KubernetesManifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: run.plan.namespace,
      labels: { [RECOVERY_RUN_LABEL]: run.runId },
      annotations: { [CHECK_ANNOTATION]: check },
    },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'check',
              image: settings.validation.checkImage,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              ...container,
            },
          ],
        },
      },
    },
  };
  try {
    await ports.cluster.runJobToCompletion({
      namespace: run.plan.namespace,
      job,
      deadlineMs: CHECK_DEADLINE_MS,
      pollMs: CHECK_POLL_MS,
    });
  } catch (error) {
    // The port's contract names its errors, as Step Functions matches them: a failed check Job.
    if (error instanceof Error && error.name === 'JobFailedError') {
      throw new RecoveryValidationFailedError(`${check} check failed: ${error.message}`);
    }
    throw error;
  }
}
