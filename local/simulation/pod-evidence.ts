import type { ContainerLog, JsonValue, PodSummary } from '../../lambdas/core/operations/cluster';
import { hexId } from './deterministic';
import { CONTAINER_CREATING_MS, EVENT_TTL_MS, METRIC_PERIOD_MS } from './durations';
import {
  crashLoop,
  type PodRecord,
  podPhase,
  podReady,
  podScheduled,
  rfc3339,
  type WorkloadRecord,
} from './kubernetes-model';

/**
 * A simulated pod as the API shows it: the summary `listPods` gives, and for forensics the Pod
 * object, its Events and its containers' logs, all as of a time. The first container is the one a
 * crash takes down.
 */

/** What an intruder's activity leaves in a breached node's log (documentation address ranges). */
const BREACH_LINES = [
  'WARN p2p: inbound connection from 203.0.113.66:51544 with unknown node key accepted by legacy allowlist',
  'WARN rpc: admin_exportKeystore called from 198.51.100.23 without a session',
  'WARN exec: unexpected child process /tmp/.x/kswapd0 (pid 4121) started by node',
  'WARN net: outbound connection to 192.0.2.200:4444 (not in peer allowlist)',
];

function crashedNow(pod: PodRecord, container: string, t: number): boolean {
  return pod.crash !== null && t >= pod.crash.at && container === pod.containers[0]?.name;
}

export function podRestarts(pod: PodRecord, t: number): number {
  return crashLoop(pod, t).restarts;
}

export function podSummary(pod: PodRecord, t: number): PodSummary {
  return {
    name: pod.name,
    phase: podPhase(pod, t),
    ready: podReady(pod, t),
    restarts: podRestarts(pod, t),
    nodeName: pod.nodeName,
    podIP: pod.podIP,
    labels: { ...pod.labels },
  };
}

function ownerReference(workload: WorkloadRecord, revision: string): JsonValue {
  return workload.kind === 'Deployment'
    ? { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${workload.name}-${revision}`, controller: true }
    : { apiVersion: 'apps/v1', kind: 'StatefulSet', name: workload.name, controller: true };
}

function containerState(pod: PodRecord, container: string, t: number): { [key: string]: JsonValue } {
  if (t < pod.createdAt + CONTAINER_CREATING_MS) {
    return { state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} };
  }
  if (!crashedNow(pod, container, t)) {
    return {
      state: { running: { startedAt: rfc3339(pod.createdAt + CONTAINER_CREATING_MS) } },
      lastState: {},
    };
  }
  const loop = crashLoop(pod, t);
  const lastState: JsonValue =
    loop.lastExitAt === null
      ? {}
      : { terminated: { exitCode: 2, reason: 'Error', finishedAt: rfc3339(loop.lastExitAt) } };
  const state: JsonValue = loop.running
    ? { running: { startedAt: rfc3339(loop.runStartedAt) } }
    : {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off restarting failed container=${container} pod=${pod.name}_${pod.namespace}(${pod.uid})`,
        },
      };
  return { state, lastState };
}

export function podJson(pod: PodRecord, t: number): JsonValue {
  const ready = podReady(pod, t);
  const condition = (type: string, status: boolean, reason?: string): JsonValue => ({
    type,
    status: status ? 'True' : 'False',
    ...(reason ? { reason } : {}),
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      labels: { ...pod.labels },
      creationTimestamp: rfc3339(pod.createdAt),
      ...(pod.deletedAt !== null && pod.deletedAt <= t ? { deletionTimestamp: rfc3339(pod.deletedAt) } : {}),
      ownerReferences: [ownerReference(pod.workload, pod.revision)],
    },
    spec: {
      ...(pod.nodeName ? { nodeName: pod.nodeName } : {}),
      containers: pod.containers.map((container) => ({ name: container.name, image: container.image })),
      terminationGracePeriodSeconds: Math.ceil(pod.workload.profile.terminationMs / 1000),
    },
    status: {
      phase: podPhase(pod, t),
      ...(pod.podIP ? { podIP: pod.podIP } : {}),
      conditions: podScheduled(pod)
        ? [condition('PodScheduled', true), condition('ContainersReady', ready), condition('Ready', ready)]
        : [condition('PodScheduled', false, 'Unschedulable')],
      ...(podScheduled(pod)
        ? {
            startTime: rfc3339(pod.createdAt),
            containerStatuses: pod.containers.map((container) => ({
              name: container.name,
              image: container.image,
              ready,
              restartCount: crashedNow(pod, container.name, t) ? podRestarts(pod, t) : 0,
              ...containerState(pod, container.name, t),
            })),
          }
        : {}),
    },
  };
}

interface EventSpec {
  readonly reason: string;
  readonly message: string;
  readonly type: 'Normal' | 'Warning';
  readonly component: string;
  readonly first: number;
  readonly last: number;
  readonly count: number;
}

