import type { ContainerLog, JsonValue, PodSummary } from '../../lambdas/core/operations/cluster';
import { hexId } from './deterministic';
import { JOB_POD_STARTUP_MS } from './durations';
import type { JobAttempt, JobRecord } from './kubernetes-jobs';
import { type ContainerSpec, rfc3339 } from './kubernetes-model';

/**
 * The pods of simulated Jobs, one per attempt, as `listPods` and `captureForensics` show them: how
 * a workflow reads a Job's result (`job-name=<job>` selects them; the container's state says why it
 * never ran, its log and termination message what its program printed). They take no room on the
 * nodes.
 */

export interface JobPod {
  readonly job: JobRecord;
  readonly attempt: JobAttempt;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string | null;
  readonly podIP: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerSpec[];
}

type JobPodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export function jobPodPhase(pod: JobPod, t: number): JobPodPhase {
  const { attempt } = pod;
  if (t >= attempt.endedAt) return attempt.failed ? 'Failed' : 'Succeeded';
  if (attempt.pendingReason !== null || attempt.waiting !== null) return 'Pending';
  return t < attempt.startedAt + JOB_POD_STARTUP_MS ? 'Pending' : 'Running';
}

/** Why its container is not running yet (or never ran), as the kubelet reports it; undefined once it started. */
function waitingReason(pod: JobPod, t: number): { reason: string; message?: string } | undefined {
  const { attempt } = pod;
  const created = t >= attempt.startedAt + JOB_POD_STARTUP_MS;
  if (attempt.waiting !== null && created) return { ...attempt.waiting };
  if (attempt.pendingReason !== null || attempt.waiting !== null || !created)
    return { reason: 'ContainerCreating' };
  return undefined;
}

export function jobPodSummary(pod: JobPod, t: number): PodSummary {
  const phase = jobPodPhase(pod, t);
  return {
    name: pod.name,
    phase,
    ready: phase === 'Running',
    restarts: 0,
    nodeName: pod.nodeName,
    podIP: pod.podIP,
    labels: { ...pod.labels },
  };
}

function containerState(pod: JobPod, t: number): JsonValue {
  const { attempt } = pod;
  const startedAt = rfc3339(attempt.startedAt + JOB_POD_STARTUP_MS);
  const phase = jobPodPhase(pod, t);
  const waiting = waitingReason(pod, t);
  if (waiting) return { waiting };
  if (phase === 'Running') return { running: { startedAt } };
  return {
    terminated: {
      exitCode: attempt.exitCode ?? 137,
      reason: attempt.startError !== null ? 'StartError' : attempt.exitCode === 0 ? 'Completed' : 'Error',
      ...(attempt.terminationMessage === null ? {} : { message: attempt.terminationMessage }),
      startedAt,
      finishedAt: rfc3339(attempt.endedAt),
    },
  };
}

export function jobPodJson(pod: JobPod, t: number): JsonValue {
  const phase = jobPodPhase(pod, t);
  const scheduled = pod.nodeName !== null;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.job.namespace,
      uid: pod.uid,
      labels: { ...pod.labels },
      creationTimestamp: rfc3339(pod.attempt.startedAt),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: pod.job.name, uid: pod.job.uid, controller: true },
      ],
    },
    spec: {
      ...(scheduled ? { nodeName: pod.nodeName } : {}),
      restartPolicy: 'Never',
      containers: pod.containers.map((container) => ({ name: container.name, image: container.image })),
    },
    status: {
      phase,
      ...(pod.podIP ? { podIP: pod.podIP } : {}),
      conditions: [
        {
          type: 'PodScheduled',
          status: scheduled ? 'True' : 'False',
          ...(scheduled ? {} : { reason: 'Unschedulable', message: pod.attempt.pendingReason }),
        },
      ],
      ...(scheduled
        ? {
            startTime: rfc3339(pod.attempt.startedAt),
            containerStatuses: pod.containers.map((container) => ({
              name: container.name,
              image: container.image,
              ready: phase === 'Running',
              restartCount: 0,
              state: containerState(pod, t),
            })),
          }
        : {}),
    },
  };
}

/** The kubelet's events about the container: pulled and started, or why not. */
function containerEvents(attempt: JobAttempt, container: ContainerSpec) {
  const createdAt = attempt.startedAt + JOB_POD_STARTUP_MS;
  const pulled = {
    reason: 'Pulled',
    message: `Container image "${container.image}" already present on machine`,
    type: 'Normal',
    at: createdAt - 2000,
  };
  if (attempt.waiting?.reason === 'ImagePullBackOff') {
    return [{ reason: 'Failed', message: attempt.waiting.message, type: 'Warning', at: createdAt }];
  }
  if (attempt.waiting !== null) {
    return [
      pulled,
      { reason: 'Failed', message: `Error: ${attempt.waiting.message}`, type: 'Warning', at: createdAt },
    ];
  }
  if (attempt.startError !== null) {
    return [
      pulled,
      { reason: 'Failed', message: `Error: ${attempt.startError}`, type: 'Warning', at: createdAt },
    ];
  }
  return [
    pulled,
    { reason: 'Started', message: `Started container ${container.name}`, type: 'Normal', at: createdAt },
  ];
}

/** The Events about the pod at `t`: scheduling (or why it cannot be), then its container's start. */
export function jobPodEvents(pod: JobPod, t: number, seed: string): JsonValue[] {
  const { attempt } = pod;
  const namespace = pod.job.namespace;
  const container = pod.containers[0];
  const events: { reason: string; message: string; type: string; at: number }[] =
    attempt.pendingReason !== null
      ? [
          {
            reason: 'FailedScheduling',
            message: attempt.pendingReason,
            type: 'Warning',
            at: attempt.startedAt,
          },
        ]
      : [
          {
            reason: 'Scheduled',
            message: `Successfully assigned ${namespace}/${pod.name} to ${pod.nodeName}`,
            type: 'Normal',
            at: attempt.startedAt,
          },
          ...(container ? containerEvents(attempt, container) : []),
        ];
  return events
    .filter((event) => event.at <= t)
    .map((event) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.name}.${hexId(16, seed, 'event', pod.uid, event.reason)}`, namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.name, namespace, uid: pod.uid },
      reason: event.reason,
      message: event.message,
      type: event.type,
      count: 1,
      firstTimestamp: rfc3339(event.at),
      lastTimestamp: rfc3339(event.at),
    }));
}

/** The first container does the Job's work; its log is what it has written by `t` (no timestamps: the adapter asks for none). */
export function jobPodLog(pod: JobPod, container: string, t: number, tailLines: number): ContainerLog {
  const { attempt } = pod;
  const waiting = waitingReason(pod, t);
  if (waiting) {
    return {
      container,
      log: null,
      error: `KubernetesApiError: read log of ${pod.job.namespace}/${pod.name}/${container}: container "${container}" in pod "${pod.name}" is waiting to start: ${waiting.reason}`,
    };
  }
  const lines =
    container === pod.containers[0]?.name
      ? attempt.log.filter((line) => line.at <= t).map((line) => line.text)
      : [];
  const tail = lines.slice(-tailLines);
  return { container, log: tail.length === 0 ? '' : `${tail.join('\n')}\n`, error: null };
}
