/**
 * The seed's validate_recovery, done from inside the DR cluster: the restored workloads are
 * available and the blockchain peers answer, the application endpoint responds, and the restored
 * data matches the backup's integrity manifest. The last two are Jobs that say what they run: `curl`
 * of the health URL (a curl image), and `psql` with one statement that measures every table the
 * manifest lists, prints its report and raises when a table differs (a PostgreSQL client image, as a
 * read-only database user whose credentials come from a Secret the deployer made). A failed check
 * is reported with what its pod said.
 */
import type { ClusterOperations, JsonValue, KubernetesManifest, PodEvidence } from '../operations/cluster';
import type { BackupCatalog, DatabaseRecovery, IntegrityManifest } from './ports';
import type { RecoverySettings } from './recovery';
import {
  type RecoveryJobSettings,
  requireDigestPinned,
  type RunIdentity,
  runJob,
} from './recovery-manifests';
import {
  RecoveryValidationFailedError,
  type RecoveryRunState,
  type SiteValidation,
} from './recovery-service';

/**
 * How long the task waits for a check. A check whose pod cannot start (its Secret missing, its
 * image not pulled) waits for ever: at this deadline it is a failed check, with its pod's reason.
 */
const CHECK_DEADLINE_MS = 5 * 60_000;
const CHECK_POLL_MS = 5_000;
/**
 * After the task has given up on it: a check Job left behind (its task timed out, or died) stops its
 * pod by itself, while a pod that cannot start is still there to be diagnosed when the task looks.
 */
const CHECK_ACTIVE_DEADLINE_SECONDS = 600;
const HEALTH_CHECK_TIMEOUT_SECONDS = 10;
/** Lines of a failed check's log kept in the error: its report and the error after it. */
const FAILED_CHECK_LOG_LINES = 5;
/** The names the integrity statement measures: plain (optionally schema-qualified) identifiers. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export type IntegrityCheck = RecoverySettings['validation']['integrity'];
/**
 * A restored snapshot holds exactly the manifest's day: its tables must equal the manifest. A
 * promoted standby holds the primary's data up to its lag, newer than the last manifest: each table
 * must hold at least the rows it had then (a checksum of newer data cannot match, so it is not asked).
 */
export type IntegrityComparison = 'equal' | 'at-least';

export type ValidationSettings = Pick<RecoverySettings, 'workloads' | 'backupBucket' | 'validation'> & {
  readonly jobs: Pick<RecoveryJobSettings, 'endpointCheck' | 'integrityCheck'>;
};

export interface ValidationPorts {
  readonly cluster: ClusterOperations;
  readonly recovery: DatabaseRecovery;
  readonly backups: BackupCatalog;
}

/** `curl --fail` of the health URL: exit 0 on a 2xx answer, 6/7/22/28 when it cannot resolve, connect, gets an error status or times out. */
export function endpointCheckJob(run: RunIdentity, settings: ValidationSettings): KubernetesManifest {
  return runJob(run, {
    name: run.plan.checkJobs.endpoint,
    backoffLimit: 0,
    activeDeadlineSeconds: CHECK_ACTIVE_DEADLINE_SECONDS,
    container: {
      name: 'check',
      image: requireDigestPinned(settings.jobs.endpointCheck.image, 'the endpoint check'),
      command: ['curl'],
      args: [
        '--fail',
        '--silent',
        '--show-error',
        '--max-time',
        String(HEALTH_CHECK_TIMEOUT_SECONDS),
        '--output',
        '/dev/null',
        settings.validation.healthUrl,
      ],
    },
  });
}

/**
 * One PL/pgSQL block: for each table of the manifest, its row count (or content checksum) as JSON,
 * compared with the manifest's; the report as a NOTICE; an exception, so psql exits 1, when any
 * differs. The manifest's values travel as a dollar-quoted JSON literal and its table names only as
 * data resolved with `to_regclass`, so nothing in the manifest is ever executed. The checksum is the
 * md5 of the table's sorted row md5s: the backup that writes the manifest must compute it so.
 */
