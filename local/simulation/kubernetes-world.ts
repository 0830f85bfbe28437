import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { QUARANTINE_LABEL } from '../../lambdas/adapters/kubernetes/cluster-operations';
import {
  deploymentRolloutVerdict,
  statefulSetRolloutVerdict,
} from '../../lambdas/adapters/kubernetes/rollout-status';
import type {
  KubernetesManifest,
  ObjectRef,
  PeerEndpoints,
  PersistentVolumeClaimRequest,
  WorkloadKind,
  WorkloadRef,
  WorkloadStatus,
} from '../../lambdas/core/operations/cluster';
import { between, kubernetesSuffix, unitInterval, uuid } from './deterministic';
import {
  CONTAINER_CREATING_MS,
  CONTROLLER_REACTION_MS,
  CRASHED_CONTAINER_RUN_MS,
  DEFAULT_POD_STARTUP_MS,
  DEFAULT_POD_TERMINATION_MS,
  DEPLOYMENT_PROGRESS_DEADLINE_MS,
  POD_READY_JITTER_MS,
} from './durations';
import { type JobPod } from './job-pods';
import type { ContainerWorld, ServiceView } from './container-images';
import { type JobRecord, planJob } from './kubernetes-jobs';
import {
  asRecord,
  asStringRecord,
  type ContainerSpec,
  isDnsSubdomain,
  type PodManagementPolicy,
  type PodRecord,
  podActive,
  podExists,
  podReady,
  type Rollout,
  readyFrom,
  type WorkloadProfile,
  type WorkloadRecord,
} from './kubernetes-model';
import { matchesAll } from './label-selector';

/**
 * The simulated cluster: workloads and their controllers, pods, Services, Jobs and stored objects.
 * A spec change (restart, scale, apply) runs the controller at once: it plans every pod the change
 * will create, delete and make ready, with their future times, as the real controller would reach
 * them. Status is then read off the pods as of the caller's time. A later change to the same
 * workload first withdraws what has not happened yet, then plans again from there.
 */

export interface NodeDefinition {
  readonly name: string;
  /** The first three octets of the VPC subnet its pods take addresses from. */
  readonly podSubnet: string;
}

export interface WorkloadDefinition {
  readonly namespace: string;
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly replicas: number;
  readonly containers: readonly ContainerSpec[];
  /** Template labels; `{ app: name }` when unset. */
  readonly podLabels?: Readonly<Record<string, string>>;
  readonly podManagementPolicy?: PodManagementPolicy;
  /** Falls back to the profile registered under the workload's name, then a generic one. */
  readonly profile?: WorkloadProfile;
  /** When the workload (and its pods) were created: before the drill, typically days. */
  readonly createdAt: number;
}

interface ResourceType {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespaced: boolean;
  /** The resource's name as API errors qualify it, e.g. `deployments.apps`. */
  readonly resource: string;
}

/** What discovery serves: the kinds AOR reads, applies or deletes. */
const RESOURCE_TYPES: readonly ResourceType[] = [
  { apiVersion: 'v1', kind: 'Namespace', namespaced: false, resource: 'namespaces' },
  { apiVersion: 'v1', kind: 'Pod', namespaced: true, resource: 'pods' },
  { apiVersion: 'v1', kind: 'Service', namespaced: true, resource: 'services' },
  { apiVersion: 'v1', kind: 'ServiceAccount', namespaced: true, resource: 'serviceaccounts' },
  { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true, resource: 'configmaps' },
  { apiVersion: 'v1', kind: 'Secret', namespaced: true, resource: 'secrets' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespaced: true, resource: 'persistentvolumeclaims' },
  { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true, resource: 'deployments.apps' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', namespaced: true, resource: 'statefulsets.apps' },
  { apiVersion: 'batch/v1', kind: 'Job', namespaced: true, resource: 'jobs.batch' },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    namespaced: true,
    resource: 'networkpolicies.networking.k8s.io',
  },
  {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    namespaced: true,
    resource: 'poddisruptionbudgets.policy',
  },
  {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    namespaced: false,
    resource: 'storageclasses.storage.k8s.io',
  },
];

export const DEFAULT_PROFILE: WorkloadProfile = {
  startupMs: DEFAULT_POD_STARTUP_MS,
  terminationMs: DEFAULT_POD_TERMINATION_MS,
  cpuPercent: 20,
  memoryPercent: 30,
  logIntervalMs: 30_000,
  logLine: (sequence) => `INFO heartbeat seq=${sequence}`,
};

const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** The world rejected a request as the API server would (422, 404, 409 and the like). */
export class RejectedRequest extends Error {
  constructor(
    message: string,
    readonly reason: 'Invalid' | 'NotFound' | 'AlreadyExists' | 'Conflict',
  ) {
    super(message);
  }
}

