import { QUARANTINE_LABEL } from '../../lambdas/adapters/kubernetes/cluster-operations';
import {
  type Completion,
  jobCompletion,
  pollUntilSettled,
  rolloutCompletion,
} from '../../lambdas/adapters/kubernetes/completion';
import {
  KubernetesApiError,
  KubernetesConflictError,
  KubernetesInvalidError,
  KubernetesNotFoundError,
  KubernetesTimeoutError,
} from '../../lambdas/adapters/kubernetes/errors';
import { DELETE_ROUNDS, describeRef, keptReason } from '../../lambdas/adapters/kubernetes/run-objects';
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
} from '../../lambdas/core/operations/cluster';
import { RECOVERY_RUN_LABEL } from '../../lambdas/core/recovery/recovery';
import type { OperationRunner, SimulatedCall } from './calls';
import { KUBERNETES_READ_MS, KUBERNETES_REQUEST_TIMEOUT_MS, KUBERNETES_WRITE_MS } from './durations';
import { jobPodEvents, jobPodJson, jobPodLog, jobPodSummary } from './job-pods';
import { jobStatusAt } from './kubernetes-jobs';
import { isDnsSubdomain, isLabelValue, rfc3339, type WorkloadRecord } from './kubernetes-model';
import { type KubernetesWorld, RejectedRequest } from './kubernetes-world';
import { InvalidLabelSelectorError, parseLabelSelector } from './label-selector';
import { containerLog, podEvents, podJson, podSummary } from './pod-evidence';

/**
 * `ClusterOperations` over the simulated cluster, with the Kubernetes adapter's semantics and error
 * names: each API request it would send costs simulated time on the caller's clock, a missing object
 * is a KubernetesNotFoundError, a 409 on create is adopted, rollouts and Jobs are polled until done
 * or until the deadline (RolloutDeadlineExceededError, JobDeadlineExceededError).
 */

type ApiErrorClass = new (
  message: string,
  details: { statusCode?: number; reason?: string },
) => KubernetesApiError;

function apiError(
  ErrorClass: ApiErrorClass,
  operation: string,
  statusCode: number,
  reason: string,
  detail: string,
) {
  return new ErrorClass(`${operation}: ${detail}`, { statusCode, reason });
}

function notFound(operation: string, resource: string, name: string): KubernetesNotFoundError {
  return apiError(KubernetesNotFoundError, operation, 404, 'NotFound', `${resource} "${name}" not found`);
}

const REJECTIONS: Record<RejectedRequest['reason'], [ApiErrorClass, number]> = {
  Invalid: [KubernetesInvalidError, 422],
  NotFound: [KubernetesNotFoundError, 404],
  AlreadyExists: [KubernetesConflictError, 409],
  Conflict: [KubernetesConflictError, 409],
};

/** The world's refusal as the API server's status and the adapter's error class. */
function rejected(operation: string, error: unknown): unknown {
  if (!(error instanceof RejectedRequest)) return error;
  const [ErrorClass, statusCode] = REJECTIONS[error.reason];
  return apiError(ErrorClass, operation, statusCode, error.reason, error.message);
}

const WORKLOAD_RESOURCES = { Deployment: 'deployments.apps', StatefulSet: 'statefulsets.apps' } as const;

/** The Kubernetes adapter's poll loop, on the caller's simulated clock. */
function waitUntil<T>(
  call: SimulatedCall,
  deadlineMs: number,
  pollMs: number,
  read: () => Promise<T>,
  completion: Completion<T>,
): Promise<T> {
  const clock = { now: () => call.now(), sleep: (ms: number) => call.spend(ms) };
  return pollUntilSettled(clock, { deadlineMs, pollMs, read, ...completion });
}

export class SimulatedClusterOperations implements ClusterOperations {
  /** apiVersions whose discovery document was read, as the Kubernetes adapter caches them. */
  private readonly discovered = new Set<string>();

  constructor(
    private readonly world: KubernetesWorld,
    private readonly run: OperationRunner,
  ) {}

  clusterReachable(): Promise<boolean> {
    return this.run('clusterReachable', [], async (call) => {
      if (!this.world.reachable) {
        await call.spend(KUBERNETES_REQUEST_TIMEOUT_MS);
        return false;
      }
      await call.spend(KUBERNETES_READ_MS);
      return true;
    });
  }

  storageClassExists(name: string): Promise<boolean> {
    return this.run('storageClassExists', [name], async (call) => {
      await this.request(call, 'read', `read StorageClass ${name}`);
      return this.world.object({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name }) !== undefined;
    });
  }

