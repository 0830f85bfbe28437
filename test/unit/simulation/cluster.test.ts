import { describe, expect, it } from 'vitest';
import { QUARANTINE_LABEL } from '../../../lambdas/adapters/kubernetes/cluster-operations';
import {
  JobDeadlineExceededError,
  JobFailedError,
  KubernetesApiError,
  KubernetesInvalidError,
  KubernetesNotFoundError,
  KubernetesTimeoutError,
  RolloutDeadlineExceededError,
  RolloutFailedError,
} from '../../../lambdas/adapters/kubernetes/errors';
import type { KubernetesManifest, WorkloadRef } from '../../../lambdas/core/operations/cluster';
import { RECOVERY_RUN_LABEL } from '../../../lambdas/core/recovery/recovery';
import {
  BLOCKCHAIN_NODE_STARTUP_MS,
  BLOCKCHAIN_NODE_TERMINATION_MS,
  CONTROLLER_REACTION_MS,
  DEPLOYMENT_PROGRESS_DEADLINE_MS,
  JOB_POD_STARTUP_MS,
  KUBERNETES_READ_MS,
  KUBERNETES_REQUEST_TIMEOUT_MS,
  KUBERNETES_WRITE_MS,
  PHOENIX_API_STARTUP_MS,
  POD_READY_JITTER_MS,
  S3_SYNC_BYTES_PER_SECOND,
} from '../../../local/simulation/durations';
import { IRSA_ROLE_ANNOTATION } from '../../../local/simulation/kubernetes-jobs';
import { SimulatedClock } from '../../../local/workflow/clock';
import { API, BLOCKCHAIN, MINUTE, NAMESPACE, POOLER, phoenixRooivalk, thrown } from './fixtures';

const POLL = { deadlineMs: 600_000, pollMs: 1_000 };
const RUN = 'DR-20261123T040000Z-test01';

/** The manifest labelled as a recovery run's, as the run's builders label what it creates. */
function ranBy(runId: string, manifest: KubernetesManifest): KubernetesManifest {
  const labels = (manifest.metadata.labels as Record<string, string> | undefined) ?? {};
  return {
    ...manifest,
    metadata: { ...manifest.metadata, labels: { ...labels, [RECOVERY_RUN_LABEL]: runId } },
  };
}

/** Samples the workload's status every second over a span, without spending anyone's time. */
function samples(
  platform: ReturnType<typeof phoenixRooivalk>['platform'],
  ref: WorkloadRef,
  from: number,
  ms: number,
) {
  const workload = platform.kubernetes.workload(ref);
  if (!workload) throw new Error(`no ${ref.name}`);
  return Array.from({ length: ms / 1000 + 1 }, (_, second) => {
    const t = from + second * 1000;
    const pods = platform.kubernetes.podsAt(ref.namespace, t).filter((pod) => pod.workload === workload);
    return { ...platform.kubernetes.workloadStatus(workload, t), existing: pods.length };
  });
}