/** What the API server keeps of every object besides its spec: identity, version and labels. */
export interface StoredMetadata {
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** DeleteOptions' preconditions: the delete applies only to the object that was read. */
export interface DeletePreconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/** The Service a cluster DNS name resolves to: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`. */
function serviceOf(hostname: string, namespace: string): { namespace: string; name: string } | undefined {
  const [name, ns, ...rest] = hostname.toLowerCase().split('.');
  if (!name) return undefined;
  if (ns === undefined) return { namespace, name };
  return ['', 'svc', 'svc.cluster.local'].includes(rest.join('.')) ? { namespace: ns, name } : undefined;
}

function objectKey(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return [apiVersion, kind, namespace ?? '', name].join('|');
}

function workloadKey({ namespace, kind, name }: WorkloadRef): string {
  return objectKey('apps/v1', kind, namespace, name);
}

function containersOf(template: Record<string, unknown>): ContainerSpec[] {
  const containers = asRecord(template.spec).containers;
  return (Array.isArray(containers) ? containers : []).flatMap((container) => {
    const { name, image } = asRecord(container);
    return typeof name === 'string' ? [{ name, image: typeof image === 'string' ? image : '' }] : [];
  });
}

function templateOf(labels: Record<string, string>, containers: readonly ContainerSpec[]) {
  return { metadata: { labels }, spec: { containers: containers.map((c) => ({ ...c })) } };
}

export class KubernetesWorld {
  readonly pods: PodRecord[] = [];
  /** While false, the API server does not answer (private endpoint unreachable). */
  reachable = true;
  /**
   * Workloads (by name, in any namespace) whose every new pod crash-loops with these last lines:
   * something the pods depend on is broken, so no replacement ever becomes ready.
   */
  readonly crashingWorkloads = new Map<string, readonly string[]>();
  private readonly workloads = new Map<string, WorkloadRecord>();
  private readonly objects = new Map<string, KubernetesManifest>();
  private readonly jobs = new Map<string, JobRecord>();
  /** Every object's metadata by key, whatever record holds the rest of it; the last resourceVersion given. */
  private readonly metadata = new Map<string, StoredMetadata>();
  private resourceVersion = 0;

  constructor(
    readonly seed: string,
    readonly nodes: readonly NodeDefinition[],
    /** Pods of the platform's workloads each node has room for (allocatable, less system pods). */
    readonly podsPerNode: number,
    /** Profiles by workload name, for workloads that arrive as manifests (a DR restore). */
    readonly profiles: ReadonlyMap<string, WorkloadProfile>,
    /** What Jobs' pods meet outside the cluster: S3 as their IAM role, and restored databases. */
    private readonly outside: Pick<ContainerWorld, 'readS3' | 'bucketExists' | 'database'>,
  ) {}

  // -------------------------------------------------------------------------------------------------
  // Building the world
  // -------------------------------------------------------------------------------------------------

  addWorkload(definition: WorkloadDefinition): WorkloadRecord {
    const podLabels = { ...(definition.podLabels ?? { app: definition.name }) };
    const workload = this.newWorkload(definition.namespace, definition.kind, definition.name, {
      replicas: definition.replicas,
      template: templateOf(podLabels, definition.containers),
      podManagementPolicy: definition.podManagementPolicy ?? 'OrderedReady',
      profile: definition.profile ?? this.profileFor(definition.name),
      at: definition.createdAt,
    });
    this.plan(workload, definition.createdAt - CONTROLLER_REACTION_MS, 'create');
    this.stored(workloadKey(workload), {}, definition.createdAt);
    return workload;
  }

  addObject(manifest: KubernetesManifest, at = 0): void {
    const { apiVersion, kind, metadata } = manifest;
    const key = objectKey(apiVersion, kind, metadata.namespace, metadata.name);
    this.objects.set(key, structuredClone(manifest));
    this.stored(key, asStringRecord(metadata.labels), at);
  }

  addService(namespace: string, name: string, selector: Record<string, string>): void {
    this.addObject({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: { selector: { ...selector }, clusterIP: 'None' },
    });
  }

