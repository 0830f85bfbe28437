/**
 * A pod's evidence as the API server holds it: the pod itself, every container's log tail and the
 * pod's events, read the way `kubectl get pod -o json`, `kubectl logs` and `kubectl get events` do.
 */
// Type-only: client-node's models describe the API's JSON and cost nothing in a bundle. One difference: they
// type timestamps as Date, but the JSON holds RFC 3339 strings — read them only through `new Date(…)`.
import type { CoreV1Event, CoreV1EventList, V1Pod } from '@kubernetes/client-node';
import type { ContainerLog, JsonValue, PodEvidence } from '../../core/operations/cluster';
import { apiPath } from './api-paths';
import { KubernetesApiError, KubernetesNotFoundError } from './errors';
import type { KubernetesTransport } from './kubernetes-transport';

/** An object read from the API, kept for evidence exactly as the API server sent it. */
function asJson(object: V1Pod | CoreV1Event): JsonValue {
  return object as unknown as JsonValue;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function eventTime(event: CoreV1Event): string {
  const time =
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp;
  return time === undefined ? '' : new Date(time).toISOString();
}

/** A pod that is not there is recorded as not found; the evidence of the others still counts. */
export async function podEvidence(
  api: KubernetesTransport,
  namespace: string,
  name: string,
  tailLines: number,
): Promise<PodEvidence> {
  let pod: V1Pod;
  try {
    pod = await api.request<V1Pod>('GET', apiPath('v1', namespace, 'pods', name), {
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
    Promise.all(containers.map((container) => containerLog(api, namespace, name, container, tailLines))),
    api.request<CoreV1EventList>('GET', apiPath('v1', namespace, 'events'), {
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
async function containerLog(
  api: KubernetesTransport,
  namespace: string,
  pod: string,
  container: string,
  tailLines: number,
): Promise<ContainerLog> {
  try {
    const log = await api.requestText('GET', apiPath('v1', namespace, 'pods', pod, 'log'), {
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