describe('simulated cluster: the default world', () => {
  it('runs the workloads the incident-response defaults name, all ready', async () => {
    const { ports } = phoenixRooivalk();
    const pods = await ports.cluster.listPods({ namespace: NAMESPACE });
    const names = pods.map((pod) => pod.name);
    expect(names.filter((name) => name.startsWith('blockchain-node-'))).toEqual([
      'blockchain-node-0',
      'blockchain-node-1',
      'blockchain-node-2',
    ]);
    expect(names.filter((name) => /^phoenix-api-[a-z0-9]{10}-[a-z0-9]{5}$/.test(name))).toHaveLength(4);
    expect(names.filter((name) => name.startsWith('pgbouncer-'))).toHaveLength(2);
    expect(pods.every((pod) => pod.ready && pod.phase === 'Running' && pod.podIP !== null)).toBe(true);
    expect(await ports.cluster.currentReplicas(API)).toBe(4);
    expect(await ports.cluster.currentReplicas(POOLER)).toBe(2);
    expect(
      await ports.cluster.readyPeerEndpoints({ namespace: NAMESPACE, service: 'blockchain-peer' }),
    ).toEqual({
      service: 'blockchain-peer',
      ready: 3,
      notReady: 0,
      readyPods: ['blockchain-node-0', 'blockchain-node-1', 'blockchain-node-2'],
      notReadyPods: [],
    });
    const status = await ports.cluster.workloadStatus(BLOCKCHAIN);
    expect(status).toMatchObject({ desiredReplicas: 3, readyReplicas: 3, rolledOut: true, failed: false });
    expect(status.currentRevision).toBe(status.updateRevision);
    expect(await ports.cluster.clusterReachable()).toBe(true);
    expect(await ports.cluster.storageClassExists('gp3-encrypted')).toBe(true);
    expect(await ports.cluster.storageClassExists('gp2')).toBe(false);
  });

  it('filters pods by label selector and answers 400 for one it cannot parse', async () => {
    const { ports } = phoenixRooivalk();
    const selected = await ports.cluster.listPods({
      namespace: NAMESPACE,
      labelSelector: 'app in (pgbouncer, blockchain-node),apps.kubernetes.io/pod-index!=0',
    });
    expect(selected.map((pod) => pod.name).filter((name) => name.startsWith('blockchain'))).toEqual([
      'blockchain-node-1',
      'blockchain-node-2',
    ]);
    expect(selected.filter((pod) => pod.name.startsWith('pgbouncer'))).toHaveLength(2);
    const error = await thrown(
      ports.cluster.listPods({ namespace: NAMESPACE, labelSelector: 'app in pgbouncer' }),
    );
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect((error as KubernetesApiError).statusCode).toBe(400);
  });

  it('charges each API request its round trip on the caller clock', async () => {
    const { ports, clock } = phoenixRooivalk();
    const before = clock.now();
    await ports.cluster.workloadStatus(BLOCKCHAIN);
    expect(clock.now() - before).toBe(KUBERNETES_READ_MS);
    await ports.cluster.restartWorkload(POOLER);
    expect(clock.now() - before).toBe(KUBERNETES_READ_MS + KUBERNETES_WRITE_MS);
    // One read of the scale subresource, one write of it.
    await ports.cluster.scaleWorkload({ ...API, replicas: 5 });
    expect(clock.now() - before).toBe(2 * KUBERNETES_READ_MS + 2 * KUBERNETES_WRITE_MS);
  });

  it('names a missing workload KubernetesNotFoundError, as the API server does', async () => {
    const { ports } = phoenixRooivalk();
    const ghost: WorkloadRef = { namespace: NAMESPACE, kind: 'Deployment', name: 'ghost' };
    for (const call of [
      ports.cluster.restartWorkload(ghost),
      ports.cluster.workloadStatus(ghost),
      ports.cluster.scaleWorkload({ ...ghost, replicas: 2 }),
      ports.cluster.waitForRollout({ ...ghost, ...POLL }),
    ]) {
      const error = await thrown(call);
      expect(error).toBeInstanceOf(KubernetesNotFoundError);
      expect(error.name).toBe('KubernetesNotFoundError');
      expect(error.message).toContain('deployments.apps "ghost" not found');
    }
    const invalid = await thrown(ports.cluster.scaleWorkload({ ...API, replicas: -1 }));
    expect(invalid).toBeInstanceOf(KubernetesInvalidError);
  });
});

