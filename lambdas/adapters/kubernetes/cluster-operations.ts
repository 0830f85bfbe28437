import { setTimeout as delay } from 'node:timers/promises';
// Type-only: client-node's models describe the API's JSON and cost nothing in a bundle. One difference: they
// type timestamps as Date, but the JSON holds RFC 3339 strings — read them only through `new Date(…)`.
import type {
  CoreV1Event,
  CoreV1EventList,
  KubernetesObject,
  V1APIResource,
  V1APIResourceList,
  V1Deployment,
  V1EndpointSliceList,
  V1Job,
  V1Pod,
  V1PodList,
  V1Scale,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type {
  ClusterOperations,
  ContainerLog,
  DeleteResult,
  ForensicsBundle,
  IsolationResult,
  JobStatus,
  JsonValue,
  KubernetesManifest,
  ObjectRef,
  PeerEndpoints,
  PersistentVolumeClaimRequest,
  PodEvidence,
  PodSummary,
  PollingDeadline,
  RestartResult,
  ScaleResult,
  WorkloadKind,
  WorkloadRef,
  WorkloadStatus,
} from '../../core/operations/cluster';
import {
  JobDeadlineExceededError,
  JobFailedError,
  KubernetesApiError,
  KubernetesConflictError,
  KubernetesInvalidError,
  KubernetesNotFoundError,
  RolloutDeadlineExceededError,
  RolloutFailedError,
} from './errors';
import { type KubernetesConnection, KubernetesTransport } from './kubernetes-transport';

// ---------------------------------------------------------------------------------------------------------
// kubectl's rollout logic, as pure functions of the object.
// ---------------------------------------------------------------------------------------------------------

type RolloutVerdict = Pick<WorkloadStatus, 'rolledOut' | 'failed' | 'message'>;

/**
 * `kubectl rollout status deployment/<name>`: DeploymentStatusViewer.Status in
 * kubernetes/kubernetes staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go, branch for
 * branch. It is looser than "available == spec.replicas": kubectl only asks that every updated replica be
 * available and no old replica remain.
 */
export function deploymentRolloutVerdict(deployment: V1Deployment): RolloutVerdict {
  const name = deployment.metadata?.name ?? '';
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const waiting = (message: string): RolloutVerdict => ({ rolledOut: false, failed: false, message });
  if (generation > (status.observedGeneration ?? 0)) {
    return waiting('Waiting for deployment spec update to be observed...');
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { rolledOut: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const desired = deployment.spec?.replicas;
  if (desired !== undefined && updated < desired) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...`,
    );
  }
  if (total > updated) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`,
    );
  }
  if (available < updated) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
    );
  }
  return { rolledOut: true, failed: false, message: `deployment "${name}" successfully rolled out` };
}

/**
 * `kubectl rollout status statefulset/<name>`: StatefulSetStatusViewer.Status in the same file. Note that the
 * API server defaults `rollingUpdate.partition` to 0, so on a real cluster the partition branch decides and
 * the currentRevision == updateRevision branch is reached only when `rollingUpdate` is absent.
 */
