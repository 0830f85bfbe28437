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

/**
 * Simulated Kubernetes Jobs, such as the DR restore that copies blockchain data from S3: planned
 * whole when created (attempts, back-offs, outcome), then read as of any time.
 */

const S3_URI = /s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s"'\\]*)?/g;

export interface JobAttempt {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly failed: boolean;
}

export interface JobRecord {
  readonly namespace: string;
  readonly name: string;
  readonly manifest: KubernetesManifest;
  readonly createdAt: number;
  readonly attempts: readonly JobAttempt[];
  readonly outcome: {
    readonly state: 'complete' | 'failed';
    readonly at: number;
    readonly reason: string;
    readonly message: string;
  };
  /** The S3 locations its command reads, and their sizes (undefined: nothing there). */
  readonly transfers: readonly { readonly uri: string; readonly bytes: number | undefined }[];
}

/**
 * A Job runs one pod at a time. One that copies from S3 (an `s3://` URI in its spec) takes the
 * transfer's size over S3_SYNC_BYTES_PER_SECOND; one whose S3 location holds nothing fails each
 * attempt until `backoffLimit` (default 6); `activeDeadlineSeconds` cuts either short.
 */
export function planJob(
  namespace: string,
  manifest: KubernetesManifest,
  createdAt: number,
  s3Bytes: (uri: string) => number | undefined,
): JobRecord {
  const spec = asRecord(manifest.spec);
  const uris = [...new Set(JSON.stringify(asRecord(spec.template)).match(S3_URI) ?? [])];
  const transfers = uris.map((uri) => ({ uri, bytes: s3Bytes(uri) }));
  const missing = transfers.filter((transfer) => transfer.bytes === undefined);
  const backoffLimit = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : 6;
  const deadline =
    typeof spec.activeDeadlineSeconds === 'number'
      ? createdAt + spec.activeDeadlineSeconds * 1000
      : Number.POSITIVE_INFINITY;
  const attempts: JobAttempt[] = [];
  let outcome: JobRecord['outcome'];
  let startedAt = createdAt + CONTROLLER_REACTION_MS;
  if (missing.length === 0) {
    const bytes = transfers.reduce((sum, transfer) => sum + (transfer.bytes ?? 0), 0);
    const runMs = transfers.length === 0 ? JOB_DEFAULT_RUN_MS : (bytes / S3_SYNC_BYTES_PER_SECOND) * 1000;
    const endedAt = startedAt + JOB_POD_STARTUP_MS + Math.round(runMs);
    attempts.push({ startedAt, endedAt, failed: false });
    outcome = {
      state: 'complete',
      at: endedAt,
      reason: 'CompletionsReached',
      message: 'Reached expected number of succeeded pods',
    };
  } else {
    let backoff = JOB_INITIAL_BACKOFF_MS;
    for (let attempt = 0; attempt <= backoffLimit; attempt += 1) {
      const endedAt = startedAt + JOB_POD_STARTUP_MS + JOB_FAILED_ATTEMPT_MS;
      attempts.push({ startedAt, endedAt, failed: true });
      startedAt = endedAt + backoff;
      backoff = Math.min(backoff * 2, JOB_MAX_BACKOFF_MS);
    }
    outcome = {
      state: 'failed',
      at: attempts[attempts.length - 1]?.endedAt ?? startedAt,
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    };
  }
  if (outcome.at > deadline) {
    outcome = {
      state: 'failed',
      at: deadline,
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    };
  }
  const cut = outcome.at;
  return {
    namespace,
    name: manifest.metadata.name,
    manifest,
    createdAt,
    attempts: attempts
      .filter((attempt) => attempt.startedAt < cut)
      .map((attempt) => (attempt.endedAt > cut ? { ...attempt, endedAt: cut, failed: true } : attempt)),
    outcome,
    transfers,
  };
}

/** The Job's status subresource at `t`, as `jobStatus` reports it. */
export function jobStatusAt(job: JobRecord, t: number): JobStatus {
  const { namespace, name, outcome, attempts } = job;
  const failedBy = (time: number) =>
    attempts.filter((attempt) => attempt.failed && attempt.endedAt <= time).length;
  if (t >= outcome.at) {
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