describe('simulated cluster: rollouts', () => {
  it('restarts the 3-replica StatefulSet one pod at a time, highest ordinal first, in 46-58 s', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const before = await ports.cluster.listPods({
      namespace: NAMESPACE,
      labelSelector: 'app=blockchain-node',
    });
    const restart = await ports.cluster.restartWorkload(BLOCKCHAIN);
    const restartedAt = clock.now();
    expect(restart).toEqual({ generation: 2, restartedAt: '2026-11-02T14:00:00Z' });

    const right = await ports.cluster.workloadStatus(BLOCKCHAIN);
    expect(right).toMatchObject({ generation: 2, observedGeneration: 1, rolledOut: false });
    expect(right.message).toBe('Waiting for statefulset spec update to be observed...');

    const rolledOut = await ports.cluster.waitForRollout({ ...BLOCKCHAIN, ...POLL });
    const took = clock.now() - restartedAt;
    const perPod = BLOCKCHAIN_NODE_TERMINATION_MS + BLOCKCHAIN_NODE_STARTUP_MS;
    expect(took).toBeGreaterThanOrEqual(CONTROLLER_REACTION_MS + 3 * perPod);
    expect(took).toBeLessThanOrEqual(CONTROLLER_REACTION_MS + 3 * (perPod + POD_READY_JITTER_MS) + 1_000);
    expect(rolledOut).toMatchObject({
      rolledOut: true,
      readyReplicas: 3,
      updatedReplicas: 3,
      observedGeneration: 2,
    });
    expect(rolledOut.currentRevision).toBe(rolledOut.updateRevision);
    expect(rolledOut.updateRevision).not.toBe(before[0]?.labels['controller-revision-hash']);

    const timeline = samples(platform, BLOCKCHAIN, restartedAt, 60_000);
    expect(Math.min(...timeline.map((s) => s.readyReplicas))).toBe(2);
    expect(Math.max(...timeline.map((s) => s.existing))).toBe(3);
    const updated = timeline.map((s) => s.updatedReplicas);
    expect(updated).toEqual([...updated].sort((a, b) => a - b));
    expect(new Set(updated)).toEqual(new Set([0, 1, 2, 3]));

    const after = await ports.cluster.listPods({
      namespace: NAMESPACE,
      labelSelector: 'app=blockchain-node',
    });
    expect(after.map((pod) => pod.name)).toEqual(before.map((pod) => pod.name));
    expect(after.every((pod) => pod.labels['controller-revision-hash'] === rolledOut.updateRevision)).toBe(
      true,
    );
  });

  it('changes nothing for a second restart within the same second, as kubectl’s annotation is the same', async () => {
    const { ports } = phoenixRooivalk();
    const first = await ports.cluster.restartWorkload(BLOCKCHAIN);
    const second = await ports.cluster.restartWorkload(BLOCKCHAIN);
    expect(second).toEqual(first);
  });

  it('rolls a 4-replica Deployment in waves, never below 3 available nor above 5 pods', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    await ports.cluster.restartWorkload(API);
    const restartedAt = clock.now();
    await ports.cluster.waitForRollout({ ...API, ...POLL });
    const took = clock.now() - restartedAt;
    expect(took).toBeGreaterThanOrEqual(2 * PHOENIX_API_STARTUP_MS);
    expect(took).toBeLessThanOrEqual(2 * (PHOENIX_API_STARTUP_MS + POD_READY_JITTER_MS) + 3_000);
    const timeline = samples(platform, API, restartedAt, 60_000);
    expect(Math.min(...timeline.map((s) => s.availableReplicas))).toBe(3);
    expect(Math.max(...timeline.map((s) => s.replicas))).toBe(5);
    expect(timeline.at(-1)).toMatchObject({ replicas: 4, updatedReplicas: 4, rolledOut: true });
  });

  it('scales a Deployment up: the new pods are ready after ~20 s', async () => {
    const { ports, clock } = phoenixRooivalk();
    expect(await ports.cluster.scaleWorkload({ ...API, replicas: 6 })).toEqual({
      previousReplicas: 4,
      replicas: 6,
    });
    const scaledAt = clock.now();
    const status = await ports.cluster.waitForRollout({ ...API, ...POLL });
    expect(status).toMatchObject({ desiredReplicas: 6, readyReplicas: 6, rolledOut: true });
    expect(clock.now() - scaledAt).toBeGreaterThanOrEqual(PHOENIX_API_STARTUP_MS);
    expect(clock.now() - scaledAt).toBeLessThanOrEqual(PHOENIX_API_STARTUP_MS + POD_READY_JITTER_MS + 2_000);
    expect(await ports.cluster.currentReplicas(API)).toBe(6);
    await ports.cluster.scaleWorkload({ ...API, replicas: 3 });
    clock.advance(5_000);
    expect(await ports.cluster.workloadStatus(API)).toMatchObject({ replicas: 3, readyReplicas: 3 });
  });

  it('leaves pods beyond the cluster’s capacity Pending, and the rollout fails at its progress deadline', async () => {
    const { ports, clock } = phoenixRooivalk();
    await ports.cluster.scaleWorkload({ ...API, replicas: 80 });
    const scaledAt = clock.now();
    const error = await thrown(
      ports.cluster.waitForRollout({ ...API, deadlineMs: 15 * MINUTE, pollMs: 5_000 }),
    );
    expect(error).toBeInstanceOf(RolloutFailedError);
    expect(error.message).toContain('exceeded its progress deadline');
    expect(clock.now() - scaledAt).toBeGreaterThan(DEPLOYMENT_PROGRESS_DEADLINE_MS);
    const pods = await ports.cluster.listPods({ namespace: NAMESPACE, labelSelector: 'app=phoenix-api' });
    const pending = pods.filter((pod) => pod.phase === 'Pending');
    // Three nodes of 24 pods, 9 of them taken before the scale-up.
    expect(pods.length - pending.length).toBe(72 - 5);
    expect(pending.every((pod) => pod.nodeName === null && !pod.ready)).toBe(true);
  });

  it('gives up with RolloutDeadlineExceededError at the deadline when a replacement never becomes ready', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    platform.breakBlockchainNode({ persistent: true });
    await ports.cluster.restartWorkload(BLOCKCHAIN);
    const startedAt = clock.now();
    const error = await thrown(
      ports.cluster.waitForRollout({ ...BLOCKCHAIN, deadlineMs: 120_000, pollMs: 5_000 }),
    );
    expect(error).toBeInstanceOf(RolloutDeadlineExceededError);
    expect(error.name).toBe('RolloutDeadlineExceededError');
    expect(clock.now() - startedAt).toBeLessThanOrEqual(120_000);
    expect(clock.now() - startedAt).toBeGreaterThan(110_000);
    const { lastStatus } = error as RolloutDeadlineExceededError;
    expect(lastStatus).toMatchObject({ readyReplicas: 2, updatedReplicas: 2, rolledOut: false });
    expect(lastStatus.message).toBe('Waiting for 1 pods to be ready...');
  });

  it('never gets past a crash-looping pod under OrderedReady pod management (kubernetes#67250)', async () => {
    const { platform, ports } = phoenixRooivalk();
    const ordered: WorkloadRef = { namespace: NAMESPACE, kind: 'StatefulSet', name: 'ordered' };
    platform.kubernetes.addWorkload({
      ...ordered,
      replicas: 3,
      containers: [{ name: 'main', image: 'ordered:1' }],
      createdAt: platform.epoch - 24 * 60 * MINUTE,
    });
    const stuck = platform.kubernetes.podAt(NAMESPACE, 'ordered-1', platform.epoch);
    if (!stuck) throw new Error('no ordered-1');
    stuck.crash = { at: platform.epoch - MINUTE, lines: ['boom'] };
    await ports.cluster.restartWorkload(ordered);
    const error = await thrown(
      ports.cluster.waitForRollout({ ...ordered, deadlineMs: 300_000, pollMs: 10_000 }),
    );
    expect(error).toBeInstanceOf(RolloutDeadlineExceededError);
    expect((error as RolloutDeadlineExceededError).lastStatus.updatedReplicas).toBe(0);
  });
});