export function statefulSetRolloutVerdict(statefulSet: V1StatefulSet): RolloutVerdict {
  const generation = statefulSet.metadata?.generation ?? 0;
  const status = statefulSet.status ?? { replicas: 0 };
  const strategy = statefulSet.spec?.updateStrategy;
  const desired = statefulSet.spec?.replicas;
  const updated = status.updatedReplicas ?? 0;
  const waiting = (message: string): RolloutVerdict => ({ rolledOut: false, failed: false, message });
  // An unset type is what the API server defaults to RollingUpdate.
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return {
      rolledOut: false,
      failed: true,
      message: 'rollout status is only available for RollingUpdate strategy type',
    };
  }
  const observedGeneration = status.observedGeneration ?? 0;
  if (observedGeneration === 0 || generation > observedGeneration) {
    return waiting('Waiting for statefulset spec update to be observed...');
  }
  const ready = status.readyReplicas ?? 0;
  if (desired !== undefined && ready < desired) {
    return waiting(`Waiting for ${desired - ready} pods to be ready...`);
  }
  if (strategy?.rollingUpdate !== undefined) {
    const partition = strategy.rollingUpdate.partition;
    if (desired !== undefined && partition !== undefined && updated < desired - partition) {
      return waiting(
        `Waiting for partitioned roll out to finish: ${updated} out of ${desired - partition} new pods have been updated...`,
      );
    }
    return {
      rolledOut: true,
      failed: false,
      message: `partitioned roll out complete: ${updated} new pods have been updated...`,
    };
  }
  if (status.updateRevision !== status.currentRevision) {
    return waiting(
      `waiting for statefulset rolling update to complete ${updated} pods at revision ${status.updateRevision}...`,
    );
  }
  return {
    rolledOut: true,
    failed: false,
    message: `statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision}...`,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The adapter.
// ---------------------------------------------------------------------------------------------------------

/** The annotation `kubectl rollout restart` sets; changing the pod template is what makes the controller roll. */
const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/**
 * When a rollout is done, as `kubectl rollout status` waits for it: rolled out, or failed
 * (RolloutFailedError), or unfinished at the deadline (RolloutDeadlineExceededError).
 */
export function rolloutCompletion(workload: WorkloadRef, deadlineMs: number) {
  const label = `${workload.kind} ${workload.namespace}/${workload.name}`;
  return {
    settled: (status: WorkloadStatus): boolean => {
      if (status.failed)
        throw new RolloutFailedError(`Rollout of ${label} failed: ${status.message}`, status);
      return status.rolledOut;
    },
    deadlineExceeded: (status: WorkloadStatus): Error =>
      new RolloutDeadlineExceededError(
        `Rollout of ${label} not finished after ${deadlineMs} ms: ${status.message}`,
        status,
      ),
  };
}

/**
 * When a Job polled to completion is done: complete, or failed (JobFailedError), or still running
 * at the deadline (JobDeadlineExceededError). The real and the simulated cluster both wait so.
 */
export function jobCompletion(namespace: string, name: string, deadlineMs: number) {
  return {
    settled: (status: JobStatus): boolean => {
      if (status.state === 'failed') {
        throw new JobFailedError(
          `Job ${namespace}/${name} failed: ${status.message ?? 'no reason given'}`,
          status,
        );
      }
      return status.state === 'complete';
    },
    deadlineExceeded: (status: JobStatus): Error =>
      new JobDeadlineExceededError(
        `Job ${namespace}/${name} not finished after ${deadlineMs} ms (${status.active} active, ${status.failed} failed pods)`,
        status,
      ),
  };
}

export const QUARANTINE_LABEL = 'aor.phoenixrooivalk.mil/quarantine';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Names AOR as the writer in each object's managedFields, as kubectl names itself `kubectl-rollout`. */
const FIELD_MANAGER = 'aor';
const MERGE_PATCH = 'application/merge-patch+json';
/** Server-side apply. The body goes as JSON, which is YAML too. */
const APPLY_PATCH = 'application/apply-patch+yaml';
const WORKLOAD_RESOURCES: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
};

export interface KubernetesClusterOperationsOptions {
  /** Epoch milliseconds; injectable so rollout/job deadlines are testable. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Per-request limit (default 30 s): a hung connection would otherwise eat the Lambda's time. */
  requestTimeoutMs?: number;
}

