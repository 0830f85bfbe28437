import type { JobStatus, KubernetesManifest, ObjectRef } from '../../lambdas/core/operations/cluster';
import { type ContainerWorld, imagePullProblem, runContainer } from './container-images';
import {
  CONTROLLER_REACTION_MS,
  JOB_INITIAL_BACKOFF_MS,
  JOB_MAX_BACKOFF_MS,
  JOB_POD_STARTUP_MS,
} from './durations';
import { asRecord, asStringRecord } from './kubernetes-model';

/**
 * Simulated Kubernetes Jobs: the DR restore that copies blockchain data from S3 onto a volume, and
 * the DR validation checks. Planned whole when created (attempts, back-offs, each attempt's log and
 * exit code, the outcome), judging the world as of each attempt's time, then read as of any time.
 *
 * A Job's pod meets what a real one meets, in the order the control plane and kubelet check it: its
 * service account must exist for the pod to be created at all; a volume claim (and its storage class)
 * for it to be scheduled; its image in the registry for it to be pulled; the Secrets and ConfigMaps its
 * environment references for its container to be created (CreateContainerConfigError); its command on
 * the image's PATH for it to start. Then the image's program runs (container-images.ts) and its exit
 * code decides. A pod stopped at any of these steps retries nothing by itself: the Job stays active
 * until its `activeDeadlineSeconds`, if any.
 */

/** What a Job's pods meet in the world. */
export interface JobWorld extends ContainerWorld {
  /** An object of the cluster (service accounts, Secrets, ConfigMaps), as the API server holds it. */
  object(ref: ObjectRef): KubernetesManifest | undefined;
  /** Why a pod mounting this claim cannot be scheduled; undefined when it can. */
  volumeProblem(namespace: string, claimName: string): string | undefined;
}

export interface LogLine {
  readonly at: number;
  readonly text: string;
}

/** A container that was created but never started, with the kubelet's reason. */
export interface ContainerWaiting {
  readonly reason: 'CreateContainerConfigError' | 'ImagePullBackOff';
  readonly message: string;
}

export interface JobAttempt {
  /** When its pod is created. */
  readonly startedAt: number;
  /** When its container exits; never (infinity) for a pod that never runs. */
  readonly endedAt: number;
  readonly failed: boolean;
  /** Why its pod is never scheduled; null when it is. */
  readonly pendingReason: string | null;
  /** Why its scheduled pod's container never starts; null when it does. */
  readonly waiting: ContainerWaiting | null;
  readonly exitCode: number | null;
  /** The runtime's message when it could not start the container at all (reason StartError). */
  readonly startError: string | null;
  readonly log: readonly LogLine[];
  readonly terminationMessage: string | null;
}

export interface JobRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly manifest: KubernetesManifest;
  readonly createdAt: number;
  /** The Job controller's FailedCreate event when it cannot create pods at all; null when it can. */
  readonly creationFailure: string | null;
  readonly attempts: readonly JobAttempt[];
  /** The terminal condition; null for a Job that never finishes. */
  readonly outcome: {
    readonly state: 'complete' | 'failed';
    readonly at: number;
    readonly reason: string;
    readonly message: string;
  } | null;
}

/** The annotation IRSA's pod identity webhook reads: the IAM role a service account's pods assume. */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** The kubelet keeps at most this much of a log as a `FallbackToLogsOnError` termination message. */
const FALLBACK_MESSAGE_LINES = 80;
const FALLBACK_MESSAGE_BYTES = 2048;

type PodRun = Omit<JobAttempt, 'startedAt'>;

function claimNames(podSpec: Record<string, unknown>): string[] {
  const volumes = podSpec.volumes;
  return (Array.isArray(volumes) ? volumes : []).flatMap((volume) => {
    const claimName = asRecord(asRecord(volume).persistentVolumeClaim).claimName;
    return typeof claimName === 'string' ? [claimName] : [];
  });
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.map(String) : undefined;
}