  addStorageClass(name: string): void {
    this.addObject({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      volumeBindingMode: 'WaitForFirstConsumer',
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Reading
  // -------------------------------------------------------------------------------------------------

  workload(ref: WorkloadRef): WorkloadRecord | undefined {
    return this.workloads.get(workloadKey(ref));
  }

  object(ref: ObjectRef): KubernetesManifest | undefined {
    return this.objects.get(objectKey(ref.apiVersion, ref.kind, ref.namespace, ref.name));
  }

  resourceType(apiVersion: string, kind: string): ResourceType | undefined {
    return RESOURCE_TYPES.find((type) => type.apiVersion === apiVersion && type.kind === kind);
  }

  /** An existing object's uid, resourceVersion and labels, as a GET of it returns them. */
  metadataOf(ref: ObjectRef): StoredMetadata | undefined {
    const key = objectKey(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    const exists = this.objects.has(key) || this.workloads.has(key) || this.jobs.has(key);
    return exists ? this.metadata.get(key) : undefined;
  }

  /** The Service a pod in `namespace` reaches by `hostname` at `t`, as cluster DNS and kube-proxy serve it. */
  serviceView(namespace: string, hostname: string, t: number): ServiceView | undefined {
    const target = serviceOf(hostname, namespace);
    const service = target && this.object({ apiVersion: 'v1', kind: 'Service', ...target });
    if (!target || !service) return undefined;
    const spec = asRecord(service.spec);
    const ports = (Array.isArray(spec.ports) ? spec.ports : []).map((port) => Number(asRecord(port).port));
    return {
      name: target.name,
      hasClusterIP: spec.clusterIP !== 'None',
      ports,
      readyEndpoints: this.endpoints(target.namespace, target.name, t).ready,
    };
  }

  /** The pod of that name at `t`: StatefulSet pods reuse names, so the one alive then. */
  podAt(namespace: string, name: string, t: number): PodRecord | undefined {
    return this.pods.find((pod) => pod.namespace === namespace && pod.name === name && podExists(pod, t));
  }

  podsAt(namespace: string, t: number): PodRecord[] {
    return this.pods.filter((pod) => pod.namespace === namespace && podExists(pod, t));
  }

  readyReplicas(workload: WorkloadRecord, t: number): number {
    return this.pods.filter((pod) => pod.workload === workload && podReady(pod, t)).length;
  }

  workloadStatus(workload: WorkloadRecord, t: number): WorkloadStatus {
    const pods = this.pods.filter((pod) => pod.workload === workload && podActive(pod, t));
    const ready = pods.filter((pod) => podReady(pod, t)).length;
    const updated = pods.filter((pod) => pod.revision === workload.revision).length;
    const observedGeneration = workload.specChanges
      .filter((change) => change.at + CONTROLLER_REACTION_MS <= t)
      .reduce((latest, change) => Math.max(latest, change.generation), 0);
    const metadata = { name: workload.name, namespace: workload.namespace, generation: workload.generation };
    const base = {
      namespace: workload.namespace,
      kind: workload.kind,
      name: workload.name,
      generation: workload.generation,
      observedGeneration,
      desiredReplicas: workload.replicas,
      replicas: pods.length,
      readyReplicas: ready,
      updatedReplicas: updated,
      availableReplicas: ready,
    };
    if (workload.kind === 'Deployment') {
      const deployment = (reason: string): V1Deployment => ({
        metadata,
        spec: { replicas: workload.replicas, selector: {}, template: {} },
        status: {
          observedGeneration,
          replicas: pods.length,
          updatedReplicas: updated,
          readyReplicas: ready,
          availableReplicas: ready,
          conditions: [{ type: 'Progressing', status: 'True', reason }],
        },
      });
      let verdict = deploymentRolloutVerdict(deployment('ReplicaSetUpdated'));
      if (!verdict.rolledOut && t - this.lastProgress(workload, t) > DEPLOYMENT_PROGRESS_DEADLINE_MS) {
        verdict = deploymentRolloutVerdict(deployment('ProgressDeadlineExceeded'));
      }
      return { ...base, currentRevision: null, updateRevision: null, ...verdict };
    }
    const complete = updated === workload.replicas && pods.length === workload.replicas;
    const currentHash = complete ? workload.revision : workload.previousRevision;
    const revisionName = (hash: string) => `${workload.name}-${hash}`;
    const statefulSet: V1StatefulSet = {
      metadata,
      spec: {
        replicas: workload.replicas,
        selector: {},
        serviceName: workload.name,
        template: {},
        podManagementPolicy: workload.podManagementPolicy,
        // What the API server defaults an unset strategy to.
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      },
      status: {
        observedGeneration,
        replicas: pods.length,
        readyReplicas: ready,
        updatedReplicas: updated,
        availableReplicas: ready,
        currentReplicas: pods.filter((pod) => pod.revision === currentHash).length,
        currentRevision: revisionName(currentHash),
        updateRevision: revisionName(workload.revision),
      },
    };
    return {
      ...base,
      currentRevision: revisionName(currentHash),
      updateRevision: revisionName(workload.revision),
      ...statefulSetRolloutVerdict(statefulSet),
    };
  }

  /** What a Service's EndpointSlices list at `t`: its selected pods that have an address. */
  endpoints(namespace: string, service: string, t: number): PeerEndpoints {
    const selector = asStringRecord(
      asRecord(this.object({ apiVersion: 'v1', kind: 'Service', namespace, name: service })?.spec).selector,
    );
    const selected =
      Object.keys(selector).length === 0
        ? []
        : this.podsAt(namespace, t).filter((pod) => pod.podIP !== null && matchesAll(pod.labels, selector));
    const names = (ready: boolean) =>
      selected
        .filter((pod) => podReady(pod, t) === ready)
        .map((pod) => pod.name)
        .sort();
    const readyPods = names(true);
    const notReadyPods = names(false);
    return { service, ready: readyPods.length, notReady: notReadyPods.length, readyPods, notReadyPods };
  }

  // -------------------------------------------------------------------------------------------------
  // Spec changes
  // -------------------------------------------------------------------------------------------------

  /** `kubectl rollout restart`: a new template annotation; the same second twice changes nothing. */
  restart(workload: WorkloadRecord, restartedAt: string, at: number): number {
    const metadata = asRecord(workload.template.metadata);
    const annotations = asStringRecord(metadata.annotations);
    if (annotations[RESTARTED_AT_ANNOTATION] === restartedAt) return workload.generation;
    const template = {
      ...workload.template,
      metadata: { ...metadata, annotations: { ...annotations, [RESTARTED_AT_ANNOTATION]: restartedAt } },
    };
    this.changeSpec(workload, { template }, at, 'restart');
    return workload.generation;
  }

  scale(workload: WorkloadRecord, replicas: number, at: number): void {
    if (replicas !== workload.replicas) this.changeSpec(workload, { replicas }, at, 'scale');
  }

  /** `kubectl delete pod`: the pod terminates at `at` and its controller replaces it. */
  deletePod(pod: PodRecord, at: number): void {
    this.terminate(pod, at);
    this.plan(pod.workload, at, 'recreate');
  }

  quarantine(pod: PodRecord, incidentId: string, at: number): void {
    pod.labels[QUARANTINE_LABEL] = incidentId;
    pod.quarantinedAt ??= at;
  }

  /** `kubectl apply --server-side` of one object; returns what the API server answers with. */
  apply(manifest: KubernetesManifest, namespace: string | undefined, at: number): ObjectRef {
    const { apiVersion, kind } = manifest;
    const name = manifest.metadata.name;
    if (!isDnsSubdomain(name)) {
      throw new RejectedRequest(`${kind} "${name}" is invalid: metadata.name: Invalid value`, 'Invalid');
    }
    if (namespace !== undefined) this.requireNamespace(namespace);
    const ref = { apiVersion, kind, name, ...(namespace === undefined ? {} : { namespace }) };
    const body = { ...structuredClone(manifest), metadata: { ...manifest.metadata, ...ref } };
    const key = objectKey(apiVersion, kind, namespace, name);
    if (apiVersion === 'apps/v1' && (kind === 'Deployment' || kind === 'StatefulSet')) {
      this.applyWorkload(body, kind, namespace ?? '', at);
    } else if (apiVersion === 'batch/v1' && kind === 'Job') {
      // A Job's template is immutable: applying it again changes nothing but what server-side apply merges.
      this.createJob(namespace ?? '', body, at);
    } else {
      this.objects.set(key, body);
    }
    this.stored(key, asStringRecord(manifest.metadata.labels), at);
    return ref;
  }

  /**
   * False when there was nothing to delete. With preconditions, an object whose uid or
   * resourceVersion is not the one given is not deleted: the API server's 409 Conflict.
   */
  delete(ref: ObjectRef, at: number, preconditions: DeletePreconditions = {}): boolean {
    const key = objectKey(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    const current = this.metadataOf(ref);
    if (!current) return false;
    for (const field of ['uid', 'resourceVersion'] as const) {
      const wanted = preconditions[field];
      if (wanted !== undefined && wanted !== current[field]) {
        const label = field === 'uid' ? 'UID' : 'ResourceVersion';
        const resource = this.resourceType(ref.apiVersion, ref.kind)?.resource ?? ref.kind;
        throw new RejectedRequest(
          `Operation cannot be fulfilled on ${resource} "${ref.name}": Precondition failed: ${label} in precondition: ${wanted}, ${label} in object meta: ${current[field]}`,
          'Conflict',
        );
      }
    }
    this.metadata.delete(key);
    const workload = this.workloads.get(key);
    if (workload) this.deleteWorkload(workload, at);
    this.jobs.delete(key);
    if (this.objects.delete(key) && ref.kind === 'Namespace') this.deleteNamespaceContents(ref.name, at);
    return true;
  }

  createPersistentVolumeClaim(request: PersistentVolumeClaimRequest, at: number): boolean {
    const { namespace, name, storageClassName, storage, accessModes = ['ReadWriteOnce'] } = request;
    if (!/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(storage)) {
      throw new RejectedRequest(
        `PersistentVolumeClaim "${name}" is invalid: spec.resources.requests[storage]: Invalid value: "${storage}"`,
        'Invalid',
      );
    }
    this.requireNamespace(namespace);
    const key = objectKey('v1', 'PersistentVolumeClaim', namespace, name);
    if (this.objects.has(key)) return false;
    this.stored(key, {}, at);
    this.objects.set(key, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace, creationTimestamp: new Date(at).toISOString() },
      spec: { accessModes, storageClassName, resources: { requests: { storage } } },
    });
    return true;
  }

  /** Creates the Job unless one of that name exists; false if it did (409 AlreadyExists). */
  createJob(namespace: string, manifest: KubernetesManifest, at: number): boolean {
    this.requireNamespace(namespace);
    const name = manifest.metadata.name;
    const key = objectKey('batch/v1', 'Job', namespace, name);
    if (this.jobs.has(key)) return false;
    const uid = this.stored(key, asStringRecord(manifest.metadata.labels), at).uid;
    this.jobs.set(
      key,
      planJob(namespace, manifest, at, uid, {
        ...this.outside,
        object: (ref) => this.object(ref),
        service: (podNamespace, hostname, t) => this.serviceView(podNamespace, hostname, t),
        volumeProblem: (claimNamespace, claim) => this.volumeProblem(claimNamespace, claim),
      }),
    );
    return true;
  }

  job(namespace: string, name: string): JobRecord | undefined {
    return this.jobs.get(objectKey('batch/v1', 'Job', namespace, name));
  }

  /** The pods of the namespace's Jobs that exist at `t`: one per attempt started. */
  jobPodsAt(namespace: string, t: number): JobPod[] {
    return [...this.jobs.values()]
      .filter((job) => job.namespace === namespace)
      .flatMap((job) =>
        job.attempts.flatMap((attempt, index) => {
          if (attempt.startedAt > t) return [];
          const name = `${job.name}-${kubernetesSuffix(5, this.seed, namespace, job.name, index)}`;
          const node =
            attempt.pendingReason === null
              ? this.nodes[
                  Math.floor(unitInterval(this.seed, 'job-node', namespace, name) * this.nodes.length)
                ]
              : undefined;
          const template = asRecord(asRecord(job.manifest.spec).template);
          const labels = {
            ...asStringRecord(asRecord(template.metadata).labels),
            'batch.kubernetes.io/controller-uid': job.uid,
            'batch.kubernetes.io/job-name': job.name,
            'controller-uid': job.uid,
            'job-name': job.name,
          };
          return [
            {
              job,
              attempt,
              name,
              uid: uuid(this.seed, 'pod', namespace, name, attempt.startedAt),
              nodeName: node?.name ?? null,
              podIP: node
                ? `${node.podSubnet}.${10 + Math.floor(unitInterval(this.seed, 'ip', namespace, name) * 240)}`
                : null,
              labels,
              containers: containersOf(template),
            },
          ];
        }),
      );
  }

  jobPodAt(namespace: string, name: string, t: number): JobPod | undefined {
    return this.jobPodsAt(namespace, t).find((pod) => pod.name === name);
  }

  /** The NamespaceLifecycle admission plugin: nothing is created in a namespace that does not exist. */
  private requireNamespace(namespace: string): void {
    if (!this.object({ apiVersion: 'v1', kind: 'Namespace', name: namespace })) {
      throw new RejectedRequest(`namespaces "${namespace}" not found`, 'NotFound');
    }
  }

  /**
   * Records a write of the object: a new resourceVersion, its uid kept (or made, for a new object),
   * the labels written merged over those it had (server-side apply keeps other managers' labels).
   */
  private stored(key: string, labels: Record<string, string>, at: number): StoredMetadata {
    const existing = this.metadata.get(key);
    this.resourceVersion += 1;
    const metadata = {
      uid: existing?.uid ?? uuid(this.seed, 'object', key, at),
      resourceVersion: String(this.resourceVersion),
      labels: { ...existing?.labels, ...labels },
    };
    this.metadata.set(key, metadata);
    return metadata;
  }

  /** Why a pod mounting this claim is not scheduled: the claim, or its storage class, does not exist. */
  private volumeProblem(namespace: string, claim: string): string | undefined {
    const pvc = this.object({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claim });
    if (!pvc)
      return `0/${this.nodes.length} nodes are available: persistentvolumeclaim "${claim}" not found.`;
    const storageClass = asRecord(pvc.spec).storageClassName;
    if (
      typeof storageClass === 'string' &&
      !this.object({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: storageClass })
    ) {
      return `0/${this.nodes.length} nodes are available: pod has unbound immediate PersistentVolumeClaims: storageclass.storage.k8s.io "${storageClass}" not found.`;
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------
  // Controllers
  // -------------------------------------------------------------------------------------------------

  private profileFor(name: string): WorkloadProfile {
    return this.profiles.get(name) ?? DEFAULT_PROFILE;
  }

  private newWorkload(
    namespace: string,
    kind: WorkloadKind,
    name: string,
    spec: {
      replicas: number;
      template: Record<string, unknown>;
      podManagementPolicy: PodManagementPolicy;
      profile: WorkloadProfile;
      at: number;
    },
  ): WorkloadRecord {
    const revision = this.revisionOf(namespace, kind, name, spec.template);
    const workload: WorkloadRecord = {
      namespace,
      kind,
      name,
      podManagementPolicy: spec.podManagementPolicy,
      profile: spec.profile,
      replicas: spec.replicas,
      generation: 1,
      specChanges: [{ generation: 1, at: spec.at }],
      template: spec.template,
      podLabels: asStringRecord(asRecord(spec.template.metadata).labels),
      containers: containersOf(spec.template),
      revision,
      previousRevision: revision,
      rollouts: [],
      crashingOrdinals: new Map(),
      load: [],
      normalReplicas: Math.max(1, spec.replicas),
      podSerial: 0,
      deletedAt: null,
    };
    this.workloads.set(workloadKey(workload), workload);
    return workload;
  }

  private revisionOf(namespace: string, kind: string, name: string, template: unknown): string {
    return kubernetesSuffix(10, this.seed, namespace, kind, name, JSON.stringify(template));
  }

  private changeSpec(
    workload: WorkloadRecord,
    change: { replicas?: number; template?: Record<string, unknown> },
    at: number,
    reason: Rollout['reason'],
  ): void {
    workload.generation += 1;
    workload.specChanges.push({ generation: workload.generation, at });
    if (change.replicas !== undefined) workload.replicas = change.replicas;
    if (change.template !== undefined) {
      workload.template = change.template;
      workload.podLabels = asStringRecord(asRecord(change.template.metadata).labels);
      workload.containers = containersOf(change.template);
      workload.previousRevision = workload.revision;
      workload.revision = this.revisionOf(workload.namespace, workload.kind, workload.name, change.template);
    }
    this.plan(workload, at, reason);
  }

  private applyWorkload(
    manifest: KubernetesManifest,
    kind: WorkloadKind,
    namespace: string,
    at: number,
  ): void {
    const spec = asRecord(manifest.spec);
    const applied = asRecord(spec.template);
    const labels = asStringRecord(asRecord(applied.metadata).labels);
    const name = manifest.metadata.name;
    if (containersOf(applied).length === 0) {
      throw new RejectedRequest(
        `${kind}.apps "${name}" is invalid: spec.template.spec.containers: Required value`,
        'Invalid',
      );
    }
    if (!matchesAll(labels, asStringRecord(asRecord(spec.selector).matchLabels))) {
      throw new RejectedRequest(
        `${kind}.apps "${name}" is invalid: spec.template.metadata.labels: Invalid value: \`selector\` does not match template \`labels\``,
        'Invalid',
      );
    }
    const existing = this.workloads.get(workloadKey({ namespace, kind, name }));
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : (existing?.replicas ?? 1);
    if (!existing) {
      const workload = this.newWorkload(namespace, kind, name, {
        replicas,
        template: applied,
        podManagementPolicy: spec.podManagementPolicy === 'Parallel' ? 'Parallel' : 'OrderedReady',
        profile: this.profileFor(name),
        at,
      });
      this.plan(workload, at, 'create');
      return;
    }
    // Server-side apply keeps fields other managers own, such as kubectl's restartedAt annotation.
    const restartedAt = asStringRecord(asRecord(existing.template.metadata).annotations)[
      RESTARTED_AT_ANNOTATION
    ];
    const appliedMetadata = asRecord(applied.metadata);
    const template =
      restartedAt === undefined
        ? applied
        : {
            ...applied,
            metadata: {
              ...appliedMetadata,
              annotations: {
                [RESTARTED_AT_ANNOTATION]: restartedAt,
                ...asStringRecord(appliedMetadata.annotations),
              },
            },
          };
    const templateChanged = JSON.stringify(template) !== JSON.stringify(existing.template);
    if (!templateChanged && replicas === existing.replicas) return;
    this.changeSpec(
      existing,
      { replicas, ...(templateChanged ? { template } : {}) },
      at,
      templateChanged ? 'apply' : 'scale',
    );
  }

  private deleteWorkload(workload: WorkloadRecord, at: number): void {
    this.withdrawFuture(workload, at);
    for (const pod of this.pods) {
      if (pod.workload === workload && pod.deletedAt === null) this.terminate(pod, at);
    }
    workload.deletedAt = at;
    this.workloads.delete(workloadKey(workload));
  }

  private deleteNamespaceContents(namespace: string, at: number): void {
    for (const workload of [...this.workloads.values()]) {
      if (workload.namespace === namespace) this.deleteWorkload(workload, at);
    }
    for (const [key, job] of this.jobs) if (job.namespace === namespace) this.jobs.delete(key);
    for (const [key, object] of this.objects)
      if (object.metadata.namespace === namespace) this.objects.delete(key);
    for (const key of this.metadata.keys()) if (key.split('|')[2] === namespace) this.metadata.delete(key);
  }

  /** Undoes what earlier plans scheduled after `at`: it has not happened, and the new plan replaces it. */
  private withdrawFuture(workload: WorkloadRecord, at: number): void {
    for (let index = this.pods.length - 1; index >= 0; index -= 1) {
      const pod = this.pods[index];
      if (pod?.workload !== workload) continue;
      if (pod.createdAt > at) {
        this.pods.splice(index, 1);
      } else if (pod.deletedAt !== null && pod.deletedAt > at) {
        pod.deletedAt = null;
        pod.goneAt = null;
      }
    }
    for (const rollout of workload.rollouts) {
      if (rollout.completedAt === null || rollout.completedAt > at) rollout.completedAt = null;
    }
  }

  private plan(workload: WorkloadRecord, at: number, reason: Rollout['reason']): void {
    this.withdrawFuture(workload, at);
    const start = at + CONTROLLER_REACTION_MS;
    const completedAt =
      workload.kind === 'StatefulSet'
        ? this.planStatefulSet(workload, start)
        : this.planDeployment(workload, start);
    workload.rollouts.push({ reason, startedAt: at, completedAt });
  }

  /**
   * The StatefulSet controller with the RollingUpdate strategy: missing ordinals are created (all at
   * once under `Parallel`, one ready pod after another under `OrderedReady`), then pods not at the
   * update revision are replaced from the highest ordinal down, each replacement created only once
   * its predecessor is gone (same name) and waited on until ready. `OrderedReady` waits for every pod
   * to be ready before touching any, so a crash-looping pod blocks the rollout for good
   * (kubernetes/kubernetes#67250); `Parallel` replaces it, which is what heals it.
   */
  private planStatefulSet(workload: WorkloadRecord, start: number): number | null {
    const ordered = workload.podManagementPolicy === 'OrderedReady';
    const current = (ordinal: number) =>
      this.pods.find((pod) => pod.workload === workload && pod.ordinal === ordinal && pod.deletedAt === null);
    let cursor = start;
    let settled = start;
    const excess = this.pods
      .filter(
        (pod) =>
          pod.workload === workload && pod.deletedAt === null && (pod.ordinal ?? 0) >= workload.replicas,
      )
      .sort((a, b) => (b.ordinal ?? 0) - (a.ordinal ?? 0));
    for (const pod of excess) {
      const goneAt = this.terminate(pod, cursor);
      if (ordered) cursor = goneAt;
      settled = Math.max(settled, goneAt);
    }
    for (let ordinal = 0; ordinal < workload.replicas; ordinal += 1) {
      const pod = current(ordinal) ?? this.createPod(workload, ordered ? cursor : start, ordinal);
      if (ordered) {
        const readyAt = readyFrom(pod, cursor);
        if (readyAt === null) return null;
        cursor = readyAt;
      }
    }
    for (let ordinal = workload.replicas - 1; ordinal >= 0; ordinal -= 1) {
      let pod = current(ordinal);
      if (!pod) return null;
      if (pod.revision !== workload.revision) {
        pod = this.createPod(workload, this.terminate(pod, cursor), ordinal);
      }
      const readyAt = readyFrom(pod, cursor);
      if (readyAt === null) return null;
      cursor = readyAt;
    }
    return Math.max(cursor, settled);
  }

  /**
   * The Deployment controller's RollingUpdate (maxSurge 25% rounded up, maxUnavailable 25% rounded
   * down): each wave takes `maxUnavailable` old pods down at once and starts new ones up to the
   * surge, and takes the rest of the wave's old pods down when the new ones are ready. Pods that are
   * not ready go first, as the ReplicaSet controller prefers them when scaling down.
   */
  private planDeployment(workload: WorkloadRecord, start: number): number | null {
    const live = this.pods.filter((pod) => pod.workload === workload && pod.deletedAt === null);
    const deletionOrder = (pods: PodRecord[]) =>
      [...pods].sort(
        (a, b) =>
          Number(readyFrom(a, start) !== null) - Number(readyFrom(b, start) !== null) ||
          b.createdAt - a.createdAt,
      );
    const updated = live.filter((pod) => pod.revision === workload.revision);
    const surplus = deletionOrder(updated).slice(0, Math.max(0, updated.length - workload.replicas));
    for (const pod of surplus) this.terminate(pod, start);
    const awaited = updated.filter((pod) => !surplus.includes(pod)).map((pod) => readyFrom(pod, start));
    const old = deletionOrder(live.filter((pod) => pod.revision !== workload.revision));
    const maxSurge = Math.ceil(workload.replicas / 4);
    const maxUnavailable = Math.floor(workload.replicas / 4);
    const waveSize = old.length === 0 ? workload.replicas : Math.max(1, maxSurge + maxUnavailable);
    let needed = Math.max(0, workload.replicas - updated.length);
    let cursor = start;
    while (needed > 0) {
      const size = Math.min(waveSize, needed);
      const downFirst = old.splice(0, Math.min(maxUnavailable, old.length));
      for (const pod of downFirst) this.terminate(pod, cursor);
      const readiness = Array.from({ length: size }, () => {
        const pod = this.createPod(workload, cursor, null);
        return readyFrom(pod, pod.createdAt);
      });
      if (readiness.some((readyAt) => readyAt === null)) return null;
      const waveReady = Math.max(cursor, ...readiness.map((readyAt) => readyAt ?? cursor));
      for (const pod of old.splice(0, Math.min(size - downFirst.length, old.length))) {
        this.terminate(pod, waveReady);
      }
      cursor = waveReady;
      needed -= size;
    }
    for (const pod of old) this.terminate(pod, cursor);
    if (awaited.some((readyAt) => readyAt === null)) return null;
    return Math.max(cursor, ...awaited.map((readyAt) => readyAt ?? cursor));
  }

  /** Deletes at `at`; returns when the pod is gone. */
  private terminate(pod: PodRecord, at: number): number {
    pod.deletedAt = at;
    pod.goneAt = at + pod.workload.profile.terminationMs;
    return pod.goneAt;
  }

  /** A StatefulSet pod is created only once its namesake is gone. */
  private createPod(workload: WorkloadRecord, requestedAt: number, ordinal: number | null): PodRecord {
    const at = Math.max(
      requestedAt,
      ...this.pods
        .filter((pod) => ordinal !== null && pod.workload === workload && pod.ordinal === ordinal)
        .map((pod) => pod.goneAt ?? requestedAt),
    );
    workload.podSerial += 1;
    const { namespace } = workload;
    const seed = this.seed;
    const name =
      ordinal === null
        ? `${workload.name}-${workload.revision}-${kubernetesSuffix(5, seed, namespace, workload.name, workload.podSerial)}`
        : `${workload.name}-${ordinal}`;
    const node = this.schedule(at);
    const crashLines =
      (ordinal === null ? undefined : workload.crashingOrdinals.get(ordinal)) ??
      this.crashingWorkloads.get(workload.name);
    const revisionLabels: Record<string, string> =
      workload.kind === 'Deployment'
        ? { 'pod-template-hash': workload.revision }
        : {
            'controller-revision-hash': `${workload.name}-${workload.revision}`,
            'statefulset.kubernetes.io/pod-name': name,
            'apps.kubernetes.io/pod-index': String(ordinal),
          };
    const pod: PodRecord = {
      namespace,
      name,
      uid: uuid(seed, 'pod', namespace, name, at),
      workload,
      ordinal,
      revision: workload.revision,
      labels: { ...workload.podLabels, ...revisionLabels },
      containers: workload.containers,
      nodeName: node?.name ?? null,
      podIP: node
        ? `${node.podSubnet}.${10 + Math.floor(unitInterval(seed, 'ip', namespace, name, at) * 240)}`
        : null,
      createdAt: at,
      readyAt: node
        ? at +
          workload.profile.startupMs +
          Math.round(between(0, POD_READY_JITTER_MS, seed, 'ready', name, at))
        : null,
      crash: crashLines
        ? { at: at + CONTAINER_CREATING_MS + CRASHED_CONTAINER_RUN_MS, lines: crashLines }
        : null,
      breachedAt: null,
      quarantinedAt: null,
      deletedAt: null,
      goneAt: null,
      memoryGrowthPerHour: 0,
    };
    this.pods.push(pod);
    return pod;
  }

  /** The node with the most room at `at` (first listed among equals); none when the cluster is full. */
  private schedule(at: number): NodeDefinition | undefined {
    const load = (node: NodeDefinition) =>
      this.pods.filter((pod) => pod.nodeName === node.name && podExists(pod, at)).length;
    return this.nodes
      .map((node) => ({ node, pods: load(node) }))
      .filter(({ pods }) => pods < this.podsPerNode)
      .sort((a, b) => a.pods - b.pods)[0]?.node;
  }

  /** The latest moment ≤ `t` the workload's pods changed: a Deployment stalled past its deadline has failed. */
  private lastProgress(workload: WorkloadRecord, t: number): number {
    const moments = [
      ...workload.specChanges.map((change) => change.at),
      ...this.pods
        .filter((pod) => pod.workload === workload)
        .flatMap((pod) => [pod.createdAt, pod.readyAt, pod.deletedAt]),
    ].filter((moment): moment is number => moment !== null && moment <= t);
    return moments.length === 0 ? t : Math.max(...moments);
  }
}