export function integrityStatement(
  check: IntegrityCheck,
  expected: Record<string, JsonValue>,
  comparison: IntegrityComparison = 'equal',
): string {
  if (comparison === 'at-least' && check !== 'row-counts') {
    throw new RecoveryValidationFailedError(`a ${check} check can only compare equal, not at least`);
  }
  const differs =
    comparison === 'equal'
      ? 'actual IS DISTINCT FROM item.value'
      : 'actual IS NULL OR actual::numeric < item.value::numeric';
  const measure =
    check === 'row-counts'
      ? 'SELECT to_jsonb(count(*)) FROM %s'
      : "SELECT to_jsonb(md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))) FROM %s AS t";
  return [
    'DO $aor_check$',
    'DECLARE',
    `  expected jsonb := $aor_expected$${JSON.stringify(expected)}$aor_expected$;`,
    `  measure text := $aor_measure$${measure}$aor_measure$;`,
    '  item record;',
    '  relation regclass;',
    '  actual jsonb;',
    "  tables jsonb := '{}';",
    "  mismatched text[] := '{}';",
    'BEGIN',
    '  FOR item IN SELECT key, value FROM jsonb_each(expected) ORDER BY key LOOP',
    '    relation := to_regclass(item.key);',
    '    actual := NULL;',
    '    IF relation IS NOT NULL THEN',
    '      EXECUTE format(measure, relation) INTO actual;',
    '    END IF;',
    "    tables := tables || jsonb_build_object(item.key, jsonb_build_object('expected', item.value, 'actual', actual));",
    `    IF ${differs} THEN`,
    '      mismatched := mismatched || item.key;',
    '    END IF;',
    '  END LOOP;',
    `  RAISE NOTICE '%', jsonb_build_object('check', '${check}', 'comparison', '${comparison}', 'passed', cardinality(mismatched) = 0, 'tables', tables, 'mismatched', to_jsonb(mismatched));`,
    '  IF cardinality(mismatched) > 0 THEN',
    `    RAISE EXCEPTION '${check} ${comparison === 'equal' ? 'differ from' : 'fall short of'} the integrity manifest: %', array_to_string(mismatched, ', ');`,
    '  END IF;',
    'END',
    '$aor_check$',
  ].join('\n');
}

/** The manifest's value of each table for this check; the run fails on a table name AOR will not query. */
function expectedValues(check: IntegrityCheck, manifest: IntegrityManifest): Record<string, JsonValue> {
  const field = check === 'row-counts' ? 'rows' : 'checksum';
  const expected: Record<string, JsonValue> = {};
  for (const [table, entry] of Object.entries(manifest.tables)) {
    if (!TABLE_NAME.test(table)) {
      throw new RecoveryValidationFailedError(
        `the integrity manifest of ${manifest.day} names a table AOR will not query: ${JSON.stringify(table)}`,
      );
    }
    const value = entry[field];
    if (value !== undefined) expected[table] = value;
  }
  if (Object.keys(expected).length === 0) {
    throw new RecoveryValidationFailedError(
      `the integrity manifest of ${manifest.day} lists no table's ${field}`,
    );
  }
  return expected;
}

/** `psql` running the integrity statement against the restored database, as the check user. */
export function integrityCheckJob(
  run: RunIdentity,
  target: { endpoint: string; manifest: IntegrityManifest },
  settings: ValidationSettings,
): KubernetesManifest {
  const { integrityCheck } = settings.jobs;
  const { credentialsSecret: secret } = integrityCheck;
  const { check, comparison } = integrityCheckOf(run, settings);
  return runJob(run, {
    name: run.plan.checkJobs.integrity,
    backoffLimit: 0,
    activeDeadlineSeconds: CHECK_ACTIVE_DEADLINE_SECONDS,
    container: {
      name: 'check',
      image: requireDigestPinned(integrityCheck.image, 'the integrity check'),
      command: ['psql'],
      args: [
        '--no-psqlrc',
        '--quiet',
        '--command',
        integrityStatement(check, expectedValues(check, target.manifest), comparison),
      ],
      env: [
        { name: 'PGHOST', value: target.endpoint },
        { name: 'PGPORT', value: String(integrityCheck.port) },
        { name: 'PGDATABASE', value: integrityCheck.databaseName },
        // Encrypted; `verify-full` would need the GovCloud RDS CA bundle mounted into the pod.
        { name: 'PGSSLMODE', value: 'require' },
        { name: 'PGCONNECT_TIMEOUT', value: '10' },
        // The credentials stay in the Secret: the kubelet resolves them, the Job spec never holds them.
        { name: 'PGUSER', valueFrom: { secretKeyRef: { name: secret.name, key: secret.usernameKey } } },
        { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: secret.name, key: secret.passwordKey } } },
      ],
    },
  });
}

