import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  deploymentRolloutVerdict,
  statefulSetRolloutVerdict,
} from '../../../lambdas/adapters/kubernetes/rollout-status';

/** Each branch of kubectl's DeploymentStatusViewer.Status, in its order. */
describe('deploymentRolloutVerdict', () => {
  const deployment = (generation: number, status: V1Deployment['status'], replicas: number | undefined = 3) =>
    ({ metadata: { name: 'api', generation }, spec: { replicas }, status }) as V1Deployment;

  it.each([
    {
      case: 'spec update not yet observed',
      input: deployment(2, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      rolledOut: false,
      message: 'Waiting for deployment spec update to be observed...',
    },
    {
      case: 'too few updated replicas',
      input: deployment(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
      rolledOut: false,
      message: 'Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated...',
    },
    {
      case: 'old replicas still terminating',
      input: deployment(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }),
      rolledOut: false,
      message: 'Waiting for deployment "api" rollout to finish: 1 old replicas are pending termination...',
    },
    {
      case: 'updated replicas not yet available',
      input: deployment(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      rolledOut: false,
      message: 'Waiting for deployment "api" rollout to finish: 2 of 3 updated replicas are available...',
    },
    {
      case: 'done',
      input: deployment(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      rolledOut: true,
      message: 'deployment "api" successfully rolled out',
    },
    {
      case: 'observedGeneration ahead of generation counts as observed',
      input: deployment(2, { observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      rolledOut: true,
      message: 'deployment "api" successfully rolled out',
    },
    {
      case: 'scaled to zero',
      input: deployment(2, { observedGeneration: 2 }, 0),
      rolledOut: true,
      message: 'deployment "api" successfully rolled out',
    },
  ])('$case', ({ input, rolledOut, message }) => {
    expect(deploymentRolloutVerdict(input)).toEqual({ rolledOut, failed: false, message });
  });

  it('fails once the Progressing condition reports ProgressDeadlineExceeded', () => {
    const input = deployment(2, {
      observedGeneration: 2,
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });

    expect(deploymentRolloutVerdict(input)).toEqual({
      rolledOut: false,
      failed: true,
      message: 'deployment "api" exceeded its progress deadline',
    });
  });
});

/** Each branch of kubectl's StatefulSetStatusViewer.Status, in its order. */
describe('statefulSetRolloutVerdict', () => {
  const statefulSet = (
    status: Partial<NonNullable<V1StatefulSet['status']>>,
    updateStrategy: NonNullable<V1StatefulSet['spec']>['updateStrategy'] = { type: 'RollingUpdate' },
    generation = 2,
  ) =>
    ({
      metadata: { name: 'blockchain-node', generation },
      spec: { replicas: 3, updateStrategy },
      status: { replicas: 3, ...status },
    }) as V1StatefulSet;

  it.each([
    {
      case: 'never observed',
      input: statefulSet({ observedGeneration: 0 }, undefined, 0),
      rolledOut: false,
      message: 'Waiting for statefulset spec update to be observed...',
    },
    {
      case: 'spec update not yet observed',
      input: statefulSet({ observedGeneration: 1, readyReplicas: 3 }),
      rolledOut: false,
      message: 'Waiting for statefulset spec update to be observed...',
    },
    {
      case: 'pods not ready',
      input: statefulSet({ observedGeneration: 2, readyReplicas: 1 }),
      rolledOut: false,
      message: 'Waiting for 2 pods to be ready...',
    },
    {
      case: 'partitioned rollout still updating',
      input: statefulSet(
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 },
        { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
      ),
      rolledOut: false,
      message: 'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    },
    {
      case: 'partitioned rollout complete (partition 0 is what the API server defaults)',
      input: statefulSet(
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3 },
        { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      ),
      rolledOut: true,
      message: 'partitioned roll out complete: 3 new pods have been updated...',
    },
    {
      case: 'revisions differ without rollingUpdate',
      input: statefulSet({
        observedGeneration: 2,
        readyReplicas: 3,
        updatedReplicas: 2,
        currentRevision: 'bn-1',
        updateRevision: 'bn-2',
      }),
      rolledOut: false,
      message: 'waiting for statefulset rolling update to complete 2 pods at revision bn-2...',
    },
    {
      case: 'revisions equal without rollingUpdate',
      input: statefulSet({
        observedGeneration: 2,
        readyReplicas: 3,
        currentReplicas: 3,
        currentRevision: 'bn-2',
        updateRevision: 'bn-2',
      }),
      rolledOut: true,
      message: 'statefulset rolling update complete 3 pods at revision bn-2...',
    },
  ])('$case', ({ input, rolledOut, message }) => {
    expect(statefulSetRolloutVerdict(input)).toEqual({ rolledOut, failed: false, message });
  });

  it('cannot track an OnDelete StatefulSet, as kubectl cannot', () => {
    const verdict = statefulSetRolloutVerdict(statefulSet({ observedGeneration: 2 }, { type: 'OnDelete' }));

    expect(verdict).toEqual({
      rolledOut: false,
      failed: true,
      message: 'rollout status is only available for RollingUpdate strategy type',
    });
  });
});