describe('simulated cluster: isolation and forensics', () => {
  it('creates the quarantine NetworkPolicy, labels the pods, and adopts the policy on a retry', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const input = { namespace: NAMESPACE, podNames: ['blockchain-node-1'], incidentId: 'INC-20261102-0001' };
    const before = clock.now();
    expect(await ports.cluster.isolatePods(input)).toEqual({
      networkPolicyName: 'aor-quarantine-inc-20261102-0001',
      networkPolicyCreated: true,
      isolatedPods: ['blockchain-node-1'],
    });
    expect(clock.now() - before).toBe(2 * KUBERNETES_WRITE_MS);
    expect(
      platform.kubernetes.object({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        namespace: NAMESPACE,
        name: 'aor-quarantine-inc-20261102-0001',
      }),
    ).toMatchObject({
      spec: {
        podSelector: { matchLabels: { [QUARANTINE_LABEL]: 'INC-20261102-0001' } },
        policyTypes: ['Ingress', 'Egress'],
      },
    });
    const pods = await ports.cluster.listPods({ namespace: NAMESPACE, labelSelector: QUARANTINE_LABEL });
    expect(pods.map((pod) => pod.name)).toEqual(['blockchain-node-1']);
    expect((await ports.cluster.isolatePods(input)).networkPolicyCreated).toBe(false);

    const missing = await thrown(ports.cluster.isolatePods({ ...input, podNames: ['blockchain-node-9'] }));
    expect(missing).toBeInstanceOf(KubernetesNotFoundError);
    const invalid = await thrown(ports.cluster.isolatePods({ ...input, incidentId: 'INC 1' }));
    expect(invalid).toBeInstanceOf(KubernetesInvalidError);
  });

  it('captures the pod, the last lines of its log and its recent events; absent pods are recorded as such', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    platform.breakBlockchainNode();
    platform.breachPods(['blockchain-node-0']);
    const bundle = await ports.cluster.captureForensics({
      namespace: NAMESPACE,
      podNames: ['blockchain-node-1', 'blockchain-node-0', 'gone', 'blockchain-node-1'],
      tailLines: 12,
    });
    expect(bundle.capturedAt).toBe('2026-11-02T14:00:00.000Z');
    expect(clock.now() - platform.epoch).toBe(2 * KUBERNETES_READ_MS);
    expect(bundle.pods.map((pod) => [pod.name, pod.found])).toEqual([
      ['blockchain-node-0', true],
      ['blockchain-node-1', true],
      ['gone', false],
    ]);
    const [breached, crashed] = bundle.pods;
    const breachedLog = breached?.logs[0]?.log ?? '';
    expect(breachedLog.trimEnd().split('\n')).toHaveLength(12);
    expect(breachedLog).toMatch(/WARN (p2p|rpc|exec|net): /);
    const crashedLog = crashed?.logs[0]?.log ?? '';
    expect(crashedLog).toContain('panic: consensus: refusing to serve stale state');
    expect(JSON.stringify(crashed?.pod)).toContain('CrashLoopBackOff');
    const reasons = (crashed?.events ?? []).map((event) => (event as { reason: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['Unhealthy', 'BackOff', 'Started']));
    // Events of a pod that has run quietly for days have expired.
    expect(breached?.events).toEqual([]);
  });
});