  listPods(input: { namespace: string; labelSelector?: string }): Promise<PodSummary[]> {
    return this.run('listPods', [input], async (call) => {
      const operation = `list pods in ${input.namespace}`;
      await this.request(call, 'read', operation);
      let matches: ReturnType<typeof parseLabelSelector>;
      try {
        matches = parseLabelSelector(input.labelSelector);
      } catch (error) {
        if (!(error instanceof InvalidLabelSelectorError)) throw error;
        throw apiError(KubernetesApiError, operation, 400, 'BadRequest', error.message);
      }
      const t = call.now();
      return [
        ...this.world
          .podsAt(input.namespace, t)
          .filter((pod) => matches(pod.labels))
          .map((pod) => podSummary(pod, t)),
        ...this.world
          .jobPodsAt(input.namespace, t)
          .filter((pod) => matches(pod.labels))
          .map((pod) => jobPodSummary(pod, t)),
      ].sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  restartWorkload(workload: WorkloadRef): Promise<RestartResult> {
    return this.run('restartWorkload', [workload], async (call) => {
      const restartedAt = rfc3339(call.now());
      const operation = `restart ${workload.kind} ${workload.namespace}/${workload.name}`;
      await this.request(call, 'write', operation);
      const record = this.requireWorkload(operation, workload);
      return { generation: this.world.restart(record, restartedAt, call.now()), restartedAt };
    });
  }

  workloadStatus(workload: WorkloadRef): Promise<WorkloadStatus> {
    return this.run('workloadStatus', [workload], async (call) => {
      const operation = `read ${workload.kind} ${workload.namespace}/${workload.name}`;
      await this.request(call, 'read', operation);
      return this.world.workloadStatus(this.requireWorkload(operation, workload), call.now());
    });
  }

  waitForRollout(input: WorkloadRef & PollingDeadline): Promise<WorkloadStatus> {
    return this.run('waitForRollout', [input], (call) => {
      const { deadlineMs, pollMs, ...workload } = input;
      return waitUntil(
        call,
        deadlineMs,
        pollMs,
        () => this.workloadStatus(workload),
        rolloutCompletion(workload, deadlineMs),
      );
    });
  }

  scaleWorkload(input: WorkloadRef & { replicas: number }): Promise<ScaleResult> {
    return this.run('scaleWorkload', [input], async (call) => {
      const { replicas, ...workload } = input;
      const previousReplicas = await this.currentReplicas(workload);
      const operation = `scale ${workload.kind} ${workload.namespace}/${workload.name} to ${replicas}`;
      await this.request(call, 'write', operation);
      const record = this.requireWorkload(operation, workload);
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw apiError(
          KubernetesInvalidError,
          operation,
          422,
          'Invalid',
          `Scale.autoscaling "${workload.name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`,
        );
      }
      this.world.scale(record, replicas, call.now());
      return { previousReplicas, replicas };
    });
  }

  currentReplicas(workload: WorkloadRef): Promise<number> {
    return this.run('currentReplicas', [workload], async (call) => {
      const operation = `read scale of ${workload.kind} ${workload.namespace}/${workload.name}`;
      await this.request(call, 'read', operation);
      return this.requireWorkload(operation, workload).replicas;
    });
  }

  readyPeerEndpoints(input: { namespace: string; service: string }): Promise<PeerEndpoints> {
    return this.run('readyPeerEndpoints', [input], async (call) => {
      await this.request(call, 'read', `list EndpointSlices of Service ${input.namespace}/${input.service}`);
      return this.world.endpoints(input.namespace, input.service, call.now());
    });
  }

  /** Creates (or adopts) the deny-all policy first, then labels pod after pod, as the real adapter does. */
  isolatePods(input: {
    namespace: string;
    podNames: string[];
    incidentId: string;
  }): Promise<IsolationResult> {
    return this.run('isolatePods', [input], async (call) => {
      const { namespace, podNames, incidentId } = input;
      const networkPolicyName = `aor-quarantine-${incidentId.toLowerCase()}`;
      const operation = `create NetworkPolicy ${namespace}/${networkPolicyName}`;
      await this.request(call, 'write', operation);
      if (!isDnsSubdomain(networkPolicyName) || !isLabelValue(incidentId)) {
        throw apiError(
          KubernetesInvalidError,
          operation,
          422,
          'Invalid',
          `NetworkPolicy.networking.k8s.io "${networkPolicyName}" is invalid: metadata: Invalid value: ${JSON.stringify(incidentId)}`,
        );
      }
      const ref = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        namespace,
        name: networkPolicyName,
      };
      const networkPolicyCreated = this.world.object(ref) === undefined;
      if (networkPolicyCreated) {
        this.world.addObject({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: networkPolicyName, namespace, labels: { [QUARANTINE_LABEL]: incidentId } },
          spec: {
            podSelector: { matchLabels: { [QUARANTINE_LABEL]: incidentId } },
            policyTypes: ['Ingress', 'Egress'],
          },
        });
      }
      for (const name of podNames) {
        const labelling = `label Pod ${namespace}/${name} for quarantine`;
        await this.request(call, 'write', labelling);
        const pod = this.world.podAt(namespace, name, call.now());
        if (!pod) throw notFound(labelling, 'pods', name);
        this.world.quarantine(pod, incidentId, call.now());
      }
      return { networkPolicyName, networkPolicyCreated, isolatedPods: [...podNames] };
    });
  }

