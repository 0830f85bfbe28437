import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubernetesClusterOperations } from '../../../lambdas/adapters/kubernetes/cluster-operations';
import type { Incident } from '../../../lambdas/core/incident/incident';
import { ACTIONS } from '../../../lambdas/core/incident/playbooks';
import { runAction, type ActionPorts } from '../../../lambdas/core/incident/actions';
import type { BackupCatalog, DatabaseRecovery } from '../../../lambdas/core/recovery/ports';
import { createdObjects, recoveryPlan } from '../../../lambdas/core/recovery/recovery';
import {
  blockchainRestoreJob,
  labelledForRun,
  RECOVERY_OBJECT_TYPES,
  restoreVolumeClaim,
} from '../../../lambdas/core/recovery/recovery-manifests';
import type { RecoveryRunState, SiteValidation } from '../../../lambdas/core/recovery/recovery-service';
import { inClusterValidation } from '../../../lambdas/core/recovery/validation';
import { CLUSTER_GROUPS } from '../../../lib/cluster-access';
import { recoverySettings } from '../../../lib/constructs/disaster-recovery-workflow';
import { actionSettings } from '../../../lib/constructs/incident-response-workflow';
import { exampleConfig } from '../../support/app';
import type { FakeKubernetesApi } from '../../support/fake-kubernetes-api';
import { loadManifests, Rbac, type RequestAttributes } from '../../support/rbac';
import { rolledOutDeployment, startCluster, statefulSet } from './fixtures';

/**
 * The Kubernetes RBAC AOR ships (deploy/rbac/) against the example configuration and the tasks'
 * code: each grant, spelled out; nothing any task must never hold; and the tasks' real requests,
 * sent by the real adapter to an API server that authorizes them by these bindings, all allowed.
 */

const config = exampleConfig();
const incident = actionSettings(config);
const dr = recoverySettings(config);
const INCIDENT_FILE = 'deploy/rbac/incident-actions.yaml';
const DR_FILE = 'deploy/rbac/disaster-recovery.yaml';
const drRun = (dryRun: boolean) => {
  const runId = dryRun ? 'DR-20261123T040000Z-drill1' : 'DR-20261123T040000Z-real01';
  const request = { drSite: config.drRegion, recoveryType: 'full' as const, backupDate: 'latest', dryRun };
  return { runId, plan: recoveryPlan(runId, request, dr) };
};
/** The namespaces a run works in: a real run's and a dry run's, as the plan names them. */
const DR_NAMESPACES = [drRun(false).plan.namespace, drRun(true).plan.namespace];

type Grant = [apiGroup: string, resource: string, verbs: string] | [string, string, string, string];

/** Each rule as one line per resource: `[group, resource, "verb,verb", "name,name"]`, sorted. */
function grants(rbac: Rbac, group: string, namespace: string | undefined): Grant[] {
  return rbac
    .rulesOf(group)
    .filter((bound) => bound.namespace === namespace)
    .flatMap(({ rule }) =>
      (rule.apiGroups ?? []).flatMap((apiGroup) =>
        (rule.resources ?? []).map((resource): Grant => {
          const verbs = [...rule.verbs].sort().join(',');
          return rule.resourceNames
            ? [apiGroup, resource, verbs, [...rule.resourceNames].sort().join(',')]
            : [apiGroup, resource, verbs];
        }),
      ),
    )
    .sort((a, b) => a.join('|').localeCompare(b.join('|')));
}