/** With `terminationMessagePolicy: FallbackToLogsOnError`, a failed container's log tail is its message. */
function fallbackMessage(container: Record<string, unknown>, log: readonly LogLine[]): string | null {
  if (container.terminationMessagePolicy !== 'FallbackToLogsOnError' || log.length === 0) return null;
  const tail = log
    .slice(-FALLBACK_MESSAGE_LINES)
    .map((line) => line.text)
    .join('\n');
  return tail.slice(-FALLBACK_MESSAGE_BYTES);
}

/** A value of a Secret (base64 `data`) or ConfigMap (`data`) by key. */
function dataValue(object: KubernetesManifest, key: string): string | undefined {
  const value = asStringRecord(object.data)[key];
  if (value === undefined) return undefined;
  return object.kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value;
}

/**
 * The container's environment as the kubelet builds it: `envFrom` Secrets and ConfigMaps, then `env`
 * (literal values, `secretKeyRef`, `configMapKeyRef`). A reference to a missing object or key that is
 * not `optional` is the CreateContainerConfigError the kubelet reports, with its message.
 */
function containerEnvironment(
  namespace: string,
  container: Record<string, unknown>,
  world: JobWorld,
): { env: Record<string, string> } | { problem: string } {
  const env: Record<string, string> = {};
  const source = (kind: 'Secret' | 'ConfigMap', name: string) =>
    world.object({ apiVersion: 'v1', kind, namespace, name });
  const missing = (kind: 'Secret' | 'ConfigMap', name: string) => `${kind.toLowerCase()} "${name}" not found`;
  for (const entry of Array.isArray(container.envFrom) ? container.envFrom : []) {
    const { secretRef, configMapRef, prefix } = asRecord(entry);
    const kind = secretRef ? 'Secret' : 'ConfigMap';
    const ref = asRecord(secretRef ?? configMapRef);
    const object = source(kind, String(ref.name));
    if (!object) {
      if (ref.optional === true) continue;
      return { problem: missing(kind, String(ref.name)) };
    }
    for (const key of Object.keys(asStringRecord(object.data))) {
      env[`${typeof prefix === 'string' ? prefix : ''}${key}`] = dataValue(object, key) ?? '';
    }
  }
  for (const entry of Array.isArray(container.env) ? container.env : []) {
    const { name, value, valueFrom } = asRecord(entry);
    if (typeof value === 'string') env[String(name)] = value;
    const { secretKeyRef, configMapKeyRef } = asRecord(valueFrom);
    if (!secretKeyRef && !configMapKeyRef) continue;
    const kind = secretKeyRef ? 'Secret' : 'ConfigMap';
    const ref = asRecord(secretKeyRef ?? configMapKeyRef);
    const object = source(kind, String(ref.name));
    const resolved = object && dataValue(object, String(ref.key));
    if (resolved !== undefined) env[String(name)] = resolved;
    else if (ref.optional !== true) {
      return {
        problem: object
          ? `couldn't find key ${String(ref.key)} in ${kind} ${namespace}/${String(ref.name)}`
          : missing(kind, String(ref.name)),
      };
    }
  }
  return { env };
}

/** Why the Job controller cannot create the pod: the ServiceAccount admission plugin's refusal. */
function podCreationFailure(
  job: string,
  namespace: string,
  serviceAccount: string,
  world: JobWorld,
): string | null {
  // Every namespace has `default`: the service account controller makes it.
  if (serviceAccount === 'default') return null;
  return world.object({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: serviceAccount })
    ? null
    : `Error creating: pods "${job}-" is forbidden: error looking up service account ${namespace}/${serviceAccount}: serviceaccount "${serviceAccount}" not found`;
}

