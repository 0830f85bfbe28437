import type { JobStatus, KubernetesManifest } from '../../lambdas/core/operations/cluster';
import {
  CONTROLLER_REACTION_MS,
  JOB_DEFAULT_RUN_MS,
  JOB_FAILED_ATTEMPT_MS,
  JOB_INITIAL_BACKOFF_MS,
  JOB_MAX_BACKOFF_MS,
  JOB_POD_STARTUP_MS,
  S3_SYNC_BYTES_PER_SECOND,
} from './durations';
import { asRecord } from './kubernetes-model';
import { type CheckVerdict, checkOf } from './recovery-checks';
import type { S3Read } from './simulated-s3';

/**
 * Simulated Kubernetes Jobs: the DR restore that copies blockchain data from S3 onto a volume, and
 * the DR validation checks. Planned whole when created (attempts, back-offs, each attempt's log and
 * exit code, the outcome), judging the world as of each attempt's time, then read as of any time.
 */

const S3_URI = /s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s"'\\]*)?/g;
/** `aws s3 sync` flags that keep it from printing a line per object copied. */
const QUIET_SYNC = /"--(only-show-errors|quiet)"|\s--(only-show-errors|quiet)\b/;
/** The kubelet keeps at most this much of a log as a `FallbackToLogsOnError` termination message. */
const FALLBACK_MESSAGE_LINES = 80;
const FALLBACK_MESSAGE_BYTES = 2048;

/** What a Job's pods meet in the world. */
export interface JobWorld {
  /** What a pod copying from this S3 location finds there. */
  readS3(uri: string): S3Read;
  /** Why a pod mounting this claim cannot be scheduled; undefined when it can. */
  volumeProblem(namespace: string, claimName: string): string | undefined;
  /** A validation check's verdict when its container runs it at `at`. */
  runCheck(check: string, template: Record<string, unknown>, namespace: string, at: number): CheckVerdict;
}

export interface LogLine {
  readonly at: number;
  readonly text: string;
}

export interface JobAttempt {
  /** When its pod is created. */
  readonly startedAt: number;
  /** When its container exits; never (infinity) for a pod that is never scheduled. */
  readonly endedAt: number;
  readonly failed: boolean;
  /** Why its pod is never scheduled; null when it runs. */
  readonly pendingReason: string | null;
  readonly exitCode: number | null;
  readonly log: readonly LogLine[];
  readonly terminationMessage: string | null;
}

export interface JobRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly manifest: KubernetesManifest;
  readonly createdAt: number;
  readonly attempts: readonly JobAttempt[];
  /** The terminal condition; null for a Job that never finishes (its pod is never scheduled). */
  readonly outcome: {
    readonly state: 'complete' | 'failed';
    readonly at: number;
    readonly reason: string;
    readonly message: string;
  } | null;
  /** The S3 locations its pods copy from, and what they find there. */
  readonly reads: readonly { readonly uri: string; readonly read: S3Read }[];
  /** The validation check it runs (its `aor.phoenixrooivalk.mil/check` annotation), if any. */
  readonly check: string | null;
}

type AttemptRun = Omit<JobAttempt, 'startedAt'>;

function claimNames(podSpec: Record<string, unknown>): string[] {
  const volumes = podSpec.volumes;
  return (Array.isArray(volumes) ? volumes : []).flatMap((volume) => {
    const claimName = asRecord(asRecord(volume).persistentVolumeClaim).claimName;
    return typeof claimName === 'string' ? [claimName] : [];
  });
}

/** With `terminationMessagePolicy: FallbackToLogsOnError`, a failed container's log tail is its message. */
function fallbackMessage(podSpec: Record<string, unknown>, log: readonly LogLine[]): string | null {
  const containers = podSpec.containers;
  const first = asRecord(Array.isArray(containers) ? containers[0] : undefined);
  if (first.terminationMessagePolicy !== 'FallbackToLogsOnError' || log.length === 0) return null;
  const tail = log
    .slice(-FALLBACK_MESSAGE_LINES)
    .map((line) => line.text)
    .join('\n');
  return tail.slice(-FALLBACK_MESSAGE_BYTES);
}

