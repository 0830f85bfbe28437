/**
 * The port of everything AOR does inside the platform's Kubernetes cluster (EKS in AWS, a
 * simulated cluster in drills): plain data in and out, so the domain never sees the client.
 */
export type WorkloadKind = 'Deployment' | 'StatefulSet';

export interface WorkloadRef {
  namespace: string;
  kind: WorkloadKind;
  name: string;
}

export interface WorkloadStatus extends WorkloadRef {
  generation: number;
  observedGeneration: number;
  /** `spec.replicas`; null only for objects the API server has not defaulted. */
  desiredReplicas: number | null;
  /** `status.replicas`: pods of every revision. */
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  /** StatefulSet revisions; null for Deployments. */
  currentRevision: string | null;
  updateRevision: string | null;
  /** What `kubectl rollout status` would report as done. */
  rolledOut: boolean;
  /** What `kubectl rollout status` would fail on: waiting longer cannot help. */
  failed: boolean;
  /** `kubectl rollout status`'s own sentence for this state. */
  message: string;
}

export interface RestartResult {
  /** `metadata.generation` after the restart patch; rollout is observed once `observedGeneration` reaches it. */
  generation: number;
  restartedAt: string;
}

export interface ScaleResult {
  previousReplicas: number;
  replicas: number;
}

export interface PeerEndpoints {
  service: string;
  ready: number;
  notReady: number;
  readyPods: string[];
  notReadyPods: string[];
}

export interface PodSummary {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  nodeName: string | null;
  podIP: string | null;
  labels: Record<string, string>;
}

export interface IsolationResult {
  networkPolicyName: string;
  /** False when the policy already existed (an earlier attempt for the same incident). */
  networkPolicyCreated: boolean;
  isolatedPods: string[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ContainerLog {
  container: string;
  log: string | null;
  /** Why the log could not be read, e.g. the container never started. */
  error: string | null;
}

export interface PodEvidence {
  name: string;
  found: boolean;
  pod: JsonValue;
  logs: ContainerLog[];
  events: JsonValue[];
}

export interface ForensicsBundle {
  namespace: string;
  capturedAt: string;
  tailLines: number;
  pods: PodEvidence[];
}

/** A manifest as parsed from YAML/JSON. */
export interface KubernetesManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
}

/** An object a clean-up left in place, and why: it is not the run's to remove. */
export interface KeptObject {
  ref: ObjectRef;
  reason: string;
}

export interface DeleteResult {
  deleted: ObjectRef[];
  alreadyGone: ObjectRef[];
  kept: KeptObject[];
}

export interface PersistentVolumeClaimRequest {
  namespace: string;
  name: string;
  storageClassName: string;
  /** A Kubernetes quantity, e.g. `500Gi`. */
  storage: string;
  accessModes?: string[];
}

export interface JobStatus {
  namespace: string;
  name: string;
  state: 'running' | 'complete' | 'failed';
  active: number;
  succeeded: number;
  failed: number;
  /** Reason and message of the terminal condition, if any. */
  message: string | null;
}

export interface PollingDeadline {
  /** Give up (with a named error) once this much time has passed since the first poll. */
  deadlineMs: number;
  pollMs: number;
}

export interface ClusterOperations {
  clusterReachable(): Promise<boolean>;
  storageClassExists(name: string): Promise<boolean>;
  listPods(input: { namespace: string; labelSelector?: string }): Promise<PodSummary[]>;
  restartWorkload(workload: WorkloadRef): Promise<RestartResult>;
  workloadStatus(workload: WorkloadRef): Promise<WorkloadStatus>;
  waitForRollout(input: WorkloadRef & PollingDeadline): Promise<WorkloadStatus>;
  scaleWorkload(input: WorkloadRef & { replicas: number }): Promise<ScaleResult>;
  currentReplicas(workload: WorkloadRef): Promise<number>;
  readyPeerEndpoints(input: { namespace: string; service: string }): Promise<PeerEndpoints>;
  isolatePods(input: { namespace: string; podNames: string[]; incidentId: string }): Promise<IsolationResult>;
  captureForensics(input: {
    namespace: string;
    podNames: string[];
    tailLines: number;
  }): Promise<ForensicsBundle>;
  applyManifests(input: {
    namespace: string;
    manifests: KubernetesManifest[];
    fieldManager?: string;
  }): Promise<ObjectRef[]>;
  /**
   * Deletes, in reverse order, each object whose recovery-run label is `runId` when read at the
   * moment of deleting (the delete is conditional on the object read being the one deleted);
   * anything else is kept and reported with why.
   */
  deleteObjects(refs: ObjectRef[], owner: { runId: string }): Promise<DeleteResult>;
  /**
   * The recovery-run label each object carries now, in the order of `refs`: `absent` when there
   * is no such object, `null` when it exists unlabelled. What a run checks before it applies, so
   * that it never takes over (and later removes) an object it did not create.
   */
  runLabels(refs: readonly ObjectRef[]): Promise<(string | null | 'absent')[]>;
  createPersistentVolumeClaim(
    input: PersistentVolumeClaimRequest,
  ): Promise<{ name: string; created: boolean }>;
  jobStatus(input: { namespace: string; name: string }): Promise<JobStatus>;
  runJobToCompletion(
    input: { namespace: string; job: KubernetesManifest } & PollingDeadline,
  ): Promise<JobStatus>;
}
