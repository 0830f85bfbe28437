/**
 * The Kubernetes objects a recovery run creates in the DR cluster, as pure builders: every one
 * carries the run's label, which is what lets the run (and only the run) remove it again. The
 * namespaces themselves, the restore Job's service account and the integrity check's Secret are the
 * deployer's (deploy/dr-cluster/): a run never creates, labels or deletes them.
 */
import type { KubernetesManifest } from '../operations/cluster';
import type { BackupLocation } from './ports';
import { RECOVERY_RUN_LABEL, type RecoveryPlan, type RecoverySettings } from './recovery';

/** What the builders need of a run: its id and its plan. */
export interface RunIdentity {
  readonly runId: string;
  readonly plan: RecoveryPlan;
}

/**
 * The kinds a run creates in its namespace, and so the only kinds the DR task's Role
 * (deploy/rbac/disaster-recovery.yaml) lets it apply, read and delete there: the configured
 * application manifests may be of these kinds only.
 */
export const RECOVERY_OBJECT_TYPES = [
  { apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps' },
  { apiVersion: 'v1', kind: 'Service', resource: 'services' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims' },
  { apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', resource: 'statefulsets' },
  { apiVersion: 'batch/v1', kind: 'Job', resource: 'jobs' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets' },
] as const;

/** How the run's Jobs run: their images, identities and credentials (deployment configuration). */
export interface RecoveryJobSettings {
  /** `aws s3 sync` of the blockchain backup onto the restore volume. */
  readonly restore: {
    /** An AWS CLI v2 image (entrypoint `aws`), pinned by digest. */
    readonly image: string;
    /** The service account, in both namespaces, that IRSA maps to the role reading the backups. */
    readonly serviceAccount: string;
    /** The Job fails itself after this long, pods included: a restore that cannot start must not wait for ever. */
    readonly activeDeadlineSeconds: number;
  };
  /** `curl` of the health endpoint from inside the cluster. */
  readonly endpointCheck: { readonly image: string };
  /** `psql` comparing the restored database with the backup's integrity manifest. */
  readonly integrityCheck: {
    /** A PostgreSQL client image with `psql` on its PATH, pinned by digest. */
    readonly image: string;
    readonly databaseName: string;
    readonly port: number;
    /** The Secret, in both namespaces, holding a read-only database user's name and password. */
    readonly credentialsSecret: {
      readonly name: string;
      readonly usernameKey: string;
      readonly passwordKey: string;
    };
  };
}

/** A Job's image given by tag (or not at all): a tag can be moved to other bytes, a digest cannot. */
export class UnpinnedImageError extends Error {
  override name = 'UnpinnedImageError';
}

const DIGEST_PINNED_IMAGE =
  /^[a-z0-9][a-z0-9._/-]*(:\d+)?(\/[a-z0-9][a-z0-9._/-]*)*(:[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}$/;

/** `repository@sha256:<64 hex>` (a tag before the digest is allowed and ignored by the runtime). */
export function isDigestPinned(image: string): boolean {
  return DIGEST_PINNED_IMAGE.test(image);
}

/** The image, if pinned by digest; UnpinnedImageError if not (the settings may not have come through the config schema). */
export function requireDigestPinned(image: string, what: string): string {
  if (!isDigestPinned(image)) {
    throw new UnpinnedImageError(
      `${what} image ${image} is not pinned by digest (repository@sha256:<64 hex>)`,
    );
  }
  return image;
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

function runMetadata(run: RunIdentity, name: string) {
  return { name, namespace: run.plan.namespace, labels: { [RECOVERY_RUN_LABEL]: run.runId } };
}

/** The volume the backup is restored into, labelled as the run's so that only the run removes it. */
export function restoreVolumeClaim(
  run: RunIdentity,
  settings: Pick<RecoverySettings, 'storageClass' | 'blockchainVolumeSize'>,
): KubernetesManifest {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: runMetadata(run, run.plan.volumeClaim),
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: settings.storageClass,
      resources: { requests: { storage: settings.blockchainVolumeSize } },
    },
  };
}

/**
 * A one-pod Job of the run: never restarted in place, failed by the Job controller at its deadline
 * (pods that cannot start included), its pods labelled with the run. The pod gets no Kubernetes API
 * token: none of the run's Jobs talks to the cluster (IRSA projects its own AWS token).
 */
export function runJob(
  run: RunIdentity,
  job: {
    name: string;
    backoffLimit: number;
    activeDeadlineSeconds: number;
    serviceAccountName?: string;
    container: Record<string, unknown>;
    volumes?: unknown[];
  },
): KubernetesManifest {
  const metadata = runMetadata(run, job.name);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata,
    spec: {
      backoffLimit: job.backoffLimit,
      activeDeadlineSeconds: job.activeDeadlineSeconds,
      template: {
        metadata: { labels: metadata.labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...(job.serviceAccountName === undefined ? {} : { serviceAccountName: job.serviceAccountName }),
          containers: [{ terminationMessagePolicy: 'FallbackToLogsOnError', ...job.container }],
          ...(job.volumes === undefined ? {} : { volumes: job.volumes }),
        },
      },
    },
  };
}

/**
 * The seed's `aws s3 sync s3://…/blockchain/<date>/` into the restore volume, as a Job. The AWS CLI
 * image's entrypoint is `aws`; the command is spelled out all the same, so the Job does not depend
 * on it. Its pods read S3 as the restore service account's IAM role (IRSA).
 */
export function blockchainRestoreJob(
  run: RunIdentity,
  backup: BackupLocation,
  settings: Pick<RecoverySettings, 'drRegion'> & { readonly jobs: Pick<RecoveryJobSettings, 'restore'> },
): KubernetesManifest {
  const { restore } = settings.jobs;
  const source = `s3://${backup.bucket}/${backup.prefix}`;
  return runJob(run, {
    name: run.plan.restoreJob,
    backoffLimit: 2,
    activeDeadlineSeconds: restore.activeDeadlineSeconds,
    serviceAccountName: restore.serviceAccount,
    container: {
      name: 'sync',
      image: requireDigestPinned(restore.image, 'the restore Job'),
      command: ['aws', 's3', 'sync', source, '/data/', '--only-show-errors'],
      // The region to sign for, through its FIPS endpoints: every AWS client in GovCloud uses them.
      env: [
        { name: 'AWS_REGION', value: settings.drRegion },
        { name: 'AWS_USE_FIPS_ENDPOINT', value: 'true' },
      ],
      volumeMounts: [{ name: 'blockchain-data', mountPath: '/data' }],
    },
    volumes: [{ name: 'blockchain-data', persistentVolumeClaim: { claimName: run.plan.volumeClaim } }],
  });
}
