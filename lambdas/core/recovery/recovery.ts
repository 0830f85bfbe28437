/**
 * A disaster recovery run: the request an operator makes, the plan it implies (what is restored
 * where, and under which names), and how the run is measured against the recovery objectives.
 */
import * as z from 'zod';
import type { KubernetesManifest, ObjectRef, WorkloadRef } from '../operations/cluster';
import type { DatabaseRef } from '../operations/ports';

export const RECOVERY_TYPES = ['full', 'data-only', 'applications-only'] as const;
export type RecoveryType = (typeof RECOVERY_TYPES)[number];

/** The tag (and label) that marks what a run created, so only that is ever cleaned up. */
export const RECOVERY_RUN_TAG = 'aor:recovery-run';
export const RECOVERY_RUN_LABEL = 'aor.phoenixrooivalk.mil/recovery-run';
const DRILL_SUFFIX = '-drill';

export class InvalidRecoveryRequestError extends Error {
  override name = 'InvalidRecoveryRequestError';
}

export class RecoveryAlreadyRunningError extends Error {
  override name = 'RecoveryAlreadyRunningError';
}

/** An operator refused the routing switch: the run compensates and fails. */
export class RoutingSwitchRejectedError extends Error {
  override name = 'RoutingSwitchRejectedError';
}

const isoDay = /^\d{4}-\d{2}-\d{2}$/;

export const recoveryRequestSchema = z.strictObject({
  /** The DR region the run recovers into; it must be the one this stack was deployed for. */
  drSite: z.string().min(1),
  recoveryType: z.enum(RECOVERY_TYPES),
  /** `latest`, or the UTC day of the backup to restore. */
  backupDate: z
    .string()
    .refine(
      (value) =>
        value === 'latest' ||
        (isoDay.test(value) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value)),
      'latest or a real date YYYY-MM-DD',
    ),
  dryRun: z.boolean(),
});
export type RecoveryRequest = z.infer<typeof recoveryRequestSchema>;

/** Where and how the DR site is recovered: the deployment's configuration. */
export interface RecoverySettings {
  readonly drRegion: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly sourceDatabase: DatabaseRef;
  readonly targetDatabase: DatabaseRef;
  readonly instanceClass: string;
  readonly subnetGroupName: string;
  readonly securityGroupIds: readonly string[];
  readonly backupBucket: string;
  readonly storageClass: string;
  readonly blockchainVolumeSize: string;
  readonly restoreImage: string;
  /** Application manifests, applied in this order. */
  readonly manifests: readonly KubernetesManifest[];
  /** The workloads that must be available before the recovery is validated. */
  readonly workloads: readonly { kind: WorkloadRef['kind']; name: string }[];
  readonly applicationDeadlineSeconds: number;
  readonly validation: {
    readonly healthUrl: string;
    readonly integrity: 'row-counts' | 'checksums';
    readonly checkImage: string;
  };
  readonly routing: {
    readonly hostedZoneId: string;
    readonly recordName: string;
    readonly drTarget: string;
    readonly targetGroupArn?: string;
    readonly healthCheckPath: string;
  };
  readonly objectives: { readonly rtoSeconds: number; readonly rpoSeconds: number };
  readonly lockTtlSeconds: number;
  readonly approvalRequired: boolean;
}

