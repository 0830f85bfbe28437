/**
 * Waiting for a rollout or a Job as `kubectl rollout status` and `kubectl wait` do: when each is
 * done, and the poll loop that waits for it. The real and the simulated cluster both wait so; only
 * their clocks differ (the wall clock, or a workflow's simulated one).
 */
import type { JobStatus, WorkloadRef, WorkloadStatus } from '../../core/operations/cluster';
import {
  JobDeadlineExceededError,
  JobFailedError,
  KubernetesApiError,
  RolloutDeadlineExceededError,
  RolloutFailedError,
} from './errors';

/** What a poll loop asks of each status read: done yet (or throw), and the error for the deadline. */
export interface Completion<T> {
  settled: (status: T) => boolean;
  deadlineExceeded: (lastStatus: T) => Error;
}

/**
 * When a rollout is done, as `kubectl rollout status` waits for it: rolled out, or failed
 * (RolloutFailedError), or unfinished at the deadline (RolloutDeadlineExceededError).
 */
export function rolloutCompletion(workload: WorkloadRef, deadlineMs: number): Completion<WorkloadStatus> {
  const label = `${workload.kind} ${workload.namespace}/${workload.name}`;
  return {
    settled: (status) => {
      if (status.failed)
        throw new RolloutFailedError(`Rollout of ${label} failed: ${status.message}`, status);
      return status.rolledOut;
    },
    deadlineExceeded: (status) =>
      new RolloutDeadlineExceededError(
        `Rollout of ${label} not finished after ${deadlineMs} ms: ${status.message}`,
        status,
      ),
  };
}

/**
 * When a Job polled to completion is done: complete, or failed (JobFailedError), or still running
 * at the deadline (JobDeadlineExceededError).
 */
export function jobCompletion(namespace: string, name: string, deadlineMs: number): Completion<JobStatus> {
  return {
    settled: (status) => {
      if (status.state === 'failed') {
        throw new JobFailedError(
          `Job ${namespace}/${name} failed: ${status.message ?? 'no reason given'}`,
          status,
        );
      }
      return status.state === 'complete';
    },
    deadlineExceeded: (status) =>
      new JobDeadlineExceededError(
        `Job ${namespace}/${name} not finished after ${deadlineMs} ms (${status.active} active, ${status.failed} failed pods)`,
        status,
      ),
  };
}

/** The clock a wait runs on. */
export interface WaitClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Polls until `settled` says so, sleeping `pollMs` in between and never past the deadline. A retryable API
 * failure (5xx, 429, timeout) is one missed poll, not the end of the wait: the rollout goes on regardless.
 */
export async function pollUntilSettled<T>(
  clock: WaitClock,
  poll: { deadlineMs: number; pollMs: number; read: () => Promise<T> } & Completion<T>,
): Promise<T> {
  const startedAt = clock.now();
  let lastStatus: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      lastStatus = await poll.read();
      if (poll.settled(lastStatus)) return lastStatus;
    } catch (error) {
      if (!(error instanceof KubernetesApiError && error.retryable)) throw error;
      lastError = error;
    }
    if (clock.now() - startedAt + poll.pollMs > poll.deadlineMs) {
      throw lastStatus === undefined ? lastError : poll.deadlineExceeded(lastStatus);
    }
    await clock.sleep(poll.pollMs);
  }
}