describe('the shipped RBAC: exactly these grants', () => {
  it('incident actions: the configured workloads’ restart and scale, peers, quarantine and forensics, in the platform namespace only', () => {
    const rbac = Rbac.load(INCIDENT_FILE);
    const { blockchainWorkload, connectionPooler, scaleTarget, namespace } = incident;
    const plural = (kind: string) => `${kind.toLowerCase()}s`;
    expect(grants(rbac, CLUSTER_GROUPS.incidentActions, undefined)).toEqual([]);
    expect(grants(rbac, CLUSTER_GROUPS.incidentActions, namespace)).toEqual(
      [
        ['', 'events', 'list'],
        ['', 'pods', 'get,patch'],
        ['', 'pods/log', 'get'],
        ['apps', plural(blockchainWorkload.kind), 'get,patch', blockchainWorkload.name],
        ['apps', plural(connectionPooler.kind), 'get,patch', connectionPooler.name],
        ['apps', `${plural(scaleTarget.kind)}/scale`, 'get,patch', scaleTarget.name],
        ['discovery.k8s.io', 'endpointslices', 'list'],
        ['networking.k8s.io', 'networkpolicies', 'create'],
      ].sort((a, b) => a.join('|').localeCompare(b.join('|'))),
    );
  });

  it('disaster recovery: the run’s kinds in its two namespaces, and its storage class cluster-wide', () => {
    const rbac = Rbac.load(DR_FILE);
    const group = CLUSTER_GROUPS.disasterRecovery;
    expect(grants(rbac, group, undefined)).toEqual([
      ['storage.k8s.io', 'storageclasses', 'get', dr.storageClass],
    ]);
    const namespaced = [
      ...RECOVERY_OBJECT_TYPES.map(({ apiVersion, resource }): Grant => [
        apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '',
        resource,
        'create,delete,get,patch',
      ]),
      ['batch', 'jobs/status', 'get'],
      ['discovery.k8s.io', 'endpointslices', 'list'],
      ['', 'pods', 'get,list'],
      ['', 'pods/log', 'get'],
      ['', 'events', 'list'],
    ].sort((a, b) => a.join('|').localeCompare(b.join('|')));
    for (const namespace of DR_NAMESPACES) expect(grants(rbac, group, namespace)).toEqual(namespaced);
    const bound = rbac.objects
      .filter((object) => object.kind === 'RoleBinding')
      .map((b) => b.metadata.namespace);
    expect(bound.sort()).toEqual([...DR_NAMESPACES].sort());
  });

  it.each([INCIDENT_FILE, DR_FILE])(
    '%s grants no wildcard, no Secret, no exec, no identity, no RBAC',
    (file) => {
      const rules = loadManifests(file).flatMap((object) => object.rules ?? []);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        const everything = [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs];
        expect(everything).not.toContain('*');
        expect(rule.nonResourceURLs).toBeUndefined();
        for (const resource of rule.resources ?? []) {
          expect([
            'secrets',
            'serviceaccounts',
            'serviceaccounts/token',
            'namespaces',
            'pods/exec',
            'pods/attach',
            'pods/portforward',
            'pods/ephemeralcontainers',
            'nodes/proxy',
            'roles',
            'rolebindings',
            'clusterroles',
            'clusterrolebindings',
          ]).not.toContain(resource);
        }
        for (const verb of ['escalate', 'bind', 'impersonate', 'deletecollection', 'update', 'watch']) {
          expect(rule.verbs).not.toContain(verb);
        }
      }
    },
  );

  it('binds to the group the stacks’ access entries map the task roles to, and to nothing else', () => {
    for (const [file, group] of [
      [INCIDENT_FILE, CLUSTER_GROUPS.incidentActions],
      [DR_FILE, CLUSTER_GROUPS.disasterRecovery],
    ] as const) {
      const subjects = loadManifests(file).flatMap((object) => object.subjects ?? []);
      expect(subjects.length).toBeGreaterThan(0);
      for (const subject of subjects) expect(subject).toMatchObject({ kind: 'Group', name: group });
    }
  });

  it('deploy/dr-cluster makes the namespaces and, in each, the restore service account annotated for IRSA', () => {
    const objects = loadManifests('deploy/dr-cluster/recovery-namespaces.yaml');
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(DR_NAMESPACES);
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount') as ((typeof objects)[number] & {
      metadata: { annotations?: Record<string, string> };
    })[];
    expect(accounts.map((a) => [a.metadata.namespace, a.metadata.name])).toEqual(
      DR_NAMESPACES.map((namespace) => [namespace, dr.jobs.restore.serviceAccount]),
    );
    for (const account of accounts) {
      expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(
        new RegExp(`^arn:aws-us-gov:iam::${config.account}:role/`),
      );
    }
  });
});

