import type { WorkloadKind } from '../../lambdas/core/operations/cluster';
import {
  CONTAINER_CREATING_MS,
  CRASH_LOOP_INITIAL_BACKOFF_MS,
  CRASH_LOOP_MAX_BACKOFF_MS,
  CRASHED_CONTAINER_RUN_MS,
} from './durations';

/**
 * The simulated cluster's records. A pod is a lifetime, not a state: it is created, becomes ready,
 * may crash, is deleted and is gone at set times, so any question about it is answered as of a
 * time. That is what lets forked workflow clocks, each at its own time, share one world: a branch
 * at 10:00:05 sees the rollout another branch started at 10:00:01 four seconds along.
 */

export type PodManagementPolicy = 'OrderedReady' | 'Parallel';

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
}

/** How a workload's pods behave: their timings, resource use and logs. */
export interface WorkloadProfile {
  /** From a pod's creation to its readiness probe passing. */
  readonly startupMs: number;
  /** From a pod's deletion to its being gone. */
  readonly terminationMs: number;
  /** CPU each pod uses at normal load with the workload's original replica count, percent of its node. */
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  readonly logIntervalMs: number;
  /** The log line numbered `sequence` (time since the epoch / interval) of a healthy pod. */
  readonly logLine: (sequence: number) => string;
}

export interface PodCrash {
  /** When the container first exits; from then on it crash-loops and is never ready. */
  readonly at: number;
  /** The last lines it writes each time. */
  readonly lines: readonly string[];
}

export interface Rollout {
  readonly reason: 'create' | 'restart' | 'scale' | 'apply' | 'recreate';
  readonly startedAt: number;
  /** When every pod of the spec is ready; null while it cannot be known or never will be. */
  completedAt: number | null;
}

export interface WorkloadRecord {
  readonly namespace: string;
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly podManagementPolicy: PodManagementPolicy;
  readonly profile: WorkloadProfile;
  replicas: number;
  generation: number;
  readonly specChanges: { generation: number; at: number }[];
  /** The pod template; its hash names the revision. */
  template: Record<string, unknown>;
  podLabels: Record<string, string>;
  containers: readonly ContainerSpec[];
  /** The pod-template hash of the newest revision, and of the one before it. */
  revision: string;
  previousRevision: string;
  readonly rollouts: Rollout[];
  /** Ordinals whose every pod crashes, whoever replaces it (corrupt data on the volume). */
  readonly crashingOrdinals: Map<number, readonly string[]>;
  /** CPU demand, as a multiple of normal, from each time on. */
  readonly load: { from: number; factor: number }[];
  /** The replica count `profile.cpuPercent` is the per-pod share of. */
  readonly normalReplicas: number;
  podSerial: number;
  deletedAt: number | null;
}

export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly workload: WorkloadRecord;
  readonly ordinal: number | null;
  readonly revision: string;
  readonly labels: Record<string, string>;
  readonly containers: readonly ContainerSpec[];
  readonly nodeName: string | null;
  readonly podIP: string | null;
  readonly createdAt: number;
  /** When its readiness probe first passes; null when it never runs (unschedulable). */
  readonly readyAt: number | null;
  crash: PodCrash | null;
  breachedAt: number | null;
  /** When AOR's quarantine NetworkPolicy started applying to it. */
  quarantinedAt: number | null;
  deletedAt: number | null;
  goneAt: number | null;
  /** Memory growth, percentage points an hour since creation: a leak. */
  memoryGrowthPerHour: number;
}

/** In the API at `t`: created and not yet gone (terminating pods still count). */
export function podExists(pod: PodRecord, t: number): boolean {
  return pod.createdAt <= t && (pod.goneAt === null || t < pod.goneAt);
}

/** Existing and not terminating: what a controller counts as one of its replicas. */
export function podActive(pod: PodRecord, t: number): boolean {
  return podExists(pod, t) && (pod.deletedAt === null || t < pod.deletedAt);
}

export function podReady(pod: PodRecord, t: number): boolean {
  return (
    podActive(pod, t) && pod.readyAt !== null && pod.readyAt <= t && (pod.crash === null || t < pod.crash.at)
  );
}

/** The earliest time from `after` on at which the pod is ready, deletion aside; null for never. */
export function readyFrom(pod: PodRecord, after: number): number | null {
  if (pod.readyAt === null) return null;
  const at = Math.max(after, pod.readyAt);
  return pod.crash !== null && pod.crash.at <= at ? null : at;
}

export function podScheduled(pod: PodRecord): boolean {
  return pod.nodeName !== null;
}

export function podPhase(pod: PodRecord, t: number): 'Pending' | 'Running' {
  return podScheduled(pod) && t >= pod.createdAt + CONTAINER_CREATING_MS ? 'Running' : 'Pending';
}

export interface CrashLoopState {
  readonly restarts: number;
  /** When the container last exited, or null if it is running its first life still. */
  readonly lastExitAt: number | null;
  /** When the current (or last) run of the container started. */
  readonly runStartedAt: number;
  /** True while a restarted container runs; false while the kubelet backs off. */
  readonly running: boolean;
}

/**
 * The kubelet's crash loop as of `t`: the container exits at `crash.at`, is restarted after a
 * back-off that doubles from 10 s to at most 5 minutes, runs a few seconds, exits again.
 */
export function crashLoop(pod: PodRecord, t: number): CrashLoopState {
  const started = pod.createdAt + CONTAINER_CREATING_MS;
  if (pod.crash === null || t < pod.crash.at) {
    return { restarts: 0, lastExitAt: null, runStartedAt: started, running: true };
  }
  let restarts = 0;
  let exitAt = pod.crash.at;
  let runStartedAt = started;
  let backoff = CRASH_LOOP_INITIAL_BACKOFF_MS;
  for (;;) {
    const restartAt = exitAt + backoff;
    if (restartAt > t) return { restarts, lastExitAt: exitAt, runStartedAt, running: false };
    restarts += 1;
    runStartedAt = restartAt;
    if (t < restartAt + CRASHED_CONTAINER_RUN_MS) {
      return { restarts, lastExitAt: exitAt, runStartedAt, running: true };
    }
    exitAt = restartAt + CRASHED_CONTAINER_RUN_MS;
    backoff = Math.min(backoff * 2, CRASH_LOOP_MAX_BACKOFF_MS);
  }
}

/** Kubernetes' `metadata.name` rule for most objects (RFC 1123 subdomain). */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name);
}

/** A label value: at most 63 characters, alphanumeric at both ends, `-_.` inside. */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value);
}

export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A field of a parsed manifest, read as an object (or nothing). */
export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function asStringRecord(value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(asRecord(value)).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}
