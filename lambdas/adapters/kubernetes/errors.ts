import type { JobStatus, WorkloadStatus } from '../../core/operations/cluster';

/**
 * A Kubernetes API call failed. The `name` of each subclass is what Step Functions Retry/Catch match; the
 * base class itself is thrown for statuses no subclass covers (400 BadRequest, 405, 410 …).
 */
export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  /** HTTP status of the API server's answer; undefined when no answer came back. */
  readonly statusCode: number | undefined;
  /** `Status.reason` of the API server's answer, e.g. `NotFound`, `AlreadyExists`. */
  readonly reason: string | undefined;
  /** Whether the same call may succeed later without anyone changing anything. */
  readonly retryable: boolean = false;

  constructor(message: string, details: { statusCode?: number; reason?: string; cause?: unknown } = {}) {
    super(message, { cause: details.cause });
    this.statusCode = details.statusCode;
    this.reason = details.reason;
  }
}

export class KubernetesUnauthorizedError extends KubernetesApiError {
  override name = 'KubernetesUnauthorizedError';
}

export class KubernetesForbiddenError extends KubernetesApiError {
  override name = 'KubernetesForbiddenError';
}

export class KubernetesNotFoundError extends KubernetesApiError {
  override name = 'KubernetesNotFoundError';
}

export class KubernetesConflictError extends KubernetesApiError {
  override name = 'KubernetesConflictError';
}

export class KubernetesInvalidError extends KubernetesApiError {
  override name = 'KubernetesInvalidError';
}

/** 429 or 5xx: the API server is overloaded or failing; retry with backoff. */
export class KubernetesUnavailableError extends KubernetesApiError {
  override name = 'KubernetesUnavailableError';
  override readonly retryable = true;
}

/** No answer at all: connection refused/reset, DNS failure, or the request timed out. */
export class KubernetesTimeoutError extends KubernetesApiError {
  override name = 'KubernetesTimeoutError';
  override readonly retryable = true;
}

/** A Deployment reported `ProgressDeadlineExceeded`, or the workload's rollout cannot be tracked at all. */
export class RolloutFailedError extends Error {
  override name = 'RolloutFailedError';
  constructor(
    message: string,
    readonly lastStatus: WorkloadStatus,
  ) {
    super(message);
  }
}

export class RolloutDeadlineExceededError extends Error {
  override name = 'RolloutDeadlineExceededError';
  constructor(
    message: string,
    readonly lastStatus: WorkloadStatus,
  ) {
    super(message);
  }
}

export class JobFailedError extends Error {
  override name = 'JobFailedError';
  constructor(
    message: string,
    readonly lastStatus: JobStatus,
  ) {
    super(message);
  }
}

export class JobDeadlineExceededError extends Error {
  override name = 'JobDeadlineExceededError';
  constructor(
    message: string,
    readonly lastStatus: JobStatus,
  ) {
    super(message);
  }
}

/** The EKS cluster exists but is CREATING, UPDATING, DELETING or FAILED: its API cannot be trusted yet. */
export class ClusterNotActiveError extends Error {
  override name = 'ClusterNotActiveError';
}
