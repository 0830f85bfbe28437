import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubernetesClusterOperations } from '../../../lambdas/adapters/kubernetes/cluster-operations';
import { QUARANTINE_LABEL } from '../../../lambdas/adapters/kubernetes/cluster-operations';
import {
  JobDeadlineExceededError,
  JobFailedError,
  KubernetesConflictError,
  KubernetesInvalidError,
  KubernetesNotFoundError,
  RolloutDeadlineExceededError,
  RolloutFailedError,
} from '../../../lambdas/adapters/kubernetes/errors';
import { RECOVERY_RUN_LABEL } from '../../../lambdas/core/recovery/recovery';
import { type FakeKubernetesApi, statusReply } from '../../support/fake-kubernetes-api';
import { type fakeTime, NAMESPACE, rolledOutDeployment, startCluster, statefulSet } from './fixtures';

const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`;

let fake: FakeKubernetesApi;
let time: ReturnType<typeof fakeTime>;
let operations: KubernetesClusterOperations;

beforeEach(async () => {
  ({ fake, time, operations } = await startCluster());
});

afterEach(async () => {
  await fake.close();
});

describe('restartWorkload', () => {
  it('merge-patches the restartedAt annotation kubectl rollout restart sets', async () => {
    fake.seed(rolledOutDeployment('api-gateway'));

    const result = await operations.restartWorkload({
      namespace: NAMESPACE,
      kind: 'Deployment',
      name: 'api-gateway',
    });

    expect(result).toEqual({ generation: 2, restartedAt: '2026-11-05T10:00:00Z' });
    const [patch] = fake.requestsFor('PATCH', `${DEPLOYMENTS}/api-gateway`);
    expect(patch?.contentType).toBe('application/merge-patch+json');
    expect(patch?.authorization).toBe('Bearer fake-token');
    expect(patch?.query).toEqual({ fieldManager: 'aor' });
    expect(patch?.body).toEqual({
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-05T10:00:00Z' } },
        },
      },
    });
  });

  it('restarts a StatefulSet through its own endpoint', async () => {
    fake.seed(statefulSet('blockchain-node'));

    const result = await operations.restartWorkload({
      namespace: NAMESPACE,
      kind: 'StatefulSet',
      name: 'blockchain-node',
    });

    expect(result.generation).toBe(2);
    expect(
      fake.requestsFor('PATCH', `/apis/apps/v1/namespaces/${NAMESPACE}/statefulsets/blockchain-node`),
    ).toHaveLength(1);
    const stored = fake.object('apps/v1', 'StatefulSet', NAMESPACE, 'blockchain-node');
    expect(stored).toMatchObject({
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-05T10:00:00Z' } },
        },
      },
    });
  });
});

describe('workloadStatus', () => {
  it('reports the counts and that a restarted Deployment is not rolled out until its generation is observed', async () => {
    fake.seed(rolledOutDeployment('api-gateway'));
    await operations.restartWorkload({ namespace: NAMESPACE, kind: 'Deployment', name: 'api-gateway' });

    const status = await operations.workloadStatus({
      namespace: NAMESPACE,
      kind: 'Deployment',
      name: 'api-gateway',
    });

    expect(status).toEqual({
      namespace: NAMESPACE,
      kind: 'Deployment',
      name: 'api-gateway',
      generation: 2,
      observedGeneration: 1,
      desiredReplicas: 3,
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
      currentRevision: null,
      updateRevision: null,
      rolledOut: false,
      failed: false,
      message: 'Waiting for deployment spec update to be observed...',
    });
  });

  it('reads StatefulSet revisions', async () => {
    fake.seed(statefulSet('blockchain-node'));

    const status = await operations.workloadStatus({
      namespace: NAMESPACE,
      kind: 'StatefulSet',
      name: 'blockchain-node',
    });

    expect(status).toMatchObject({
      rolledOut: true,
      currentRevision: 'blockchain-node-1',
      updateRevision: 'blockchain-node-1',
      readyReplicas: 3,
    });
  });
});

describe('waitForRollout', () => {
  const workload = { namespace: NAMESPACE, kind: 'Deployment', name: 'api-gateway' } as const;

  beforeEach(() => {
    fake.seed({ ...rolledOutDeployment('api-gateway'), status: { observedGeneration: 1, replicas: 3 } });
  });

  it('polls until the Deployment becomes ready, sleeping pollMs in between', async () => {
    fake.intercept('GET', `${DEPLOYMENTS}/api-gateway`, (_request, call) => {
      if (call === 3)
        fake.update('apps/v1', 'Deployment', NAMESPACE, 'api-gateway', rolledOutDeployment('api-gateway'));
      return undefined;
    });

    const status = await operations.waitForRollout({ ...workload, deadlineMs: 60_000, pollMs: 2_000 });

    expect(status.rolledOut).toBe(true);
    expect(fake.requestsFor('GET', `${DEPLOYMENTS}/api-gateway`)).toHaveLength(3);
    expect(time.sleeps).toEqual([2_000, 2_000]);
  });

  it('gives up with RolloutDeadlineExceededError carrying the last status, never sleeping past the deadline', async () => {
    const wait = operations.waitForRollout({ ...workload, deadlineMs: 10_000, pollMs: 2_000 });

    await expect(wait).rejects.toBeInstanceOf(RolloutDeadlineExceededError);
    const error = (await wait.catch((e: unknown) => e)) as RolloutDeadlineExceededError;
    expect(error.name).toBe('RolloutDeadlineExceededError');
    expect(error.lastStatus).toMatchObject({ rolledOut: false, updatedReplicas: 0 });
    expect(error.message).toContain('0 out of 3 new replicas have been updated');
    // Polls at 0, 2, … 10 s: the last one exactly at the deadline, then no sleep beyond it.
    expect(fake.requestsFor('GET', `${DEPLOYMENTS}/api-gateway`)).toHaveLength(6);
    expect(time.sleeps).toEqual([2_000, 2_000, 2_000, 2_000, 2_000]);
  });

  it('treats a 503 while polling as a missed poll, not a failed rollout', async () => {
    fake.intercept('GET', `${DEPLOYMENTS}/api-gateway`, (_request, call) => {
      if (call === 1) return statusReply(503, 'etcd leader changed');
      fake.update('apps/v1', 'Deployment', NAMESPACE, 'api-gateway', rolledOutDeployment('api-gateway'));
      return undefined;
    });

    const status = await operations.waitForRollout({ ...workload, deadlineMs: 60_000, pollMs: 1_000 });

    expect(status.rolledOut).toBe(true);
    expect(time.sleeps).toEqual([1_000]);
  });

  it('fails at once when the Deployment exceeded its progress deadline', async () => {
    fake.update('apps/v1', 'Deployment', NAMESPACE, 'api-gateway', {
      status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] },
    });

    const wait = operations.waitForRollout({ ...workload, deadlineMs: 60_000, pollMs: 1_000 });

    await expect(wait).rejects.toBeInstanceOf(RolloutFailedError);
    await expect(wait).rejects.toThrow('deployment "api-gateway" exceeded its progress deadline');
    expect(time.sleeps).toEqual([]);
  });
});

describe('scaleWorkload and currentReplicas', () => {
  it('merge-patches spec.replicas on the scale subresource and reports the previous count', async () => {
    fake.seed(rolledOutDeployment('api-gateway', 3));

    const result = await operations.scaleWorkload({
      namespace: NAMESPACE,
      kind: 'Deployment',
      name: 'api-gateway',
      replicas: 5,
    });

    expect(result).toEqual({ previousReplicas: 3, replicas: 5 });
    const [patch] = fake.requestsFor('PATCH', `${DEPLOYMENTS}/api-gateway/scale`);
    expect(patch?.contentType).toBe('application/merge-patch+json');
    expect(patch?.body).toEqual({ spec: { replicas: 5 } });
    expect(
      await operations.currentReplicas({ namespace: NAMESPACE, kind: 'Deployment', name: 'api-gateway' }),
    ).toBe(5);
  });

  it('scales a StatefulSet through its scale subresource', async () => {
    fake.seed(statefulSet('blockchain-node', 3));

    await operations.scaleWorkload({
      namespace: NAMESPACE,
      kind: 'StatefulSet',
      name: 'blockchain-node',
      replicas: 4,
    });

    expect(
      fake.requestsFor('GET', `/apis/apps/v1/namespaces/${NAMESPACE}/statefulsets/blockchain-node/scale`),
    ).toHaveLength(1);
    expect(fake.object('apps/v1', 'StatefulSet', NAMESPACE, 'blockchain-node')).toMatchObject({
      spec: { replicas: 4 },
    });
  });
});

describe('readyPeerEndpoints', () => {
  it("counts the service's pods once across dual-stack slices, treating an unset ready condition as ready", async () => {
    const slice = (name: string, service: string, addresses: string[]) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': service } },
      addressType: addresses[0]?.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [
        {
          addresses: [addresses[0]],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: 'blockchain-node-0' },
        },
        {
          addresses: [addresses[1]],
          conditions: { ready: false },
          targetRef: { kind: 'Pod', name: 'blockchain-node-1' },
        },
        { addresses: [addresses[2]], conditions: {}, targetRef: { kind: 'Pod', name: 'blockchain-node-2' } },
      ],
    });
    fake.seed(
      slice('blockchain-service-ipv4', 'blockchain-service', ['10.0.0.1', '10.0.0.2', '10.0.0.3']),
      slice('blockchain-service-ipv6', 'blockchain-service', ['fd00::1', 'fd00::2', 'fd00::3']),
      slice('other-service-abc', 'other-service', ['10.0.1.1', '10.0.1.2', '10.0.1.3']),
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'blockchain-service-empty',
          namespace: NAMESPACE,
          labels: { 'kubernetes.io/service-name': 'blockchain-service' },
        },
        addressType: 'IPv4',
        endpoints: null,
      },
    );

    const peers = await operations.readyPeerEndpoints({
      namespace: NAMESPACE,
      service: 'blockchain-service',
    });

    expect(peers).toEqual({
      service: 'blockchain-service',
      ready: 2,
      notReady: 1,
      readyPods: ['blockchain-node-0', 'blockchain-node-2'],
      notReadyPods: ['blockchain-node-1'],
    });
    const [list] = fake.requestsFor(
      'GET',
      `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`,
    );
    expect(list?.query.labelSelector).toBe('kubernetes.io/service-name=blockchain-service');
  });
});

describe('listPods', () => {
  it('passes the label selector and summarises each pod', async () => {
    fake.seed(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'blockchain-node-1', namespace: NAMESPACE, labels: { app: 'blockchain-node' } },
        spec: { nodeName: 'ip-10-0-0-7', containers: [{ name: 'peer' }] },
        status: {
          phase: 'Running',
          podIP: '10.0.0.12',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [{ name: 'peer', restartCount: 4, ready: false, image: 'peer', imageID: '' }],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'blockchain-node-0', namespace: NAMESPACE, labels: { app: 'blockchain-node' } },
        spec: { containers: [{ name: 'peer' }] },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'api-gateway-x', namespace: NAMESPACE, labels: { app: 'api-gateway' } },
        spec: { containers: [{ name: 'api' }] },
      },
    );

    const pods = await operations.listPods({ namespace: NAMESPACE, labelSelector: 'app=blockchain-node' });

    expect(pods).toEqual([
      {
        name: 'blockchain-node-0',
        phase: 'Running',
        ready: true,
        restarts: 0,
        nodeName: null,
        podIP: null,
        labels: { app: 'blockchain-node' },
      },
      {
        name: 'blockchain-node-1',
        phase: 'Running',
        ready: false,
        restarts: 4,
        nodeName: 'ip-10-0-0-7',
        podIP: '10.0.0.12',
        labels: { app: 'blockchain-node' },
      },
    ]);
    expect(fake.requestsFor('GET', `/api/v1/namespaces/${NAMESPACE}/pods`)[0]?.query.labelSelector).toBe(
      'app=blockchain-node',
    );
  });
});

describe('isolatePods', () => {
  const pod = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'api-gateway' } },
    spec: { containers: [{ name: 'api' }] },
  });

  it('creates a deny-all NetworkPolicy for the quarantine label, then labels each pod by merge patch', async () => {
    fake.seed(pod('api-gateway-a'), pod('api-gateway-b'));

    const result = await operations.isolatePods({
      namespace: NAMESPACE,
      podNames: ['api-gateway-a', 'api-gateway-b'],
      incidentId: 'INC-20261105-0001',
    });

    expect(result).toEqual({
      networkPolicyName: 'aor-quarantine-inc-20261105-0001',
      networkPolicyCreated: true,
      isolatedPods: ['api-gateway-a', 'api-gateway-b'],
    });
    const [create] = fake.requestsFor(
      'POST',
      `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`,
    );
    expect(create?.body).toMatchObject({
      metadata: { name: 'aor-quarantine-inc-20261105-0001' },
      spec: {
        podSelector: { matchLabels: { [QUARANTINE_LABEL]: 'INC-20261105-0001' } },
        policyTypes: ['Ingress', 'Egress'],
      },
    });
    // No ingress or egress rules at all: with both policy types that denies everything.
    expect(create?.body).not.toHaveProperty('spec.ingress');
    expect(create?.body).not.toHaveProperty('spec.egress');
    const labelPatches = fake.requestsFor('PATCH', new RegExp(`^/api/v1/namespaces/${NAMESPACE}/pods/`));
    expect(labelPatches.map((r) => [r.path, r.contentType, r.body])).toEqual(
      ['api-gateway-a', 'api-gateway-b'].map((name) => [
        `/api/v1/namespaces/${NAMESPACE}/pods/${name}`,
        'application/merge-patch+json',
        { metadata: { labels: { [QUARANTINE_LABEL]: 'INC-20261105-0001' } } },
      ]),
    );
    expect(fake.object('v1', 'Pod', NAMESPACE, 'api-gateway-a')).toMatchObject({
      metadata: { labels: { app: 'api-gateway', [QUARANTINE_LABEL]: 'INC-20261105-0001' } },
    });
    // The policy is in place before any pod carries the label.
    const order = fake.requests.filter((r) => r.method !== 'GET').map((r) => r.method);
    expect(order).toEqual(['POST', 'PATCH', 'PATCH']);
  });

  it('keeps an existing policy when run again for the same incident', async () => {
    fake.seed(pod('api-gateway-a'));
    const input = { namespace: NAMESPACE, podNames: ['api-gateway-a'], incidentId: 'INC-1' };
    await operations.isolatePods(input);

    const again = await operations.isolatePods(input);

    expect(again.networkPolicyCreated).toBe(false);
    expect(fake.requestsFor('PATCH', `/api/v1/namespaces/${NAMESPACE}/pods/api-gateway-a`)).toHaveLength(2);
  });
});

describe('captureForensics', () => {
  beforeEach(() => {
    fake.seed(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'api-gateway-a', namespace: NAMESPACE },
        spec: { initContainers: [{ name: 'migrate' }], containers: [{ name: 'api' }, { name: 'envoy' }] },
        status: { phase: 'Running' },
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'api-gateway-a.2', namespace: NAMESPACE },
        involvedObject: { kind: 'Pod', name: 'api-gateway-a', namespace: NAMESPACE },
        reason: 'Killing',
        lastTimestamp: '2026-11-05T09:59:00Z',
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'api-gateway-a.1', namespace: NAMESPACE },
        involvedObject: { kind: 'Pod', name: 'api-gateway-a', namespace: NAMESPACE },
        reason: 'Started',
        lastTimestamp: '2026-11-05T09:00:00Z',
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'other.1', namespace: NAMESPACE },
        involvedObject: { kind: 'Pod', name: 'other', namespace: NAMESPACE },
        reason: 'Started',
      },
    );
    fake.setLog(NAMESPACE, 'api-gateway-a', 'migrate', 'migrated\n');
    fake.setLog(NAMESPACE, 'api-gateway-a', 'api', 'line 1\nline 2\nline 3\n');
  });

  it("collects the pod, every container's log tail and the pod's events, deterministically", async () => {
    fake.intercept('GET', `/api/v1/namespaces/${NAMESPACE}/pods/api-gateway-a/log`, (request) =>
      request.query.container === 'envoy'
        ? statusReply(400, 'container "envoy" is waiting to start')
        : undefined,
    );

    const bundle = await operations.captureForensics({
      namespace: NAMESPACE,
      podNames: ['gone-pod', 'api-gateway-a'],
      tailLines: 2,
    });

    expect(bundle).toMatchObject({
      namespace: NAMESPACE,
      capturedAt: '2026-11-05T10:00:00.123Z',
      tailLines: 2,
    });
    expect(bundle.pods.map((p) => [p.name, p.found])).toEqual([
      ['api-gateway-a', true],
      ['gone-pod', false],
    ]);
    const [evidence] = bundle.pods;
    expect(evidence?.pod).toMatchObject({
      metadata: { name: 'api-gateway-a' },
      status: { phase: 'Running' },
    });
    expect(evidence?.logs).toEqual([
      { container: 'migrate', log: 'migrated\n', error: null },
      { container: 'api', log: 'line 2\nline 3\n', error: null },
      {
        container: 'envoy',
        log: null,
        error: expect.stringContaining(
          'KubernetesApiError: read log of phoenix-rooivalk/api-gateway-a/envoy: container "envoy" is waiting to start',
        ),
      },
    ]);
    expect(evidence?.events.map((e) => (e as { reason: string }).reason)).toEqual(['Started', 'Killing']);
    const logReads = fake.requestsFor('GET', `/api/v1/namespaces/${NAMESPACE}/pods/api-gateway-a/log`);
    expect(
      logReads.map((r) => r.query).sort((a, b) => String(a.container).localeCompare(String(b.container))),
    ).toEqual([
      { container: 'api', tailLines: '2' },
      { container: 'envoy', tailLines: '2' },
      { container: 'migrate', tailLines: '2' },
    ]);
    const [events] = fake.requestsFor('GET', `/api/v1/namespaces/${NAMESPACE}/events`);
    expect(events?.query.fieldSelector).toBe('involvedObject.kind=Pod,involvedObject.name=api-gateway-a');

    const again = await operations.captureForensics({
      namespace: NAMESPACE,
      podNames: ['api-gateway-a', 'gone-pod'],
      tailLines: 2,
    });
    expect(JSON.stringify(again)).toBe(JSON.stringify(bundle));
  });
});

describe('storageClassExists and clusterReachable', () => {
  it('answers true for an existing StorageClass and false on 404', async () => {
    fake.seed({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'gp3-encrypted' } });

    expect(await operations.storageClassExists('gp3-encrypted')).toBe(true);
    expect(await operations.storageClassExists('gp2')).toBe(false);
    expect(fake.requestsFor('GET', '/apis/storage.k8s.io/v1/storageclasses/gp2')).toHaveLength(1);
  });

  it('is reachable when /version answers, unreachable on 503, and throws on 403', async () => {
    expect(await operations.clusterReachable()).toBe(true);

    fake.fail('GET', '/version', 503, 'apiserver is shutting down');
    expect(await operations.clusterReachable()).toBe(false);

    fake.fail('GET', '/version', 403, 'forbidden: User "aor" cannot get path "/version"');
    await expect(operations.clusterReachable()).rejects.toMatchObject({ name: 'KubernetesForbiddenError' });
  });
});

describe('applyManifests', () => {
  const manifests = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'blockchain-config' },
      data: { PEER: 'blockchain-node-0' },
    },
    rolledOutDeployment('blockchain-node') as never,
  ];

  it('server-side applies each manifest in order with fieldManager and force, defaulting the namespace', async () => {
    const input = structuredClone(manifests);

    const refs = await operations.applyManifests({
      namespace: NAMESPACE,
      manifests: input,
      fieldManager: 'aor',
    });

    expect(refs).toEqual([
      { apiVersion: 'v1', kind: 'Namespace', name: NAMESPACE },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'blockchain-config', namespace: NAMESPACE },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'blockchain-node', namespace: NAMESPACE },
    ]);
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.path, r.contentType, r.query])).toEqual(
      [
        `/api/v1/namespaces/${NAMESPACE}`,
        `/api/v1/namespaces/${NAMESPACE}/configmaps/blockchain-config`,
        `${DEPLOYMENTS}/blockchain-node`,
      ].map((path) => [path, 'application/apply-patch+yaml', { fieldManager: 'aor', force: 'true' }]),
    );
    expect(patches[1]?.body).toMatchObject({
      metadata: { namespace: NAMESPACE },
      data: { PEER: 'blockchain-node-0' },
    });
    expect(fake.object('v1', 'ConfigMap', NAMESPACE, 'blockchain-config')).toMatchObject({
      data: { PEER: 'blockchain-node-0' },
    });
    expect(input).toEqual(manifests);
    // Discovery once per apiVersion, as kubectl caches it.
    expect(fake.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([
      '/api/v1',
      '/apis/apps/v1',
    ]);
  });

  it('refuses a kind the cluster does not serve with KubernetesNotFoundError, sending no patch', async () => {
    const widget = { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' } };

    const error = await operations
      .applyManifests({ namespace: NAMESPACE, manifests: [widget] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesNotFoundError);
    expect((error as Error).message).toBe(`apply Widget ${NAMESPACE}/w: the cluster serves no Widget in v1`);
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });
});

describe('deleteObjects: only what the run created, only the object read', () => {
  const RUN = 'DR-20261105T100000Z-a1b2c3';
  const CONFIG_MAPS = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
  const labelled = (name: string, runLabel?: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: NAMESPACE,
      ...(runLabel === undefined ? {} : { labels: { [RECOVERY_RUN_LABEL]: runLabel } }),
    },
  });
  const ref = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: NAMESPACE });
  const deletes = () => fake.requests.filter((r) => r.method === 'DELETE');

  it('refuses a namespaced reference that names no namespace, deleting nothing', async () => {
    const error = await operations
      .deleteObjects([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'blockchain-config' }], { runId: RUN })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesInvalidError);
    expect(deletes()).toEqual([]);
  });

  it('deletes, in reverse order, what carries the run label, each conditional on the uid and resourceVersion read', async () => {
    const [first, second] = fake.seed(labelled('first', RUN), labelled('second', RUN));
    const refs = [ref('first'), ref('never-there'), ref('second')];

    const result = await operations.deleteObjects(refs, { runId: RUN });

    expect(result).toEqual({ deleted: [refs[2], refs[0]], alreadyGone: [refs[1]], kept: [] });
    expect(deletes().map((r) => [r.path, r.body])).toEqual(
      [second, first].map((object) => [
        `${CONFIG_MAPS}/${String((object?.metadata as { name: string }).name)}`,
        {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Background',
          preconditions: {
            uid: (object?.metadata as { uid: string }).uid,
            resourceVersion: (object?.metadata as { resourceVersion: string }).resourceVersion,
          },
        },
      ]),
    );
    expect(fake.object('v1', 'ConfigMap', NAMESPACE, 'first')).toBeUndefined();
  });

  it('keeps what carries no run label or another run’s, and says why', async () => {
    fake.seed(labelled('operator-made'), labelled('older-run', 'DR-20261001T000000Z-ffffff'));

    const result = await operations.deleteObjects([ref('operator-made'), ref('older-run')], { runId: RUN });

    expect(result.deleted).toEqual([]);
    expect(result.kept).toEqual([
      {
        ref: ref('older-run'),
        reason: `its ${RECOVERY_RUN_LABEL} label names recovery run DR-20261001T000000Z-ffffff, not ${RUN}`,
      },
      {
        ref: ref('operator-made'),
        reason: `it carries no ${RECOVERY_RUN_LABEL} label: recovery run ${RUN} did not create it`,
      },
    ]);
    expect(deletes()).toEqual([]);
    expect(fake.object('v1', 'ConfigMap', NAMESPACE, 'operator-made')).toBeDefined();
  });

  it('keeps an object replaced between its read and its delete: the uid precondition fails, the new one is read', async () => {
    fake.seed(labelled('config', RUN));
    // Someone deletes the run's ConfigMap and creates their own of the same name just before the delete lands.
    fake.intercept('DELETE', `${CONFIG_MAPS}/config`, (_request, call) => {
      if (call === 1) fake.seed(labelled('config'));
      return undefined;
    });

    const result = await operations.deleteObjects([ref('config')], { runId: RUN });

    expect(deletes().map((r) => r.path)).toEqual([`${CONFIG_MAPS}/config`]);
    expect(result.kept.map((kept) => kept.reason)).toEqual([
      `it carries no ${RECOVERY_RUN_LABEL} label: recovery run ${RUN} did not create it`,
    ]);
    expect(fake.object('v1', 'ConfigMap', NAMESPACE, 'config')).toBeDefined();
  });

  it('keeps an object relabelled between its read and its delete: the resourceVersion precondition fails', async () => {
    const [stored] = fake.seed(labelled('config', RUN));
    const uid = (stored?.metadata as { uid: string }).uid;
    fake.intercept('DELETE', `${CONFIG_MAPS}/config`, (_request, call) => {
      if (call === 1) {
        const taken = labelled('config', 'DR-20261105T101500Z-999999');
        fake.seed({ ...taken, metadata: { ...taken.metadata, uid } });
      }
      return undefined;
    });

    const result = await operations.deleteObjects([ref('config')], { runId: RUN });

    expect(result.deleted).toEqual([]);
    expect(result.kept[0]?.reason).toContain('names recovery run DR-20261105T101500Z-999999');
  });

  it('counts an object deleted by someone else in between as already gone', async () => {
    fake.seed(labelled('config', RUN));
    fake.fail('DELETE', `${CONFIG_MAPS}/config`, 404, 'configmaps "config" not found');

    expect(await operations.deleteObjects([ref('config')], { runId: RUN })).toEqual({
      deleted: [],
      alreadyGone: [ref('config')],
      kept: [],
    });
  });

  it('gives up with KubernetesConflictError when the object keeps changing under it', async () => {
    fake.seed(labelled('config', RUN));
    fake.fail('DELETE', `${CONFIG_MAPS}/config`, 409, 'Operation cannot be fulfilled', 'Conflict');

    const error = await operations.deleteObjects([ref('config')], { runId: RUN }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesConflictError);
    expect(deletes()).toHaveLength(3);
    expect(fake.requestsFor('GET', `${CONFIG_MAPS}/config`)).toHaveLength(3);
  });
});

describe('createPersistentVolumeClaim', () => {
  it('creates the claim the DR restore writes into, and keeps an existing one', async () => {
    const request = {
      namespace: NAMESPACE,
      name: 'blockchain-data-restore',
      storageClassName: 'gp3-encrypted',
      storage: '500Gi',
    };

    expect(await operations.createPersistentVolumeClaim(request)).toEqual({
      name: 'blockchain-data-restore',
      created: true,
    });
    expect(await operations.createPersistentVolumeClaim(request)).toEqual({
      name: 'blockchain-data-restore',
      created: false,
    });

    const [create] = fake.requestsFor('POST', `/api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims`);
    expect(create?.body).toMatchObject({
      metadata: { name: 'blockchain-data-restore', namespace: NAMESPACE },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'gp3-encrypted',
        resources: { requests: { storage: '500Gi' } },
      },
    });
  });
});

describe('runJobToCompletion', () => {
  const JOBS = `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`;
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'blockchain-restore-20261105' },
    spec: {
      backoffLimit: 2,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'restore', image: 'aws-cli' }] } },
    },
  };
  const finish = (condition: Record<string, unknown>, counts: Record<string, number>) => () => {
    fake.update('batch/v1', 'Job', NAMESPACE, job.metadata.name, {
      status: { ...counts, conditions: [{ status: 'True', ...condition }] },
    });
    return undefined;
  };

  it('creates the Job and waits for its Complete condition', async () => {
    fake.intercept('GET', `${JOBS}/${job.metadata.name}/status`, (_request, call) =>
      call === 3 ? finish({ type: 'Complete' }, { succeeded: 1 })() : undefined,
    );

    const status = await operations.runJobToCompletion({
      namespace: NAMESPACE,
      job,
      deadlineMs: 600_000,
      pollMs: 5_000,
    });

    expect(status).toEqual({
      namespace: NAMESPACE,
      name: job.metadata.name,
      state: 'complete',
      active: 0,
      succeeded: 1,
      failed: 0,
      message: null,
    });
    const [create] = fake.requestsFor('POST', JOBS);
    expect(create?.body).toMatchObject({
      metadata: { name: job.metadata.name, namespace: NAMESPACE },
      spec: job.spec,
    });
    expect(time.sleeps).toEqual([5_000, 5_000]);
  });

  it('throws JobFailedError with the Failed condition', async () => {
    fake.intercept(
      'GET',
      `${JOBS}/${job.metadata.name}/status`,
      finish(
        {
          type: 'Failed',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
        { failed: 3 },
      ),
    );

    const run = operations.runJobToCompletion({
      namespace: NAMESPACE,
      job,
      deadlineMs: 600_000,
      pollMs: 5_000,
    });

    await expect(run).rejects.toBeInstanceOf(JobFailedError);
    await expect(run).rejects.toThrow('BackoffLimitExceeded: Job has reached the specified backoff limit');
  });

  it('adopts a Job an earlier attempt created, and gives up at the deadline', async () => {
    fake.seed({ ...job, metadata: { ...job.metadata, namespace: NAMESPACE }, status: { active: 1 } });

    const run = operations.runJobToCompletion({
      namespace: NAMESPACE,
      job,
      deadlineMs: 20_000,
      pollMs: 5_000,
    });

    await expect(run).rejects.toBeInstanceOf(JobDeadlineExceededError);
    const error = (await run.catch((e: unknown) => e)) as JobDeadlineExceededError;
    expect(error.lastStatus).toMatchObject({ state: 'running', active: 1 });
    expect(fake.requestsFor('POST', JOBS)).toHaveLength(1);
    expect(time.sleeps).toEqual([5_000, 5_000, 5_000, 5_000]);
  });
});
