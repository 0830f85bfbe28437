/**
 * `ClusterOperations` over the Kubernetes API of an EKS cluster: kubectl's requests, made by AOR's
 * task role as the access entry maps it (deploy/rbac names exactly what each task may do).
 */
import { setTimeout as delay } from 'node:timers/promises';
// Type-only: client-node's models describe the API's JSON and cost nothing in a bundle.
import type {
  KubernetesObject,
  V1Deployment,
  V1EndpointSliceList,
  V1Job,
  V1PodList,
  V1Scale,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type {
  ClusterOperations,
  DeleteResult,
  ForensicsBundle,
  IsolationResult,
  JobStatus,
  KubernetesManifest,
  ObjectRef,
  PeerEndpoints,
  PersistentVolumeClaimRequest,
  PodSummary,
  PollingDeadline,
  RestartResult,
  ScaleResult,
  WorkloadRef,
  WorkloadStatus,
} from '../../core/operations/cluster';
import { apiPath, ResourceLocator, workloadPath } from './api-paths';
import { type Completion, jobCompletion, pollUntilSettled, rolloutCompletion } from './completion';
import { KubernetesApiError, KubernetesConflictError, KubernetesNotFoundError } from './errors';
import { type KubernetesConnection, KubernetesTransport } from './kubernetes-transport';
import { podEvidence } from './pod-forensics';
import { deploymentRolloutVerdict, type RolloutVerdict, statefulSetRolloutVerdict } from './rollout-status';
import { deleteRunObjects, runLabelsOf } from './run-objects';

/** The annotation `kubectl rollout restart` sets; changing the pod template is what makes the controller roll. */
const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const QUARANTINE_LABEL = 'aor.phoenixrooivalk.mil/quarantine';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Names AOR as the writer in each object's managedFields, as kubectl names itself `kubectl-rollout`. */
const FIELD_MANAGER = 'aor';
const MERGE_PATCH = 'application/merge-patch+json';
/** Server-side apply. The body goes as JSON, which is YAML too. */
const APPLY_PATCH = 'application/apply-patch+yaml';

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

function isRetryable(error: unknown): boolean {
  return error instanceof KubernetesApiError && error.retryable;
}

export class KubernetesClusterOperations implements ClusterOperations {
  private readonly api: KubernetesTransport;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly locator: ResourceLocator;

  constructor(connection: KubernetesConnection, options: KubernetesClusterOperationsOptions = {}) {
    this.api = new KubernetesTransport(connection, { requestTimeoutMs: options.requestTimeoutMs });
    this.locator = new ResourceLocator(this.api);
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
    return this.waitUntil(
      deadlineMs,
      pollMs,
      () => this.workloadStatus(workload),
      rolloutCompletion(workload, deadlineMs),
    );
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
    const pods = await Promise.all(
      sortedNames.map((name) => podEvidence(this.api, namespace, name, tailLines)),
    );
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
      const location = await this.locator.locate(
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

  /** Only what carries the run's label when read, and only the object read (see run-objects.ts). */
  deleteObjects(refs: ObjectRef[], owner: { runId: string }): Promise<DeleteResult> {
    return deleteRunObjects(this.api, this.locator, refs, owner.runId);
  }

  runLabels(refs: readonly ObjectRef[]): Promise<(string | null | 'absent')[]> {
    return runLabelsOf(this.api, this.locator, refs);
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
    return this.waitUntil(
      deadlineMs,
      pollMs,
      () => this.jobStatus({ namespace, name }),
      jobCompletion(namespace, name, deadlineMs),
    );
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

  private waitUntil<T>(
    deadlineMs: number,
    pollMs: number,
    read: () => Promise<T>,
    completion: Completion<T>,
  ): Promise<T> {
    return pollUntilSettled(
      { now: this.now, sleep: this.sleep },
      { deadlineMs, pollMs, read, ...completion },
    );
  }
}
