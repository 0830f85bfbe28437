/**
 * The clean-up of a recovery run's objects: an object is deleted only if, read at that moment, it
 * carries the run's label, and the delete is conditional on the object read being the one deleted
 * (its uid and resourceVersion), so an object replaced or relabelled in between is never removed.
 */
// Type-only: client-node's models describe the API's JSON and cost nothing in a bundle.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DeleteResult, ObjectRef } from '../../core/operations/cluster';
import { RECOVERY_RUN_LABEL } from '../../core/recovery/recovery';
import type { ResourceLocator } from './api-paths';
import { KubernetesConflictError, KubernetesNotFoundError } from './errors';
import type { KubernetesTransport } from './kubernetes-transport';

/**
 * Read-check-delete rounds per object before giving up with the conflict: a precondition fails
 * when the object changed since it was read (a controller's status update does that), and each
 * round reads it afresh.
 */
export const DELETE_ROUNDS = 3;

/** Why an object is not the run's to delete, from the run label it carries (undefined: none). */
export function keptReason(runLabel: string | undefined, runId: string): string {
  return runLabel === undefined
    ? `it carries no ${RECOVERY_RUN_LABEL} label: recovery run ${runId} did not create it`
    : `its ${RECOVERY_RUN_LABEL} label names recovery run ${runLabel}, not ${runId}`;
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}

type Outcome = { deleted: true } | { gone: true } | { kept: string };

/** Deletes in reverse order of `refs`, so what was created last (the dependants) goes first. */
export async function deleteRunObjects(
  api: KubernetesTransport,
  locator: ResourceLocator,
  refs: readonly ObjectRef[],
  runId: string,
): Promise<DeleteResult> {
  const result: DeleteResult = { deleted: [], alreadyGone: [], kept: [] };
  for (const ref of [...refs].reverse()) {
    const outcome = await deleteIfTheRuns(api, locator, ref, runId);
    if ('deleted' in outcome) result.deleted.push(ref);
    else if ('gone' in outcome) result.alreadyGone.push(ref);
    else result.kept.push({ ref, reason: outcome.kept });
  }
  return result;
}

async function deleteIfTheRuns(
  api: KubernetesTransport,
  locator: ResourceLocator,
  ref: ObjectRef,
  runId: string,
): Promise<Outcome> {
  const operation = `delete ${describeRef(ref)}`;
  const { path } = await locator.locate(operation, ref);
  for (let round = 1; ; round += 1) {
    let object: KubernetesObject;
    try {
      object = await api.request<KubernetesObject>('GET', path, {
        operation: `${operation} (read it first)`,
      });
    } catch (error) {
      if (error instanceof KubernetesNotFoundError) return { gone: true };
      throw error;
    }
    const runLabel = object.metadata?.labels?.[RECOVERY_RUN_LABEL];
    if (runLabel !== runId) return { kept: keptReason(runLabel, runId) };
    const { uid, resourceVersion } = object.metadata ?? {};
    try {
      await api.request('DELETE', path, {
        operation,
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          // batch/v1 Jobs orphan their pods by default; kubectl deletes with Background propagation too.
          propagationPolicy: 'Background',
          preconditions: { uid, resourceVersion },
        },
      });
      return { deleted: true };
    } catch (error) {
      if (error instanceof KubernetesNotFoundError) return { gone: true };
      if (!(error instanceof KubernetesConflictError) || round === DELETE_ROUNDS) throw error;
    }
  }
}

/** The run label of each object now: `absent` when it does not exist, `null` when it has none. */
export async function runLabelsOf(
  api: KubernetesTransport,
  locator: ResourceLocator,
  refs: readonly ObjectRef[],
): Promise<(string | null | 'absent')[]> {
  const labels: (string | null | 'absent')[] = [];
  for (const ref of refs) {
    const operation = `read ${describeRef(ref)}`;
    const { path } = await locator.locate(operation, ref);
    try {
      const object = await api.request<KubernetesObject>('GET', path, { operation });
      labels.push(object.metadata?.labels?.[RECOVERY_RUN_LABEL] ?? null);
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
      labels.push('absent');
    }
  }
  return labels;
}