/** One attempt's pod, its container created at `runningAt`: whether it starts, what it runs, logs and exits with. */
function planRun(
  runningAt: number,
  pod: { namespace: string; container: Record<string, unknown>; awsRole: string | undefined },
  world: JobWorld,
): PodRun {
  const never = { endedAt: Number.POSITIVE_INFINITY, failed: false, pendingReason: null } as const;
  const idle = { exitCode: null, startError: null, log: [], terminationMessage: null } as const;
  const image = typeof pod.container.image === 'string' ? pod.container.image : '';
  const pullProblem = imagePullProblem(image);
  if (pullProblem)
    return { ...never, ...idle, waiting: { reason: 'ImagePullBackOff', message: pullProblem } };
  const environment = containerEnvironment(pod.namespace, pod.container, world);
  if ('problem' in environment) {
    return {
      ...never,
      ...idle,
      waiting: { reason: 'CreateContainerConfigError', message: environment.problem },
    };
  }
  const run = runContainer(
    {
      namespace: pod.namespace,
      image,
      command: stringList(pod.container.command),
      args: stringList(pod.container.args),
      env: environment.env,
      awsRole: pod.awsRole,
      at: runningAt,
    },
    world,
  );
  const log = run.log.map((line) => ({ at: runningAt + line.offsetMs, text: line.text }));
  const failed = run.exitCode !== 0;
  return {
    endedAt: runningAt + run.runMs,
    failed,
    pendingReason: null,
    waiting: null,
    exitCode: run.exitCode,
    startError: run.startError ?? null,
    log,
    terminationMessage: run.startError ?? (failed ? fallbackMessage(pod.container, log) : null),
  };
}

/**
 * A Job runs one pod at a time. A failing pod is replaced after a back-off (10 s doubling to 6
 * minutes) until `backoffLimit` (default 6) is spent; `activeDeadlineSeconds` fails the Job and
 * stops what still runs.
 */
export function planJob(
  namespace: string,
  manifest: KubernetesManifest,
  createdAt: number,
  uid: string,
  world: JobWorld,
): JobRecord {
  const spec = asRecord(manifest.spec);
  const podSpec = asRecord(asRecord(spec.template).spec);
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
  const container = asRecord(containers[0]);
  const serviceAccount =
    typeof podSpec.serviceAccountName === 'string' ? podSpec.serviceAccountName : 'default';
  const creationFailure = podCreationFailure(manifest.metadata.name, namespace, serviceAccount, world);
  const awsRole = asStringRecord(
    asRecord(
      world.object({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: serviceAccount })?.metadata,
    ).annotations,
  )[IRSA_ROLE_ANNOTATION];
  const pendingReason =
    claimNames(podSpec)
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
  if (pendingReason !== null && creationFailure === null) {
    attempts.push({
      startedAt,
      endedAt: Number.POSITIVE_INFINITY,
      failed: false,
      pendingReason,
      waiting: null,
      exitCode: null,
      startError: null,
      log: [],
      terminationMessage: null,
    });
  } else if (creationFailure === null) {
    for (let attempt = 0; attempt <= backoffLimit && startedAt < deadline; attempt += 1) {
      const run = planRun(startedAt + JOB_POD_STARTUP_MS, { namespace, container, awsRole }, world);
      attempts.push({ startedAt, ...run });
      if (!run.failed) {
        if (run.endedAt !== Number.POSITIVE_INFINITY) {
          outcome = {
            state: 'complete',
            at: run.endedAt,
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
          };
        }
        break;
      }
      startedAt = run.endedAt + backoff;
      backoff = Math.min(backoff * 2, JOB_MAX_BACKOFF_MS);
    }
    if (outcome === null && attempts.at(-1)?.failed) {
      outcome = {
        state: 'failed',
        at: attempts.at(-1)?.endedAt ?? startedAt,
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      };
    }
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
    creationFailure,
    // The Job controller kills what still runs when the Job fails.
    attempts: attempts
      .filter((attempt) => attempt.startedAt < cut)
      .map((attempt) =>
        attempt.endedAt > cut
          ? {
              ...attempt,
              endedAt: cut,
              failed: true,
              exitCode: attempt.pendingReason === null && attempt.waiting === null ? 137 : null,
              log: attempt.log.filter((line) => line.at <= cut),
            }
          : attempt,
      ),
    outcome,
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