/** One attempt's pod from its container's start at `runningAt`: what it does, logs and exits with. */
function planRun(
  runningAt: number,
  job: {
    namespace: string;
    template: Record<string, unknown>;
    check: string | null;
    reads: JobRecord['reads'];
  },
  world: JobWorld,
): AttemptRun {
  const podSpec = asRecord(job.template.spec);
  const exit = (endedAt: number, ok: boolean, log: LogLine[], message: string | null = null): AttemptRun => ({
    endedAt,
    failed: !ok,
    pendingReason: null,
    exitCode: ok ? 0 : 1,
    log,
    terminationMessage: message ?? (ok ? null : fallbackMessage(podSpec, log)),
  });
  if (job.check !== null) {
    const verdict = world.runCheck(job.check, job.template, job.namespace, runningAt);
    const report = JSON.stringify(verdict.report);
    const endedAt = runningAt + verdict.runMs;
    return exit(endedAt, verdict.passed, [{ at: endedAt, text: report }], report);
  }
  const failedAt = runningAt + JOB_FAILED_ATTEMPT_MS;
  for (const { uri, read } of job.reads) {
    if (read.kind === 'denied') {
      const text = `fatal error: An error occurred (AccessDenied) when calling the ListObjectsV2 operation: ${read.message}`;
      return exit(failedAt, false, [{ at: failedAt, text }]);
    }
    if (read.kind === 'empty') {
      return exit(failedAt, false, [{ at: failedAt, text: `restore: nothing to copy under ${uri}` }]);
    }
  }
  if (job.reads.length === 0) return exit(runningAt + JOB_DEFAULT_RUN_MS, true, []);
  const quiet = QUIET_SYNC.test(JSON.stringify(podSpec));
  const log: LogLine[] = [];
  let copied = 0;
  for (const { uri, read } of job.reads) {
    if (read.kind !== 'found') continue;
    for (const object of read.objects) {
      copied += object.bytes;
      const relative = object.uri.slice(uri.length).replace(/^\//, '');
      const at = runningAt + Math.round((copied / S3_SYNC_BYTES_PER_SECOND) * 1000);
      if (!quiet) log.push({ at, text: `download: ${object.uri} to ./${relative}` });
    }
  }
  return exit(runningAt + Math.round((copied / S3_SYNC_BYTES_PER_SECOND) * 1000), true, log);
}

/**
 * A Job runs one pod at a time. One that copies from S3 (an `s3://` URI in its pod template)
 * takes the transfer's size over S3_SYNC_BYTES_PER_SECOND; one whose S3 location holds nothing, or
 * that its pods' role may not read, fails each attempt. A check (see recovery-checks.ts) passes or
 * fails by the world at its time. A pod whose volume claim (or the claim's storage class) is
 * missing is never scheduled. A failing Job retries until `backoffLimit` (default 6) is spent;
 * `activeDeadlineSeconds` cuts it short.
 */
export function planJob(
  namespace: string,
  manifest: KubernetesManifest,
  createdAt: number,
  uid: string,
  world: JobWorld,
): JobRecord {
  const spec = asRecord(manifest.spec);
  const template = asRecord(spec.template);
  const check = checkOf(manifest.metadata) ?? null;
  const uris = [...new Set(JSON.stringify(template).match(S3_URI) ?? [])];
  const reads = check === null ? uris.map((uri) => ({ uri, read: world.readS3(uri) })) : [];
  const pendingReason =
    claimNames(asRecord(template.spec))
      .map((claim) => world.volumeProblem(namespace, claim))
      .find((problem) => problem !== undefined) ?? null;
  const backoffLimit = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : 6;
  const deadline =
    typeof spec.activeDeadlineSeconds === 'number'
      ? createdAt + spec.activeDeadlineSeconds * 1000
      : Number.POSITIVE_INFINITY;
  const attempts: JobAttempt[] = [];
  let outcome: JobRecord['outcome'] = null;
  let startedAt = createdAt + CONTROLLER_REACTION_MS;
  let backoff = JOB_INITIAL_BACKOFF_MS;
  if (pendingReason !== null) {
    attempts.push({
      startedAt,
      endedAt: Number.POSITIVE_INFINITY,
      failed: false,
      pendingReason,
      exitCode: null,
      log: [],
      terminationMessage: null,
    });
  } else {
    for (let attempt = 0; attempt <= backoffLimit; attempt += 1) {
      const run = planRun(startedAt + JOB_POD_STARTUP_MS, { namespace, template, check, reads }, world);
      attempts.push({ startedAt, ...run });
      if (!run.failed) {
        outcome = {
          state: 'complete',
          at: run.endedAt,
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        };
        break;
      }
      startedAt = run.endedAt + backoff;
      backoff = Math.min(backoff * 2, JOB_MAX_BACKOFF_MS);
    }
    outcome ??= {
      state: 'failed',
      at: attempts.at(-1)?.endedAt ?? startedAt,
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    };
  }
  if ((outcome?.at ?? Number.POSITIVE_INFINITY) > deadline) {
    outcome = {
      state: 'failed',
      at: deadline,
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    };
  }
  const cut = outcome?.at ?? Number.POSITIVE_INFINITY;
  return {
    namespace,
    name: manifest.metadata.name,
    uid,
    manifest,
    createdAt,
    // The Job controller kills what still runs when the Job fails.
    attempts: attempts
      .filter((attempt) => attempt.startedAt < cut)
      .map((attempt) =>
        attempt.endedAt > cut
          ? {
              ...attempt,
              endedAt: cut,
              failed: true,
              exitCode: attempt.pendingReason === null ? 137 : null,
              log: attempt.log.filter((line) => line.at <= cut),
            }
          : attempt,
      ),
    outcome,
    reads,
    check,
  };
}

/** The Job's status subresource at `t`, as `jobStatus` reports it. */
export function jobStatusAt(job: JobRecord, t: number): JobStatus {
  const { namespace, name, outcome, attempts } = job;
  const failedBy = (time: number) =>
    attempts.filter((attempt) => attempt.failed && attempt.endedAt <= time).length;
  if (outcome !== null && t >= outcome.at) {
    return {
      namespace,
      name,
      state: outcome.state,
      active: 0,
      succeeded: outcome.state === 'complete' ? 1 : 0,
      failed: failedBy(outcome.at),
      message: `${outcome.reason}: ${outcome.message}`,
    };
  }
  const active = attempts.some((attempt) => attempt.startedAt <= t && t < attempt.endedAt) ? 1 : 0;
  return { namespace, name, state: 'running', active, succeeded: 0, failed: failedBy(t), message: null };
}