describe('simulated cluster: manifests, claims and jobs', () => {
  const restoreDeployment: KubernetesManifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ledger-indexer' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'ledger-indexer' } },
      template: {
        metadata: { labels: { app: 'ledger-indexer' } },
        spec: { containers: [{ name: 'indexer', image: 'indexer:1' }] },
      },
    },
  };

  it('applies manifests in order into the namespace, starting the pods of a Deployment, and deletes the run’s in reverse', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const configMap: KubernetesManifest = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
    };
    const applied = await ports.cluster.applyManifests({
      namespace: NAMESPACE,
      manifests: [configMap, restoreDeployment].map((manifest) => ranBy(RUN, manifest)),
    });
    expect(applied).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: NAMESPACE },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ledger-indexer', namespace: NAMESPACE },
    ]);
    const indexer: WorkloadRef = { namespace: NAMESPACE, kind: 'Deployment', name: 'ledger-indexer' };
    expect(await ports.cluster.waitForRollout({ ...indexer, ...POLL })).toMatchObject({ readyReplicas: 2 });
    // Re-applying the same manifest is no change at all.
    await ports.cluster.applyManifests({ namespace: NAMESPACE, manifests: [ranBy(RUN, restoreDeployment)] });
    expect((await ports.cluster.workloadStatus(indexer)).generation).toBe(1);

    const unknown = await thrown(
      ports.cluster.applyManifests({
        namespace: NAMESPACE,
        manifests: [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }],
      }),
    );
    expect(unknown).toBeInstanceOf(KubernetesNotFoundError);
    expect(unknown.message).toContain('the cluster serves no Widget in example.com/v1');

    const result = await ports.cluster.deleteObjects(
      [...applied, { ...applied[0], name: 'never-there' } as never],
      { runId: RUN },
    );
    expect(result.deleted).toEqual([applied[1], applied[0]]);
    expect(result.alreadyGone.map((ref) => ref.name)).toEqual(['never-there']);
    expect(result.kept).toEqual([]);
    clock.advance(10_000);
    expect(
      platform.kubernetes
        .podsAt(NAMESPACE, clock.now())
        .some((pod) => pod.workload.name === 'ledger-indexer'),
    ).toBe(false);
    const noNamespace = await thrown(
      ports.cluster.deleteObjects([{ apiVersion: 'v1', kind: 'Secret', name: 's' }], { runId: RUN }),
    );
    expect(noNamespace).toBeInstanceOf(KubernetesInvalidError);
  });

  it('keeps, and says why, what carries no run label or another run’s: the platform’s own workloads above all', async () => {
    const { platform, ports } = phoenixRooivalk();
    await ports.cluster.applyManifests({
      namespace: NAMESPACE,
      manifests: [ranBy('DR-OTHER', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'theirs' } })],
    });
    const refs = [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', name: BLOCKCHAIN.name, namespace: NAMESPACE },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'theirs', namespace: NAMESPACE },
    ];
    const result = await ports.cluster.deleteObjects(refs, { runId: RUN });
    expect(result).toEqual({
      deleted: [],
      alreadyGone: [],
      kept: [
        {
          ref: refs[1],
          reason: `its ${RECOVERY_RUN_LABEL} label names recovery run DR-OTHER, not ${RUN}`,
        },
        {
          ref: refs[0],
          reason: `it carries no ${RECOVERY_RUN_LABEL} label: recovery run ${RUN} did not create it`,
        },
      ],
    });
    expect(platform.kubernetes.workload(BLOCKCHAIN)).toBeDefined();
    expect(platform.calls.filter((call) => call.operation === 'deleteObjects')).toHaveLength(1);
  });

  it('deletes only the object it read: one replaced meanwhile by someone else is kept (uid precondition)', async () => {
    const { platform, ports } = phoenixRooivalk();
    const mine = ranBy(RUN, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared' } });
    await ports.cluster.applyManifests({ namespace: NAMESPACE, manifests: [mine] });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'shared', namespace: NAMESPACE };
    // Between the clean-up's read and its delete, another actor deletes the object and makes its own.
    const readUid = platform.kubernetes.metadataOf(ref)?.uid;
    const { delete: deleteObject } = platform.kubernetes;
    let replaced = false;
    platform.kubernetes.delete = (target, at, preconditions) => {
      if (!replaced) {
        replaced = true;
        deleteObject.call(platform.kubernetes, target, at);
        platform.kubernetes.apply({ ...mine, metadata: { name: 'shared', labels: {} } }, NAMESPACE, at);
      }
      return deleteObject.call(platform.kubernetes, target, at, preconditions);
    };
    const result = await ports.cluster.deleteObjects([ref], { runId: RUN });
    expect(result.deleted).toEqual([]);
    expect(result.kept.map((kept) => kept.reason)).toEqual([
      `it carries no ${RECOVERY_RUN_LABEL} label: recovery run ${RUN} did not create it`,
    ]);
    expect(platform.kubernetes.metadataOf(ref)?.uid).not.toBe(readUid);
  });

  it('rejects a workload whose selector does not match its template (422)', async () => {
    const { ports } = phoenixRooivalk();
    const broken = structuredClone(restoreDeployment);
    broken.spec = { ...(broken.spec as object), selector: { matchLabels: { app: 'other' } } };
    expect(
      await thrown(ports.cluster.applyManifests({ namespace: NAMESPACE, manifests: [broken] })),
    ).toBeInstanceOf(KubernetesInvalidError);
  });

  it('creates a PersistentVolumeClaim once and adopts it after (409), refusing a bad quantity', async () => {
    const { ports } = phoenixRooivalk();
    const claim = {
      namespace: NAMESPACE,
      name: 'blockchain-data',
      storageClassName: 'gp3-encrypted',
      storage: '500Gi',
    };
    expect(await ports.cluster.createPersistentVolumeClaim(claim)).toEqual({
      name: 'blockchain-data',
      created: true,
    });
    expect(await ports.cluster.createPersistentVolumeClaim(claim)).toEqual({
      name: 'blockchain-data',
      created: false,
    });
    expect(
      await thrown(ports.cluster.createPersistentVolumeClaim({ ...claim, name: 'x', storage: 'lots' })),
    ).toBeInstanceOf(KubernetesInvalidError);
  });

  const SYNC_ACCOUNT = 'backup-reader';
  /** `aws s3 sync` as a service account IRSA maps to a role (none: the pod has no AWS credentials). */
  const syncJob = (
    name: string,
    uri: string,
    spec: Record<string, unknown> = {},
    serviceAccountName: string = SYNC_ACCOUNT,
  ): KubernetesManifest => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: {
        spec: {
          restartPolicy: 'Never',
          serviceAccountName,
          containers: [{ name: 'sync', image: 'aws-cli:2', command: ['aws', 's3', 'sync', uri, '/data/'] }],
        },
      },
    },
  });
  /** The production site with the service account of `syncJob`, annotated for IRSA. */
  const withBackupReader = () => {
    const site = phoenixRooivalk();
    site.platform.kubernetes.addObject({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: SYNC_ACCOUNT,
        namespace: NAMESPACE,
        annotations: { [IRSA_ROLE_ANNOTATION]: 'arn:aws-us-gov:iam::111122223333:role/backup-reader' },
      },
    });
    return site;
  };

  it('runs a blockchain restore Job for as long as its S3 data takes to copy, and adopts it when run again', async () => {
    const { platform, ports, clock } = withBackupReader();
    const uri = 's3://phoenix-rooivalk-backups/blockchain/2026-11-01/';
    const bytes = Math.round(199.5 * 1024 ** 3);
    const job = syncJob('blockchain-restore', uri);
    const startedAt = clock.now();
    const status = await ports.cluster.runJobToCompletion({
      namespace: NAMESPACE,
      job,
      deadlineMs: 60 * MINUTE,
      pollMs: 30_000,
    });
    expect(status).toMatchObject({ state: 'complete', succeeded: 1, failed: 0, active: 0 });
    const expected = CONTROLLER_REACTION_MS + JOB_POD_STARTUP_MS + (bytes / S3_SYNC_BYTES_PER_SECOND) * 1000;
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(expected);
    expect(clock.now() - startedAt).toBeLessThan(expected + 31_000);
    expect(clock.now() - startedAt).toBeGreaterThan(25 * MINUTE);
    // A retried step finds the Job done instead of starting another copy.
    const again = clock.now();
    await ports.cluster.runJobToCompletion({ namespace: NAMESPACE, job, deadlineMs: MINUTE, pollMs: 5_000 });
    expect(clock.now() - again).toBe(KUBERNETES_WRITE_MS + KUBERNETES_READ_MS);
    expect(platform.kubernetes.job(NAMESPACE, 'blockchain-restore')?.createdAt).toBe(
      startedAt + KUBERNETES_WRITE_MS,
    );
  });

  it('fails a Job whose pods have no AWS credentials once its back-off limit is spent', async () => {
    const { platform, ports } = phoenixRooivalk();
    const job = syncJob(
      'restore-anonymous',
      's3://phoenix-rooivalk-backups/blockchain/2026-11-01/',
      { backoffLimit: 2 },
      'default',
    );
    const error = await thrown(
      ports.cluster.runJobToCompletion({
        namespace: NAMESPACE,
        job,
        deadlineMs: 30 * MINUTE,
        pollMs: 10_000,
      }),
    );
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).lastStatus).toMatchObject({
      state: 'failed',
      failed: 3,
      message: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
    });
    expect(platform.jobResult(NAMESPACE, 'restore-anonymous')).toMatchObject({
      exitCode: 1,
      log: ['fatal error: Unable to locate credentials'],
    });
  });

  it('stops polling a Job at the deadline with JobDeadlineExceededError', async () => {
    const { ports, clock } = withBackupReader();
    const job = syncJob('slow-restore', 's3://phoenix-rooivalk-backups/blockchain/');
    const startedAt = clock.now();
    const error = await thrown(
      ports.cluster.runJobToCompletion({
        namespace: NAMESPACE,
        job,
        deadlineMs: 10 * MINUTE,
        pollMs: MINUTE,
      }),
    );
    expect(error).toBeInstanceOf(JobDeadlineExceededError);
    expect((error as JobDeadlineExceededError).lastStatus).toMatchObject({ state: 'running', active: 1 });
    expect(clock.now() - startedAt).toBeLessThanOrEqual(10 * MINUTE + KUBERNETES_WRITE_MS);
    expect(await thrown(ports.cluster.jobStatus({ namespace: NAMESPACE, name: 'nope' }))).toBeInstanceOf(
      KubernetesNotFoundError,
    );
  });
});

describe('simulated cluster: an unreachable API endpoint', () => {
  it('times out every request after the request timeout, and reports the cluster unreachable', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    platform.setClusterReachable(false);
    const before = clock.now();
    expect(await ports.cluster.clusterReachable()).toBe(false);
    expect(clock.now() - before).toBe(KUBERNETES_REQUEST_TIMEOUT_MS);
    const error = await thrown(ports.cluster.workloadStatus(BLOCKCHAIN));
    expect(error).toBeInstanceOf(KubernetesTimeoutError);
    expect((error as KubernetesTimeoutError).retryable).toBe(true);
    platform.setClusterReachable(true);
    expect(await platform.ports(new SimulatedClock(clock.now())).cluster.clusterReachable()).toBe(true);
  });
});
