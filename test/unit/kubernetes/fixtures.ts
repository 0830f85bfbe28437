import { KubernetesClusterOperations } from '../../../lambdas/adapters/kubernetes/cluster-operations';
import { FakeKubernetesApi, type JsonObject } from '../../support/fake-kubernetes-api';

export const NAMESPACE = 'phoenix-rooivalk';

/** 2026-11-05T10:00:00.123Z: the milliseconds show that restartedAt drops them, as kubectl does. */
export const START = Date.parse('2026-11-05T10:00:00.123Z');

/** A clock that only moves when the code under test sleeps. */
export function fakeTime(start = START) {
  const time = { now: start, sleeps: [] as number[] };
  return {
    sleeps: time.sleeps,
    now: () => time.now,
    sleep: async (ms: number) => {
      time.sleeps.push(ms);
      time.now += ms;
    },
  };
}

export function rolledOutDeployment(name: string, replicas = 3): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE, generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } } },
    },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    },
  };
}

export function statefulSet(name: string, replicas = 3): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NAMESPACE, generation: 1 },
    spec: {
      replicas,
      serviceName: name,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: { metadata: { labels: { app: name } } },
    },
    status: {
      observedGeneration: 1,
      replicas,
      readyReplicas: replicas,
      updatedReplicas: replicas,
      currentReplicas: replicas,
      availableReplicas: replicas,
      currentRevision: `${name}-1`,
      updateRevision: `${name}-1`,
    },
  };
}

export async function startCluster(options: { requestTimeoutMs?: number } = {}) {
  const fake = await FakeKubernetesApi.start();
  const time = fakeTime();
  const operations = new KubernetesClusterOperations(fake.connection(), { ...time, ...options });
  return { fake, time, operations };
}
