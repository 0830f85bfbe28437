/**
 * A disaster recovery run: the request an operator makes, the plan it implies (what is restored
 * where, and under which names), and how the run is measured against the recovery objectives.
 */
import * as z from 'zod';
import type { KubernetesManifest, ObjectRef, WorkloadRef } from '../operations/cluster';
import type { DatabaseRef } from '../operations/ports';
import type { TrafficRoutingSettings } from './ports';
import type { RecoveryJobSettings } from './recovery-manifests';

export const RECOVERY_TYPES = ['full', 'data-only', 'applications-only'] as const;
export type RecoveryType = (typeof RECOVERY_TYPES)[number];

/**
 * How the database comes back: `snapshot` restores the newest (or the day's) snapshot into a new
 * instance, 15–25 minutes and the snapshot's age of data lost; `warm-standby` promotes the
 * cross-region read replica, minutes, and the replica's lag lost.
 */
export const RECOVERY_MODES = ['snapshot', 'warm-standby'] as const;
export type RecoveryMode = (typeof RECOVERY_MODES)[number];

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
  /** Overrides the deployment's `recoveryMode` for this run. */
  mode: z.enum(RECOVERY_MODES).optional(),
});
export type RecoveryRequest = z.infer<typeof recoveryRequestSchema>;

/** Where and how the DR site is recovered: the deployment's configuration. */
export interface RecoverySettings {
  readonly drRegion: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly sourceDatabase: DatabaseRef;
  /** Where a snapshot restore goes. */
  readonly targetDatabase: DatabaseRef;
  readonly recoveryMode: RecoveryMode;
  /** The cross-region read replica a warm-standby run promotes. */
  readonly standbyReplica?: DatabaseRef;
  readonly instanceClass: string;
  readonly subnetGroupName: string;
  readonly securityGroupIds: readonly string[];
  readonly backupBucket: string;
  readonly storageClass: string;
  readonly blockchainVolumeSize: string;
  /** The Jobs a run creates: images pinned by digest, service account, credentials (recovery-manifests.ts). */
  readonly jobs: RecoveryJobSettings;
  /** Application manifests, applied in this order. */
  readonly manifests: readonly KubernetesManifest[];
  /** The workloads that must be available before the recovery is validated. */
  readonly workloads: readonly { kind: WorkloadRef['kind']; name: string }[];
  readonly applicationDeadlineSeconds: number;
  readonly validation: {
    readonly healthUrl: string;
    readonly integrity: 'row-counts' | 'checksums';
  };
  readonly routing: TrafficRoutingSettings;
  /** How long the switch may take to be seen by the DR VPC's resolver before the run says it did not happen. */
  readonly routingDeadlineSeconds: number;
  readonly objectives: { readonly rtoSeconds: number; readonly rpoSeconds: number };
  readonly lockTtlSeconds: number;
  readonly approvalRequired: boolean;
  /** How long a real run waits for its routing approval before it stops, keeping what it restored. */
  readonly approvalTimeoutSeconds: number;
}

export function parseRecoveryRequest(
  input: unknown,
  settings: Pick<RecoverySettings, 'drRegion' | 'recoveryMode' | 'standbyReplica'>,
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
  if ((request.mode ?? settings.recoveryMode) === 'warm-standby' && !settings.standbyReplica) {
    throw new InvalidRecoveryRequestError(
      'invalid recovery request: mode: warm-standby needs disasterRecovery.standbyReplica in the deployment',
    );
  }
  if ((request.mode ?? settings.recoveryMode) === 'warm-standby' && request.backupDate !== 'latest') {
    // A standby holds the primary's current data: an older day's database is a snapshot restore.
    throw new InvalidRecoveryRequestError(
      `invalid recovery request: backupDate: a warm-standby recovery promotes the standby's current data; recover ${request.backupDate} with mode snapshot`,
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
  readonly databaseMode: RecoveryMode;
  /** The database the run brings up: the restore target, or the replica promoted (a dry run's `-drill` copy). */
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
  const databaseMode = request.mode ?? settings.recoveryMode;
  const database =
    databaseMode === 'warm-standby' && settings.standbyReplica
      ? settings.standbyReplica
      : settings.targetDatabase;
  const jobName = (purpose: string) =>
    `aor-${purpose}-${runId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
  return {
    runId,
    restoresData: request.recoveryType !== 'applications-only',
    restoresApplications: request.recoveryType !== 'data-only',
    // A drill never touches production routing.
    switchesRouting: !request.dryRun,
    requiresApproval: settings.approvalRequired && !request.dryRun,
    databaseMode,
    database: { ...database, identifier: `${database.identifier}${suffix}` },
    namespace: `${settings.namespace}${suffix}`,
    volumeClaim: `blockchain-data-restore${suffix}`,
    restoreJob: jobName('restore'),
    checkJobs: { endpoint: jobName('endpoint-check'), integrity: jobName('integrity-check') },
    tags: { [RECOVERY_RUN_TAG]: runId, 'aor:dry-run': String(request.dryRun) },
  };
}

/** Everything a run may have created in the DR cluster, for compensation and drill clean-up. */
export function createdObjects(
  plan: RecoveryPlan,
  settings: Pick<RecoverySettings, 'manifests'>,
): ObjectRef[] {
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
  /** From the run's start to the end of the last step, less a drill's preparation: the recovery time achieved. */
  readonly rtoSeconds: number;
  /** Age of the oldest restored data when its restore began: the recovery point achieved; null when nothing was restored or one data set's age is unknown (a standby with no lag reading). */
  readonly rpoSeconds: number | null;
  readonly rtoMet: boolean;
  readonly rpoMet: boolean | null;
  /**
   * Time a drill spent on what a real run does not do (making a `-drill` twin of the standby),
   * taken out of its RTO and reported here instead.
   */
  readonly drillPreparationSeconds: number;
}

export function measureRecovery(input: {
  startedAt: string;
  finishedAt: string;
  /** [recovery point, restore start] of each data set restored; a null recovery point is one not measured. */
  restores: readonly { takenAt: string | null; restoreStartedAt: string }[];
  preparationSeconds?: number;
  objectives: RecoverySettings['objectives'];
}): RecoveryMeasurement {
  const preparation = input.preparationSeconds ?? 0;
  const elapsed = Math.round((Date.parse(input.finishedAt) - Date.parse(input.startedAt)) / 1000);
  const rtoSeconds = elapsed - preparation;
  const ages = input.restores.map((r) =>
    r.takenAt === null ? null : Math.round((Date.parse(r.restoreStartedAt) - Date.parse(r.takenAt)) / 1000),
  );
  // Not the other data sets' age alone: an unmeasured one may be older.
  const rpoSeconds =
    ages.length === 0 || ages.includes(null) ? null : Math.max(...ages.filter((age) => age !== null));
  return {
    rtoSeconds,
    rpoSeconds,
    rtoMet: rtoSeconds <= input.objectives.rtoSeconds,
    rpoMet: rpoSeconds === null ? null : rpoSeconds <= input.objectives.rpoSeconds,
    drillPreparationSeconds: preparation,
  };
}

export function recoveryRunId(startedAt: Date, executionName: string): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `DR-${stamp}-${executionName.replace(/[^A-Za-z0-9]/g, '').slice(-6) || 'run'}`;
}