/** What the integrity check measures and how it compares, by where the run's database came from. */
function integrityCheckOf(
  run: RunIdentity,
  settings: ValidationSettings,
): { check: IntegrityCheck; comparison: IntegrityComparison } {
  return run.plan.databaseMode === 'warm-standby'
    ? { check: 'row-counts', comparison: 'at-least' }
    : { check: settings.validation.integrity, comparison: 'equal' };
}

export function inClusterValidation(ports: ValidationPorts, settings: ValidationSettings) {
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
      await runCheck(ports.cluster, namespace, 'endpoint', endpointCheckJob(run, settings));
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
      const { check, comparison } = integrityCheckOf(run, settings);
      const job = integrityCheckJob(run, { endpoint: database.endpoint, manifest }, settings);
      await runCheck(ports.cluster, namespace, check, job);
      const tables = Object.keys(manifest.tables).length;
      report.integrity =
        comparison === 'equal'
          ? `${check} of ${tables} tables match the manifest of ${day}`
          : `${check} of ${tables} tables are at least the manifest of ${day}'s`;
    }
    return report;
  };
}

async function runCheck(
  cluster: ClusterOperations,
  namespace: string,
  check: string,
  job: KubernetesManifest,
): Promise<void> {
  try {
    await cluster.runJobToCompletion({
      namespace,
      job,
      deadlineMs: CHECK_DEADLINE_MS,
      pollMs: CHECK_POLL_MS,
    });
  } catch (error) {
    // The port's contract names its errors, as Step Functions matches them: a check Job that
    // failed, or that never finished because its pod never ran.
    if (
      error instanceof Error &&
      (error.name === 'JobFailedError' || error.name === 'JobDeadlineExceededError')
    ) {
      const said = await whatThePodsSaid(cluster, namespace, job.metadata.name);
      throw new RecoveryValidationFailedError(`${check} check failed: ${error.message}; ${said}`);
    }
    throw error;
  }
}

/** The check's own account of its failure: each pod's waiting reason, or its exit code and last lines. */
async function whatThePodsSaid(cluster: ClusterOperations, namespace: string, job: string): Promise<string> {
  const pods = await cluster.listPods({ namespace, labelSelector: `job-name=${job}` });
  if (pods.length === 0) {
    return "no pod was created: the Job's events say why (a missing service account is one cause)";
  }
  const bundle = await cluster.captureForensics({
    namespace,
    podNames: pods.map((pod) => pod.name),
    tailLines: FAILED_CHECK_LOG_LINES,
  });
  return bundle.pods.map(podAccount).join('; ');
}

function field(value: JsonValue | undefined, ...path: (string | number)[]): JsonValue | undefined {
  return path.reduce<JsonValue | undefined>((current, key) => {
    if (current === null || typeof current !== 'object') return undefined;
    return Array.isArray(current) ? current[Number(key)] : current[String(key)];
  }, value);
}

function podAccount(pod: PodEvidence): string {
  const state = field(pod.pod, 'status', 'containerStatuses', 0, 'state');
  const waiting = field(state, 'waiting');
  if (waiting !== undefined) {
    const message = field(waiting, 'message');
    return `pod ${pod.name} waiting: ${String(field(waiting, 'reason'))}${message === undefined ? '' : `: ${String(message)}`}`;
  }
  const exitCode = field(state, 'terminated', 'exitCode');
  const log = pod.logs[0]?.log?.trim();
  const said = String(field(state, 'terminated', 'message') ?? log ?? '').trim() || 'nothing';
  return `pod ${pod.name} ${exitCode === undefined ? 'ended' : `exited ${String(exitCode)}`}: ${said}`;
}
