/**
 * Where an object lives in the Kubernetes API: REST paths, and the discovery that turns a manifest's
 * kind into its resource and scope, as kubectl does it.
 */
// Type-only: client-node's models describe the API's JSON and cost nothing in a bundle.
import type { V1APIResource, V1APIResourceList } from '@kubernetes/client-node';
import type { ObjectRef, WorkloadKind, WorkloadRef } from '../../core/operations/cluster';
import { KubernetesInvalidError, KubernetesNotFoundError } from './errors';
import type { KubernetesTransport } from './kubernetes-transport';

const WORKLOAD_RESOURCES: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
};

/** `/api/v1/namespaces/<ns>/pods/<name>/log` and the like, every segment after the apiVersion URL-encoded. */
export function apiPath(apiVersion: string, namespace: string | undefined, ...segments: string[]): string {
  const root = apiVersion.includes('/') ? 'apis' : 'api';
  const scope = namespace === undefined ? [] : ['namespaces', namespace];
  return ['', root, apiVersion, ...[...scope, ...segments].map(encodeURIComponent)].join('/');
}

export function workloadPath({ namespace, kind, name }: WorkloadRef, ...subresource: string[]): string {
  return apiPath('apps/v1', namespace, WORKLOAD_RESOURCES[kind], name, ...subresource);
}

export interface ObjectLocation {
  path: string;
  /** Undefined for a cluster-scoped object. */
  namespace: string | undefined;
}

/** Finds objects' URLs through discovery, whose resource lists it caches by apiVersion, as kubectl does. */
export class ResourceLocator {
  private readonly discovered = new Map<string, V1APIResource[]>();

  constructor(private readonly api: KubernetesTransport) {}

  /**
   * An object's URL: discovery says the kind's resource name and whether it is namespaced. A
   * namespaced object that names no namespace goes into `defaultNamespace`.
   */
  async locate(operation: string, ref: ObjectRef, defaultNamespace?: string): Promise<ObjectLocation> {
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
}