export function parseRecoveryRequest(
  input: unknown,
  settings: Pick<RecoverySettings, 'drRegion'>,
  today: Date,
): RecoveryRequest {
  const parsed = recoveryRequestSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`,
    );
    throw new InvalidRecoveryRequestError(`invalid recovery request: ${problems.join('; ')}`);
  }
  const request = parsed.data;
  if (request.drSite !== settings.drRegion) {
    throw new InvalidRecoveryRequestError(
      `invalid recovery request: drSite: this workflow recovers into ${settings.drRegion}, not ${request.drSite}`,
    );
  }
  if (request.backupDate !== 'latest' && request.backupDate > today.toISOString().slice(0, 10)) {
    throw new InvalidRecoveryRequestError(
      `invalid recovery request: backupDate: ${request.backupDate} is in the future`,
    );
  }
  return request;
}

/** What a run restores, under which names: a dry run's targets carry a drill suffix. */
export interface RecoveryPlan {
  readonly runId: string;
  readonly restoresData: boolean;
  readonly restoresApplications: boolean;
  readonly switchesRouting: boolean;
  /** The routing switch waits for an operator's approval. */
  readonly requiresApproval: boolean;
  readonly database: DatabaseRef;
  readonly namespace: string;
  readonly volumeClaim: string;
  readonly restoreJob: string;
  /** The in-cluster validation Jobs: the endpoint check and the data integrity check. */
  readonly checkJobs: { readonly endpoint: string; readonly integrity: string };
  readonly tags: Readonly<Record<string, string>>;
}

export function recoveryPlan(
  runId: string,
  request: RecoveryRequest,
  settings: RecoverySettings,
): RecoveryPlan {
  const suffix = request.dryRun ? DRILL_SUFFIX : '';
  const jobName = (purpose: string) =>
    `aor-${purpose}-${runId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
  return {
    runId,
    restoresData: request.recoveryType !== 'applications-only',
    restoresApplications: request.recoveryType !== 'data-only',
    // A drill never touches production routing.
    switchesRouting: !request.dryRun,
    requiresApproval: settings.approvalRequired && !request.dryRun,
    database: { ...settings.targetDatabase, identifier: `${settings.targetDatabase.identifier}${suffix}` },
    namespace: `${settings.namespace}${suffix}`,
    volumeClaim: `blockchain-data-restore${suffix}`,
    restoreJob: jobName('restore'),
    checkJobs: { endpoint: jobName('endpoint-check'), integrity: jobName('integrity-check') },
    tags: { [RECOVERY_RUN_TAG]: runId, 'aor:dry-run': String(request.dryRun) },
  };
}

/** Everything a run may have created in the DR cluster, for compensation and drill clean-up. */
export function createdObjects(plan: RecoveryPlan, settings: RecoverySettings): ObjectRef[] {
  return [
    ...settings.manifests.map((m) => ({
      apiVersion: m.apiVersion,
      kind: m.kind,
      name: m.metadata.name,
      namespace: plan.namespace,
    })),
    ...[plan.restoreJob, plan.checkJobs.endpoint, plan.checkJobs.integrity].map((name) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name,
      namespace: plan.namespace,
    })),
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: plan.volumeClaim, namespace: plan.namespace },
  ];
}

/** The next poll of a long restore: doubling from 30 s to 4 minutes, never a tight loop. */
export function nextPollSeconds(previous: number | undefined): number {
  return previous === undefined ? 30 : Math.min(240, previous * 2);
}

export interface RecoveryMeasurement {
  /** From the run's start to the end of the last step: the recovery time achieved. */
  readonly rtoSeconds: number;
  /** Age of the oldest restored data when its restore began: the recovery point achieved. */
  readonly rpoSeconds: number | null;
  readonly rtoMet: boolean;
  readonly rpoMet: boolean | null;
}

export function measureRecovery(input: {
  startedAt: string;
  finishedAt: string;
  /** [recovery point, restore start] of each data set restored. */
  restores: readonly { takenAt: string; restoreStartedAt: string }[];
  objectives: RecoverySettings['objectives'];
}): RecoveryMeasurement {
  const rtoSeconds = Math.round((Date.parse(input.finishedAt) - Date.parse(input.startedAt)) / 1000);
  const ages = input.restores.map((r) =>
    Math.round((Date.parse(r.restoreStartedAt) - Date.parse(r.takenAt)) / 1000),
  );
  const rpoSeconds = ages.length === 0 ? null : Math.max(...ages);
  return {
    rtoSeconds,
    rpoSeconds,
    rtoMet: rtoSeconds <= input.objectives.rtoSeconds,
    rpoMet: rpoSeconds === null ? null : rpoSeconds <= input.objectives.rpoSeconds,
  };
}

export function recoveryRunId(startedAt: Date, executionName: string): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `DR-${stamp}-${executionName.replace(/[^A-Za-z0-9]/g, '').slice(-6) || 'run'}`;
}
