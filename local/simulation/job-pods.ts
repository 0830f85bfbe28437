import type { ContainerLog, JsonValue, PodSummary } from '../../lambdas/core/operations/cluster';
import { hexId } from './deterministic';
import { JOB_POD_STARTUP_MS } from './durations';
import type { JobAttempt, JobRecord } from './kubernetes-jobs';
import { type ContainerSpec, rfc3339 } from './kubernetes-model';

/**
 * The pods of simulated Jobs, one per attempt, as `listPods` and `captureForensics` show them: how
 * a workflow reads a Job's result (`job-name=<job>` selects them; the container's log and its
 * termination message carry the check's JSON report). They take no room on the nodes.
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
  if (attempt.pendingReason !== null || t < attempt.startedAt + JOB_POD_STARTUP_MS) return 'Pending';
  return 'Running';
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
  if (phase === 'Pending' || (phase === 'Failed' && attempt.pendingReason !== null)) {
    return { waiting: { reason: 'ContainerCreating' } };
  }
  if (phase === 'Running') return { running: { startedAt } };
  return {
    terminated: {
      exitCode: attempt.exitCode ?? 137,
      reason: attempt.exitCode === 0 ? 'Completed' : 'Error',
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
          ...(container
            ? [
                {
                  reason: 'Pulled',
                  message: `Container image "${container.image}" already present on machine`,
                  type: 'Normal',
                  at: attempt.startedAt + JOB_POD_STARTUP_MS - 2000,
                },
                {
                  reason: 'Started',
                  message: `Started container ${container.name}`,
                  type: 'Normal',
                  at: attempt.startedAt + JOB_POD_STARTUP_MS,
                },
              ]
            : []),
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
  if (attempt.pendingReason !== null || t < attempt.startedAt + JOB_POD_STARTUP_MS) {
    return {
      container,
      log: null,
      error: `KubernetesApiError: read log of ${pod.job.namespace}/${pod.name}/${container}: container "${container}" in pod "${pod.name}" is waiting to start: ContainerCreating`,
    };
  }
  const lines =
    container === pod.containers[0]?.name
      ? attempt.log.filter((line) => line.at <= t).map((line) => line.text)
      : [];
  const tail = lines.slice(-tailLines);
  return { container, log: tail.length === 0 ? '' : `${tail.join('\n')}\n`, error: null };
}
