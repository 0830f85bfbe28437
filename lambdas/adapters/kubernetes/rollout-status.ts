/**
 * kubectl's rollout logic, as pure functions of the object: what `kubectl rollout status` would say
 * of a Deployment or StatefulSet. The adapter and the simulated cluster both judge rollouts by it.
 */
// Type-only: client-node's models describe the API's JSON and cost nothing in a bundle.
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { WorkloadStatus } from '../../core/operations/cluster';

export type RolloutVerdict = Pick<WorkloadStatus, 'rolledOut' | 'failed' | 'message'>;

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