/** The Events about the pod that the API still holds at `t`, oldest first (then by name). */
export function podEvents(pod: PodRecord, t: number, seed: string): JsonValue[] {
  const main = pod.containers[0];
  const specs: EventSpec[] = [];
  const once = (reason: string, message: string, at: number, type: EventSpec['type'] = 'Normal') =>
    specs.push({ reason, message, type, component: 'kubelet', first: at, last: at, count: 1 });
  if (!podScheduled(pod)) {
    const nodes = 'nodes are available';
    const retries = Math.floor(Math.max(0, t - pod.createdAt) / METRIC_PERIOD_MS);
    specs.push({
      reason: 'FailedScheduling',
      message: `0/3 ${nodes}: 3 Too many pods. preemption: 0/3 ${nodes}: 3 No preemption victims found for incoming pod.`,
      type: 'Warning',
      component: 'default-scheduler',
      first: pod.createdAt,
      last: pod.createdAt + retries * METRIC_PERIOD_MS,
      count: retries + 1,
    });
  } else {
    specs.push({
      reason: 'Scheduled',
      message: `Successfully assigned ${pod.namespace}/${pod.name} to ${pod.nodeName}`,
      type: 'Normal',
      component: 'default-scheduler',
      first: pod.createdAt,
      last: pod.createdAt,
      count: 1,
    });
    const loop = crashLoop(pod, t);
    for (const container of pod.containers) {
      const crashing = container === main && pod.crash !== null;
      const lastStart = crashing ? loop.runStartedAt : pod.createdAt + CONTAINER_CREATING_MS;
      const count = crashing ? loop.restarts + 1 : 1;
      for (const [offset, reason, message] of [
        [-2000, 'Pulled', `Container image "${container.image}" already present on machine`],
        [-1000, 'Created', `Created container: ${container.name}`],
        [0, 'Started', `Started container ${container.name}`],
      ] as const) {
        specs.push({
          reason,
          message,
          type: 'Normal',
          component: 'kubelet',
          first: pod.createdAt + CONTAINER_CREATING_MS + offset,
          last: lastStart + offset,
          count,
        });
      }
    }
    if (pod.crash !== null && main && t >= pod.crash.at) {
      once(
        'Unhealthy',
        'Readiness probe failed: HTTP probe failed with statuscode: 503',
        pod.crash.at,
        'Warning',
      );
      specs.push({
        reason: 'BackOff',
        message: `Back-off restarting failed container ${main.name} in pod ${pod.name}_${pod.namespace}(${pod.uid})`,
        type: 'Warning',
        component: 'kubelet',
        first: pod.crash.at,
        last: loop.lastExitAt ?? pod.crash.at,
        count: Math.max(1, loop.restarts),
      });
    }
  }
  if (pod.deletedAt !== null) {
    for (const container of pod.containers)
      once('Killing', `Stopping container ${container.name}`, pod.deletedAt);
  }
  return specs
    .filter((spec) => spec.first <= t && spec.last > t - EVENT_TTL_MS)
    .map((spec) => {
      const last = Math.min(spec.last, t);
      const name = `${pod.name}.${hexId(16, seed, 'event', pod.uid, spec.reason, spec.message)}`;
      return { spec, name, last };
    })
    .sort((a, b) => a.last - b.last || a.name.localeCompare(b.name))
    .map(({ spec, name, last }) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: pod.namespace, creationTimestamp: rfc3339(spec.first) },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: pod.name,
        namespace: pod.namespace,
        uid: pod.uid,
      },
      reason: spec.reason,
      message: spec.message,
      type: spec.type,
      count: spec.count,
      firstTimestamp: rfc3339(spec.first),
      lastTimestamp: rfc3339(last),
      source: { component: spec.component, ...(pod.nodeName ? { host: pod.nodeName } : {}) },
    }));
}

/** Healthy log lines between `from` and `to`, at most `limit` of the latest, breach lines mixed in. */
function logLines(pod: PodRecord, from: number, to: number, limit: number): string[] {
  const { logIntervalMs, logLine } = pod.workload.profile;
  const last = Math.floor(to / logIntervalMs);
  const first = Math.max(Math.ceil(from / logIntervalMs), last - limit + 1);
  const lines: string[] = [];
  for (let sequence = first; sequence <= last; sequence += 1) {
    const at = sequence * logIntervalMs;
    const breached = pod.breachedAt !== null && at >= pod.breachedAt && sequence % 3 === 0;
    const text = breached ? (BREACH_LINES[sequence % BREACH_LINES.length] ?? '') : logLine(sequence);
    lines.push(`${new Date(at).toISOString()} ${text}`);
  }
  return lines;
}

/** `GET …/pods/<name>/log?container=&tailLines=` as of `t`, as the adapter records it. */
export function containerLog(pod: PodRecord, container: string, t: number, tailLines: number): ContainerLog {
  const operation = `read log of ${pod.namespace}/${pod.name}/${container}`;
  if (!podScheduled(pod)) {
    return {
      container,
      log: null,
      error: `KubernetesApiError: ${operation}: pod ${pod.name} does not have a host assigned`,
    };
  }
  const startedAt = pod.createdAt + CONTAINER_CREATING_MS;
  if (t < startedAt) {
    return {
      container,
      log: null,
      error: `KubernetesApiError: ${operation}: container "${container}" in pod "${pod.name}" is waiting to start: ContainerCreating`,
    };
  }
  if (pod.crash !== null && crashedNow(pod, container, t)) {
    // The log of the container's latest run: the one running now, or the one that last exited.
    const loop = crashLoop(pod, t);
    if (loop.running)
      return { container, log: joined(logLines(pod, loop.runStartedAt, t, tailLines)), error: null };
    const exitAt = loop.lastExitAt ?? pod.crash.at;
    const stamp = new Date(exitAt).toISOString();
    const lines = [
      ...logLines(pod, loop.runStartedAt, exitAt, tailLines),
      ...pod.crash.lines.map((line) => `${stamp} ${line}`),
    ];
    return { container, log: joined(lines.slice(-tailLines)), error: null };
  }
  return { container, log: joined(logLines(pod, startedAt, t, tailLines)), error: null };
}

function joined(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