/** RFC 3339 with whole seconds, the format kubectl writes into the restartedAt annotation. */
function rfc3339Seconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An object read from the API, kept for evidence exactly as the API server sent it. */
function asJson(object: V1Pod | CoreV1Event): JsonValue {
  return object as unknown as JsonValue;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isRetryable(error: unknown): boolean {
  return error instanceof KubernetesApiError && error.retryable;
}

function eventTime(event: CoreV1Event): string {
  const time =
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp;
  return time === undefined ? '' : new Date(time).toISOString();
}

/** `/api/v1/namespaces/<ns>/pods/<name>/log` and the like, every segment after the apiVersion URL-encoded. */
function apiPath(apiVersion: string, namespace: string | undefined, ...segments: string[]): string {
  const root = apiVersion.includes('/') ? 'apis' : 'api';
  const scope = namespace === undefined ? [] : ['namespaces', namespace];
  return ['', root, apiVersion, ...[...scope, ...segments].map(encodeURIComponent)].join('/');
}

function workloadPath({ namespace, kind, name }: WorkloadRef, ...subresource: string[]): string {
  return apiPath('apps/v1', namespace, WORKLOAD_RESOURCES[kind], name, ...subresource);
}

export class KubernetesClusterOperations implements ClusterOperations {
  private readonly api: KubernetesTransport;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Discovery's resource lists by apiVersion, which kubectl caches too. */
  private readonly discovered = new Map<string, V1APIResource[]>();

  constructor(connection: KubernetesConnection, options: KubernetesClusterOperationsOptions = {}) {
    this.api = new KubernetesTransport(connection, { requestTimeoutMs: options.requestTimeoutMs });
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
  }

  /** Reachable means the API server answered; a credential problem is not "unreachable" and still throws. */
  async clusterReachable(): Promise<boolean> {
    try {
      await this.api.request('GET', '/version', { operation: 'read the API server version' });
      return true;
    } catch (error) {
      if (isRetryable(error)) return false;
      throw error;
    }
  }

  async storageClassExists(name: string): Promise<boolean> {
    try {
      await this.api.request('GET', apiPath('storage.k8s.io/v1', undefined, 'storageclasses', name), {
        operation: `read StorageClass ${name}`,
      });
      return true;
    } catch (error) {
      if (error instanceof KubernetesNotFoundError) return false;
      throw error;
    }
  }

  async listPods({
    namespace,
    labelSelector,
  }: {
    namespace: string;
    labelSelector?: string;
  }): Promise<PodSummary[]> {
    const list = await this.api.request<V1PodList>('GET', apiPath('v1', namespace, 'pods'), {
      operation: `list pods in ${namespace}`,
      query: { labelSelector },
    });
    return list.items
      .map((pod) => {
        const statuses = pod.status?.containerStatuses ?? [];
        return {
          name: pod.metadata?.name ?? '',
          phase: pod.status?.phase ?? 'Unknown',
          ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          restarts: statuses.reduce((sum, status) => sum + status.restartCount, 0),
          nodeName: pod.spec?.nodeName ?? null,
          podIP: pod.status?.podIP ?? null,
          labels: pod.metadata?.labels ?? {},
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The patch `kubectl rollout restart` sends (kubectl/pkg/cmd/rollout/rollout_restart.go). kubectl sends it as
   * a strategic merge patch; on a map of strings such as annotations, a merge patch means exactly the same.
   */
  async restartWorkload(workload: WorkloadRef): Promise<RestartResult> {
    const { namespace, kind, name } = workload;
    const restartedAt = rfc3339Seconds(this.now());
    const body = {
      spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } },
    };
    const updated = await this.mergePatch<V1Deployment | V1StatefulSet>(
      `restart ${kind} ${namespace}/${name}`,
      workloadPath(workload),
      body,
    );
    return { generation: updated.metadata?.generation ?? 0, restartedAt };
  }

  async workloadStatus(workload: WorkloadRef): Promise<WorkloadStatus> {
    const { object, revisions, verdict } = await this.readWorkload(workload);
    const status = object.status;
    return {
      ...workload,
      generation: object.metadata?.generation ?? 0,
      observedGeneration: status?.observedGeneration ?? 0,
      desiredReplicas: object.spec?.replicas ?? null,
      replicas: status?.replicas ?? 0,
      readyReplicas: status?.readyReplicas ?? 0,
      updatedReplicas: status?.updatedReplicas ?? 0,
      availableReplicas: status?.availableReplicas ?? 0,
      ...revisions,
      ...verdict,
    };
  }

  async waitForRollout({
    deadlineMs,
    pollMs,
    ...workload
  }: WorkloadRef & PollingDeadline): Promise<WorkloadStatus> {
    return this.pollUntilSettled({
      deadlineMs,
      pollMs,
      read: () => this.workloadStatus(workload),
      ...rolloutCompletion(workload, deadlineMs),
    });
  }

  async scaleWorkload({ replicas, ...workload }: WorkloadRef & { replicas: number }): Promise<ScaleResult> {
    const { namespace, kind, name } = workload;
    const previousReplicas = await this.currentReplicas(workload);
    const scale = await this.mergePatch<V1Scale>(
      `scale ${kind} ${namespace}/${name} to ${replicas}`,
      workloadPath(workload, 'scale'),
      { spec: { replicas } },
    );
    return { previousReplicas, replicas: scale.spec?.replicas ?? replicas };
  }

  /** The desired replica count, read from the scale subresource. */
  async currentReplicas(workload: WorkloadRef): Promise<number> {
    const { namespace, kind, name } = workload;
    const scale = await this.api.request<V1Scale>('GET', workloadPath(workload, 'scale'), {
      operation: `read scale of ${kind} ${namespace}/${name}`,
    });
    return scale.spec?.replicas ?? 0;
  }

  async readyPeerEndpoints({
    namespace,
    service,
  }: {
    namespace: string;
    service: string;
  }): Promise<PeerEndpoints> {
    const slices = await this.api.request<V1EndpointSliceList>(
      'GET',
      apiPath('discovery.k8s.io/v1', namespace, 'endpointslices'),
      {
        operation: `list EndpointSlices of Service ${namespace}/${service}`,
        query: { labelSelector: `${SERVICE_NAME_LABEL}=${service}` },
      },
    );
    // A dual-stack Service has one slice per address family, each listing the same pods: count pods, not entries.
    const readiness = new Map<string, boolean>();
    for (const slice of slices.items) {
      // A slice without endpoints comes as `endpoints: null`, whatever the generated type says.
      for (const endpoint of slice.endpoints ?? []) {
        const id = endpoint.targetRef?.name ?? endpoint.addresses[0] ?? '';
        // The API documents a nil `ready` as "unknown, consumers should interpret it as ready".
        const ready = endpoint.conditions?.ready ?? true;
        readiness.set(id, (readiness.get(id) ?? true) && ready);
      }
    }
    const names = [...readiness.keys()].sort();
    const readyPods = names.filter((pod) => readiness.get(pod));
    const notReadyPods = names.filter((pod) => !readiness.get(pod));
    return { service, ready: readyPods.length, notReady: notReadyPods.length, readyPods, notReadyPods };
  }

  /**
   * Creates the deny-all policy before labelling, so each pod is cut off the moment it carries the label.
   * NetworkPolicies only ever add allowed traffic: pods that another policy still selects keep what that
   * policy allows, and nothing is enforced without a policy engine (VPC CNI network policy agent on EKS).
   */
  async isolatePods({
    namespace,
    podNames,
    incidentId,
  }: {
    namespace: string;
    podNames: string[];
    incidentId: string;
  }): Promise<IsolationResult> {
    const networkPolicyName = `aor-quarantine-${incidentId.toLowerCase()}`;
    const body = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: networkPolicyName, namespace, labels: { [QUARANTINE_LABEL]: incidentId } },
      spec: {
        podSelector: { matchLabels: { [QUARANTINE_LABEL]: incidentId } },
        policyTypes: ['Ingress', 'Egress'],
      },
    };
    const networkPolicyCreated = await this.createUnlessExists(
      `create NetworkPolicy ${namespace}/${networkPolicyName}`,
      apiPath('networking.k8s.io/v1', namespace, 'networkpolicies'),
      body,
    );
    const labels = { metadata: { labels: { [QUARANTINE_LABEL]: incidentId } } };
    for (const name of podNames) {
      await this.mergePatch(
        `label Pod ${namespace}/${name} for quarantine`,
        apiPath('v1', namespace, 'pods', name),
        labels,
      );
    }
    return { networkPolicyName, networkPolicyCreated, isolatedPods: [...podNames] };
  }

  async captureForensics({
    namespace,
    podNames,
    tailLines,
  }: {
    namespace: string;
    podNames: string[];
    tailLines: number;
  }): Promise<ForensicsBundle> {
    const capturedAt = new Date(this.now()).toISOString();
    const sortedNames = [...new Set(podNames)].sort();
    const pods = await Promise.all(sortedNames.map((name) => this.podEvidence(namespace, name, tailLines)));
    return { namespace, capturedAt, tailLines, pods };
  }

  /** What `kubectl apply --server-side --force-conflicts -n <namespace>` does, manifest by manifest. */
  async applyManifests({
    namespace,
    manifests,
    fieldManager = FIELD_MANAGER,
  }: {
    namespace: string;
    manifests: KubernetesManifest[];
    fieldManager?: string;
  }): Promise<ObjectRef[]> {
    const applied: ObjectRef[] = [];
    // In order: a Namespace or ConfigMap must exist before the Deployment that needs it.
    for (const manifest of manifests) {
      const { apiVersion, kind, metadata } = manifest;
      const operation = `apply ${kind} ${metadata.namespace ?? namespace}/${metadata.name}`;
      const location = await this.locate(
        operation,
        { apiVersion, kind, name: metadata.name, namespace: metadata.namespace },
        namespace,
      );
      const body = structuredClone(manifest);
      if (location.namespace !== undefined) body.metadata.namespace = location.namespace;
      const result = await this.api.request<KubernetesObject>('PATCH', location.path, {
        operation,
        query: { fieldManager, force: true },
        body,
        contentType: APPLY_PATCH,
      });
      applied.push({
        apiVersion: result.apiVersion ?? apiVersion,
        kind: result.kind ?? kind,
        name: result.metadata?.name ?? metadata.name,
        ...(result.metadata?.namespace ? { namespace: result.metadata.namespace } : {}),
      });
    }
    return applied;
  }

  /** Deletes in reverse order of `refs`, so what applyManifests created last (the dependants) goes first. */
  async deleteObjects(refs: ObjectRef[]): Promise<DeleteResult> {
    const result: DeleteResult = { deleted: [], alreadyGone: [] };
    for (const ref of [...refs].reverse()) {
      const operation = `delete ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`;
      try {
        const { path } = await this.locate(operation, ref);
        await this.api.request('DELETE', path, { operation });
        result.deleted.push(ref);
      } catch (error) {
        if (!(error instanceof KubernetesNotFoundError)) throw error;
        result.alreadyGone.push(ref);
      }
    }
    return result;
  }

  async createPersistentVolumeClaim({
    namespace,
    name,
    storageClassName,
    storage,
    accessModes = ['ReadWriteOnce'],
  }: PersistentVolumeClaimRequest): Promise<{ name: string; created: boolean }> {
    const body = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace },
      spec: { accessModes, storageClassName, resources: { requests: { storage } } },
    };
    const created = await this.createUnlessExists(
      `create PersistentVolumeClaim ${namespace}/${name}`,
      apiPath('v1', namespace, 'persistentvolumeclaims'),
      body,
    );
    return { name, created };
  }

  async jobStatus({ namespace, name }: { namespace: string; name: string }): Promise<JobStatus> {
    const job = await this.api.request<V1Job>('GET', apiPath('batch/v1', namespace, 'jobs', name, 'status'), {
      operation: `read Job ${namespace}/${name}`,
    });
    const status = job.status ?? {};
    // Complete and Failed are the terminal conditions (SuccessCriteriaMet/FailureTarget only announce them).
    const terminal = status.conditions?.find(
      (condition) =>
        (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
    );
    const state =
      terminal?.type === 'Complete' ? 'complete' : terminal?.type === 'Failed' ? 'failed' : 'running';
    return {
      namespace,
      name,
      state,
      active: status.active ?? 0,
      succeeded: status.succeeded ?? 0,
      failed: status.failed ?? 0,
      message: terminal ? [terminal.reason, terminal.message].filter(Boolean).join(': ') || null : null,
    };
  }

  /**
   * An existing Job of the same name is adopted rather than an error: a Step Functions retry of this task
   * must wait for the Job the first attempt created, not fail on it or start a second copy.
   */
  async runJobToCompletion({
    namespace,
    job,
    deadlineMs,
    pollMs,
  }: {
    namespace: string;
    job: KubernetesManifest;
  } & PollingDeadline): Promise<JobStatus> {
    const name = job.metadata.name;
    const body = { ...job, metadata: { ...job.metadata, namespace } };
    await this.createUnlessExists(
      `create Job ${namespace}/${name}`,
      apiPath('batch/v1', namespace, 'jobs'),
      body,
    );
    return this.pollUntilSettled({
      deadlineMs,
      pollMs,
      read: () => this.jobStatus({ namespace, name }),
      ...jobCompletion(namespace, name, deadlineMs),
    });
  }

  private async readWorkload(workload: WorkloadRef): Promise<{
    object: V1Deployment | V1StatefulSet;
    revisions: Pick<WorkloadStatus, 'currentRevision' | 'updateRevision'>;
    verdict: RolloutVerdict;
  }> {
    const { namespace, kind, name } = workload;
    const request = { operation: `read ${kind} ${namespace}/${name}` };
    if (kind === 'Deployment') {
      const deployment = await this.api.request<V1Deployment>('GET', workloadPath(workload), request);
      return {
        object: deployment,
        revisions: { currentRevision: null, updateRevision: null },
        verdict: deploymentRolloutVerdict(deployment),
      };
    }
    const statefulSet = await this.api.request<V1StatefulSet>('GET', workloadPath(workload), request);
    return {
      object: statefulSet,
      revisions: {
        currentRevision: statefulSet.status?.currentRevision ?? null,
        updateRevision: statefulSet.status?.updateRevision ?? null,
      },
      verdict: statefulSetRolloutVerdict(statefulSet),
    };
  }

  private mergePatch<T>(operation: string, path: string, body: object): Promise<T> {
    return this.api.request<T>('PATCH', path, {
      operation,
      query: { fieldManager: FIELD_MANAGER },
      body,
      contentType: MERGE_PATCH,
    });
  }

  /** True if created, false if it already existed (409): lets retried steps be idempotent. */
  private async createUnlessExists(
    operation: string,
    collectionPath: string,
    body: object,
  ): Promise<boolean> {
    try {
      await this.api.request('POST', collectionPath, { operation, body });
      return true;
    } catch (error) {
      if (error instanceof KubernetesConflictError && error.reason === 'AlreadyExists') return false;
      throw error;
    }
  }

  /**
   * An object's URL, found as kubectl finds it: discovery says the kind's resource name and whether it is
   * namespaced. A namespaced object that names no namespace goes into `defaultNamespace`.
   */
  private async locate(
    operation: string,
    ref: ObjectRef,
    defaultNamespace?: string,
  ): Promise<{ path: string; namespace: string | undefined }> {
    const resource = await this.discoverResource(operation, ref.apiVersion, ref.kind);
    if (!resource.namespaced) {
      return { path: apiPath(ref.apiVersion, undefined, resource.name, ref.name), namespace: undefined };
    }
    const namespace = ref.namespace ?? defaultNamespace;
    if (namespace === undefined) {
      throw new KubernetesInvalidError(`${operation}: ${ref.kind} is namespaced, but no namespace was given`);
    }
    return { path: apiPath(ref.apiVersion, namespace, resource.name, ref.name), namespace };
  }

  /** Asks discovery again when a cached list lacks the kind: a CRD applied since may have added it. */
  private async discoverResource(
    operation: string,
    apiVersion: string,
    kind: string,
  ): Promise<V1APIResource> {
    // Subresources (`deployments/scale`, `pods/status`) carry kinds too, some of them their parent's.
    const find = (resources: V1APIResource[] | undefined) =>
      resources?.find((resource) => resource.kind === kind && !resource.name.includes('/'));
    const cached = find(this.discovered.get(apiVersion));
    if (cached) return cached;
    const list = await this.api.request<V1APIResourceList>('GET', apiPath(apiVersion, undefined), {
      operation: `${operation} (discovery of ${apiVersion})`,
    });
    this.discovered.set(apiVersion, list.resources);
    const resource = find(list.resources);
    if (!resource) {
      throw new KubernetesNotFoundError(`${operation}: the cluster serves no ${kind} in ${apiVersion}`);
    }
    return resource;
  }

  /**
   * Polls until `settled` says so, sleeping `pollMs` in between and never past the deadline. A retryable API
   * failure (5xx, 429, timeout) is one missed poll, not the end of the wait: the rollout goes on regardless.
   */
  private async pollUntilSettled<T>(poll: {
    deadlineMs: number;
    pollMs: number;
    read: () => Promise<T>;
    settled: (status: T) => boolean;
    deadlineExceeded: (lastStatus: T) => Error;
  }): Promise<T> {
    const startedAt = this.now();
    let lastStatus: T | undefined;
    let lastError: unknown;
    for (;;) {
      try {
        lastStatus = await poll.read();
        if (poll.settled(lastStatus)) return lastStatus;
      } catch (error) {
        if (!isRetryable(error)) throw error;
        lastError = error;
      }
      if (this.now() - startedAt + poll.pollMs > poll.deadlineMs) {
        throw lastStatus === undefined ? lastError : poll.deadlineExceeded(lastStatus);
      }
      await this.sleep(poll.pollMs);
    }
  }

  private async podEvidence(namespace: string, name: string, tailLines: number): Promise<PodEvidence> {
    let pod: V1Pod;
    try {
      pod = await this.api.request<V1Pod>('GET', apiPath('v1', namespace, 'pods', name), {
        operation: `read Pod ${namespace}/${name}`,
      });
    } catch (error) {
      if (error instanceof KubernetesNotFoundError)
        return { name, found: false, pod: null, logs: [], events: [] };
      throw error;
    }
    const containers = [
      ...(pod.spec?.initContainers ?? []),
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.ephemeralContainers ?? []),
    ].map((container) => container.name);
    const [logs, events] = await Promise.all([
      Promise.all(containers.map((container) => this.containerLog(namespace, name, container, tailLines))),
      this.api.request<CoreV1EventList>('GET', apiPath('v1', namespace, 'events'), {
        operation: `list events of Pod ${namespace}/${name}`,
        query: { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` },
      }),
    ]);
    const sortedEvents = [...events.items].sort(
      (a, b) =>
        eventTime(a).localeCompare(eventTime(b)) ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
    return { name, found: true, pod: asJson(pod), logs, events: sortedEvents.map(asJson) };
  }

  /** A container that never started (400) or vanished (404) is recorded as such; evidence of the rest still counts. */
  private async containerLog(
    namespace: string,
    pod: string,
    container: string,
    tailLines: number,
  ): Promise<ContainerLog> {
    try {
      const log = await this.api.requestText('GET', apiPath('v1', namespace, 'pods', pod, 'log'), {
        operation: `read log of ${namespace}/${pod}/${container}`,
        query: { container, tailLines },
      });
      return { container, log, error: null };
    } catch (error) {
      if (error instanceof KubernetesApiError && (error.statusCode === 400 || error.statusCode === 404)) {
        return { container, log: null, error: describeError(error) };
      }
      throw error;
    }
  }
}