  /** Each pod is read, then its logs and events in parallel, and all pods in parallel: two round trips. */
  captureForensics(input: {
    namespace: string;
    podNames: string[];
    tailLines: number;
  }): Promise<ForensicsBundle> {
    return this.run('captureForensics', [input], async (call) => {
      const { namespace, podNames, tailLines } = input;
      const capturedAt = new Date(call.now()).toISOString();
      const names = [...new Set(podNames)].sort();
      if (names.length === 0) return { namespace, capturedAt, tailLines, pods: [] };
      await this.request(call, 'read', `read pods in ${namespace}`);
      const readAt = call.now();
      const found = names.map((name) => ({
        name,
        pod: this.world.podAt(namespace, name, readAt),
        jobPod: this.world.jobPodAt(namespace, name, readAt),
      }));
      if (found.some(({ pod, jobPod }) => pod !== undefined || jobPod !== undefined)) {
        await this.request(call, 'read', `read logs and events in ${namespace}`);
      }
      const t = call.now();
      const { seed } = this.world;
      return {
        namespace,
        capturedAt,
        tailLines,
        pods: found.map(({ name, pod, jobPod }) => {
          if (pod !== undefined) {
            return {
              name,
              found: true,
              pod: podJson(pod, readAt),
              logs: pod.containers.map((container) => containerLog(pod, container.name, t, tailLines)),
              events: podEvents(pod, t, seed),
            };
          }
          if (jobPod !== undefined) {
            return {
              name,
              found: true,
              pod: jobPodJson(jobPod, readAt),
              logs: jobPod.containers.map((container) => jobPodLog(jobPod, container.name, t, tailLines)),
              events: jobPodEvents(jobPod, t, seed),
            };
          }
          return { name, found: false, pod: null, logs: [], events: [] };
        }),
      };
    });
  }

  applyManifests(input: {
    namespace: string;
    manifests: KubernetesManifest[];
    fieldManager?: string;
  }): Promise<ObjectRef[]> {
    return this.run('applyManifests', [input], async (call) => {
      const applied: ObjectRef[] = [];
      for (const manifest of input.manifests) {
        const { apiVersion, kind, metadata } = manifest;
        const operation = `apply ${kind} ${metadata.namespace ?? input.namespace}/${metadata.name}`;
        const namespaced = await this.discover(call, operation, apiVersion, kind);
        await this.request(call, 'write', operation);
        try {
          const namespace = namespaced ? (metadata.namespace ?? input.namespace) : undefined;
          applied.push(this.world.apply(manifest, namespace, call.now()));
        } catch (error) {
          throw rejected(operation, error);
        }
      }
      return applied;
    });
  }

  /** Each object read, as the adapter reads it before a run applies (run-objects.ts). */
  runLabels(refs: readonly ObjectRef[]): Promise<(string | null | 'absent')[]> {
    return this.run('runLabels', [refs], async (call) => {
      const labels: (string | null | 'absent')[] = [];
      for (const ref of refs) {
        const operation = `read ${describeRef(ref)}`;
        const namespaced = await this.discover(call, operation, ref.apiVersion, ref.kind);
        await this.request(call, 'read', operation);
        const read = this.world.metadataOf(namespaced ? ref : { ...ref, namespace: undefined });
        labels.push(read ? (read.labels[RECOVERY_RUN_LABEL] ?? null) : 'absent');
      }
      return labels;
    });
  }