describe('the tasks’ real requests, authorized by the shipped RBAC', () => {
  let fake: FakeKubernetesApi;
  let operations: KubernetesClusterOperations;

  beforeEach(async () => {
    ({ fake, operations } = await startCluster());
  });

  afterEach(async () => {
    await fake.close();
  });

  const key = (a: RequestAttributes) => `${a.apiGroup}|${a.resource}|${a.verb}|${a.name ?? ''}`;

  it('every playbook action that touches the cluster does so within the incident Role, and uses all of it', async () => {
    const { namespace, blockchainWorkload, connectionPooler, scaleTarget, peerService } = incident;
    fake.seed(
      statefulSet(blockchainWorkload.name),
      rolledOutDeployment(connectionPooler.name),
      rolledOutDeployment(scaleTarget.name, 4),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${blockchainWorkload.name}-1`, namespace },
        spec: { containers: [{ name: 'node' }] },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${peerService}-x`,
          namespace,
          labels: { 'kubernetes.io/service-name': peerService },
        },
        endpoints: ['0', '1', '2'].map((n) => ({ addresses: [`10.0.0.${n}`], conditions: { ready: true } })),
      },
    );
    const seen = Rbac.load(INCIDENT_FILE).enforce(fake, CLUSTER_GROUPS.incidentActions);
    const ports = {
      cluster: operations,
      clock: () => new Date('2026-11-05T10:00:00Z'),
      evidence: { put: async () => ({ uri: 's3://evidence/x', sha256: 'x', bytes: 1 }) },
    } as unknown as ActionPorts;
    const affected = { id: 'INC-20261105-0001', affectedSystems: [`PodName=${blockchainWorkload.name}-1`] };
    for (const action of ACTIONS) {
      // Only the cluster's answers matter here; what other ports an action needs is not provided.
      await runAction(action, affected as unknown as Incident, incident, ports).catch(() => undefined);
    }
    expect(seen.denied).toEqual([]);
    const rbac = Rbac.load(INCIDENT_FILE);
    const granted = new Set(
      rbac
        .rulesOf(CLUSTER_GROUPS.incidentActions)
        .flatMap(({ rule }) =>
          (rule.resources ?? []).flatMap((resource) =>
            rule.verbs.flatMap((verb) =>
              (rule.resourceNames ?? ['']).map(
                (name) => `${rule.apiGroups?.[0] ?? ''}|${resource}|${verb}|${name}`,
              ),
            ),
          ),
        ),
    );
    const used = new Set(
      seen.allowed.map((a) => key({ ...a, name: granted.has(key(a)) ? a.name : undefined })),
    );
    expect([...granted].sort()).toEqual([...used].sort());
  });

  it('a recovery run, validation and clean-up included, does everything within the DR bindings', async () => {
    const run = drRun(true);
    const { namespace } = run.plan;
    const state = {
      ...run,
      execution: 'x',
      request: {},
      startedAt: '2026-11-23T04:00:00.000Z',
    } as unknown as RecoveryRunState;
    const backup = {
      bucket: config.backupBucketName,
      prefix: 'blockchain/2026-11-23/',
      objects: 4,
      bytes: 1,
      takenAt: '',
    };
    fake.seed(
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: dr.storageClass } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'blockchain-service-x',
          namespace,
          labels: { 'kubernetes.io/service-name': 'blockchain-service' },
        },
        endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: true } }],
      },
      // A check's pod, for the diagnosis of a check that never finishes.
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${run.plan.checkJobs.endpoint}-abcde`,
          namespace,
          labels: { 'job-name': run.plan.checkJobs.endpoint },
        },
        spec: { containers: [{ name: 'check' }] },
      },
    );
    const seen = Rbac.load(DR_FILE).enforce(fake, CLUSTER_GROUPS.disasterRecovery);

    expect(await operations.storageClassExists(dr.storageClass)).toBe(true);
    await operations.applyManifests({
      namespace,
      manifests: [restoreVolumeClaim(run, dr), blockchainRestoreJob(run, backup, dr)],
    });
    await operations.jobStatus({ namespace, name: run.plan.restoreJob });
    await operations.applyManifests({
      namespace,
      manifests: dr.manifests.map((m) => labelledForRun(run, m)),
    });
    for (const workload of dr.workloads) {
      fake.update('apps/v1', workload.kind, namespace, workload.name, {
        status: {
          observedGeneration: 1,
          replicas: 3,
          readyReplicas: 3,
          updatedReplicas: 3,
          availableReplicas: 3,
        },
      });
    }
    const ports = {
      cluster: operations,
      recovery: {
        restoreStatus: async () => ({ available: true, endpoint: 'db.example.internal' }),
      } as unknown as DatabaseRecovery,
      backups: {
        readIntegrityManifest: async () => ({ day: '2026-11-23', tables: { operators: { rows: 212 } } }),
      } as unknown as BackupCatalog,
    };
    const site = { account: config.account, snapshot: null, backup } as unknown as SiteValidation;
    // The fake runs no pods: each check Job is waited for until the deadline, then diagnosed from its pods.
    const validate = inClusterValidation(ports, dr);
    await expect(validate({ ...state, plan: { ...run.plan, restoresData: false } }, site)).rejects.toThrow(
      /endpoint check failed/,
    );
    await expect(
      validate({ ...state, plan: { ...run.plan, restoresApplications: false } }, site),
    ).rejects.toThrow(/row-counts check failed/);
    const cleanUp = await operations.deleteObjects(createdObjects(run.plan, dr), { runId: run.runId });

    expect(seen.denied).toEqual([]);
    expect(cleanUp.kept).toEqual([]);
    expect(cleanUp.deleted.map((ref) => ref.kind).sort()).toEqual(
      [...dr.manifests.map((m) => m.kind), 'Job', 'Job', 'Job', 'PersistentVolumeClaim'].sort(),
    );
    const used = new Set(seen.allowed.map((a) => `${a.resource}:${a.verb}`));
    for (const essential of [
      'storageclasses:get',
      'persistentvolumeclaims:patch',
      'jobs:patch',
      'jobs:create',
      'jobs/status:get',
      'statefulsets:get',
      'endpointslices:list',
      'pods:list',
      'pods:get',
      'pods/log:get',
      'events:list',
      'jobs:delete',
      'services:delete',
    ]) {
      expect(used).toContain(essential);
    }
  });
});
