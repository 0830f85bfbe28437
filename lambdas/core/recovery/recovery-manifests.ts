/**
 * The Kubernetes objects a recovery run creates in the DR cluster, as pure builders: every one
 * carries the run's label, which is what lets the run (and only the run) remove it again.
 */
import type { KubernetesManifest } from '../operations/cluster';
import type { BackupLocation } from './ports';
import { RECOVERY_RUN_LABEL, type RecoveryPlan, type RecoverySettings } from './recovery';

/** What the builders need of a run: its id and its plan. */
export interface RunIdentity {
  readonly runId: string;
  readonly plan: RecoveryPlan;
}

export function namespaceManifest(run: RunIdentity): KubernetesManifest {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: run.plan.namespace, labels: { [RECOVERY_RUN_LABEL]: run.runId } },
  };
}

/** A configured application manifest, placed in the run's namespace and labelled as the run's. */
export function labelledForRun(run: RunIdentity, manifest: KubernetesManifest): KubernetesManifest {
  const labels = (manifest.metadata.labels as Record<string, string> | undefined) ?? {};
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      namespace: run.plan.namespace,
      labels: { ...labels, [RECOVERY_RUN_LABEL]: run.runId },
    },
  };
}

/** The seed's `aws s3 sync s3://…/blockchain/<date>/` into the restore volume, as a Job. */
export function blockchainRestoreJob(
  run: RunIdentity,
  backup: BackupLocation,
  settings: Pick<RecoverySettings, 'restoreImage'>,
): KubernetesManifest {
  const source = `s3://${backup.bucket}/${backup.prefix}`;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: run.plan.restoreJob,
      namespace: run.plan.namespace,
      labels: { [RECOVERY_RUN_LABEL]: run.runId },
    },
    spec: {
      backoffLimit: 2,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'sync',
              image: settings.restoreImage,
              args: ['s3', 'sync', source, '/data/', '--only-show-errors'],
              env: [{ name: 'AOR_RESTORE_SOURCE', value: source }],
              volumeMounts: [{ name: 'blockchain-data', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'blockchain-data', persistentVolumeClaim: { claimName: run.plan.volumeClaim } }],
        },
      },
    },
  };
}