  /**
   * As the Kubernetes adapter does it (run-objects.ts): each object read, kept unless its run label
   * is this run's, deleted on the condition that it is still the object read.
   */
  deleteObjects(refs: ObjectRef[], owner: { runId: string }): Promise<DeleteResult> {
    return this.run('deleteObjects', [refs, owner], async (call) => {
      const result: DeleteResult = { deleted: [], alreadyGone: [], kept: [] };
      for (const ref of [...refs].reverse()) {
        const operation = `delete ${describeRef(ref)}`;
        const namespaced = await this.discover(call, operation, ref.apiVersion, ref.kind);
        if (namespaced && ref.namespace === undefined) {
          throw new KubernetesInvalidError(
            `${operation}: ${ref.kind} is namespaced, but no namespace was given`,
          );
        }
        const target = namespaced ? ref : { ...ref, namespace: undefined };
        for (let round = 1; ; round += 1) {
          await this.request(call, 'read', `${operation} (read it first)`);
          const read = this.world.metadataOf(target);
          if (!read) {
            result.alreadyGone.push(ref);
            break;
          }
          const runLabel = read.labels[RECOVERY_RUN_LABEL];
          if (runLabel !== owner.runId) {
            result.kept.push({ ref, reason: keptReason(runLabel, owner.runId) });
            break;
          }
          await this.request(call, 'write', operation);
          try {
            const { uid, resourceVersion } = read;
            if (this.world.delete(target, call.now(), { uid, resourceVersion })) result.deleted.push(ref);
            else result.alreadyGone.push(ref);
            break;
          } catch (error) {
            const refusal = rejected(operation, error);
            if (!(refusal instanceof KubernetesConflictError) || round === DELETE_ROUNDS) throw refusal;
          }
        }
      }
      return result;
    });
  }

  createPersistentVolumeClaim(
    request: PersistentVolumeClaimRequest,
  ): Promise<{ name: string; created: boolean }> {
    return this.run('createPersistentVolumeClaim', [request], async (call) => {
      const operation = `create PersistentVolumeClaim ${request.namespace}/${request.name}`;
      await this.request(call, 'write', operation);
      try {
        return { name: request.name, created: this.world.createPersistentVolumeClaim(request, call.now()) };
      } catch (error) {
        throw rejected(operation, error);
      }
    });
  }

  jobStatus(input: { namespace: string; name: string }): Promise<JobStatus> {
    return this.run('jobStatus', [input], async (call) => {
      const operation = `read Job ${input.namespace}/${input.name}`;
      await this.request(call, 'read', operation);
      const job = this.world.job(input.namespace, input.name);
      if (!job) throw notFound(operation, 'jobs.batch', input.name);
      return jobStatusAt(job, call.now());
    });
  }

  /** An existing Job of the same name is adopted, so a retried step waits for the first attempt's Job. */
  runJobToCompletion(
    input: { namespace: string; job: KubernetesManifest } & PollingDeadline,
  ): Promise<JobStatus> {
    return this.run('runJobToCompletion', [input], async (call) => {
      const { namespace, job, deadlineMs, pollMs } = input;
      const name = job.metadata.name;
      const operation = `create Job ${namespace}/${name}`;
      await this.request(call, 'write', operation);
      try {
        this.world.createJob(namespace, { ...job, metadata: { ...job.metadata, namespace } }, call.now());
      } catch (error) {
        throw rejected(operation, error);
      }
      return waitUntil(
        call,
        deadlineMs,
        pollMs,
        () => this.jobStatus({ namespace, name }),
        jobCompletion(namespace, name, deadlineMs),
      );
    });
  }

  /** One API request: its round trip, or the request timeout when the endpoint does not answer. */
  private async request(call: SimulatedCall, kind: 'read' | 'write', operation: string): Promise<void> {
    if (!this.world.reachable) {
      await call.spend(KUBERNETES_REQUEST_TIMEOUT_MS);
      throw new KubernetesTimeoutError(
        `${operation}: no answer from the Kubernetes API: no answer within ${KUBERNETES_REQUEST_TIMEOUT_MS} ms`,
      );
    }
    await call.spend(kind === 'read' ? KUBERNETES_READ_MS : KUBERNETES_WRITE_MS);
  }

  private requireWorkload(operation: string, workload: WorkloadRef): WorkloadRecord {
    const record = this.world.workload(workload);
    if (!record) throw notFound(operation, WORKLOAD_RESOURCES[workload.kind], workload.name);
    return record;
  }

  /** Whether the kind is namespaced, from discovery (read once per apiVersion). */
  private async discover(
    call: SimulatedCall,
    operation: string,
    apiVersion: string,
    kind: string,
  ): Promise<boolean> {
    if (!this.discovered.has(apiVersion)) {
      await this.request(call, 'read', `${operation} (discovery of ${apiVersion})`);
      this.discovered.add(apiVersion);
    }
    const type = this.world.resourceType(apiVersion, kind);
    if (!type)
      throw new KubernetesNotFoundError(`${operation}: the cluster serves no ${kind} in ${apiVersion}`);
    return type.namespaced;
  }
}
