import { describe, expect, it } from 'vitest';
import { InvalidRoutingChangeError } from '../../../lambdas/adapters/aws/route53-traffic-routing';
import {
  JobDeadlineExceededError,
  JobFailedError,
  KubernetesTimeoutError,
  RolloutDeadlineExceededError,
} from '../../../lambdas/adapters/kubernetes/errors';
import type { JsonValue, KubernetesManifest } from '../../../lambdas/core/operations/cluster';
import {
  CONTROLLER_REACTION_MS,
  ENDPOINT_CHECK_MS,
  JOB_POD_STARTUP_MS,
  KUBERNETES_WRITE_MS,
  RDS_RESTORE_CREATING_MAX_MS,
  RDS_RESTORE_CREATING_MIN_MS,
  ROW_COUNT_CHECK_MS,
  S3_SYNC_BYTES_PER_SECOND,
} from '../../../local/simulation/durations';
import {
  DR_BLOCKCHAIN_BACKUP_GIB,
  drApplicationManifests,
  PHOENIX_ROOIVALK_DR_SITE,
} from '../../../local/simulation/phoenix-rooivalk-dr';
import type { SimulatedPlatform } from '../../../local/simulation/platform';
import { CHECK_ANNOTATION } from '../../../local/simulation/recovery-checks';
import type { SimulatedClock } from '../../../local/workflow/clock';
import { API, BLOCKCHAIN, drSite, MINUTE, NAMESPACE, POOLER, thrown } from './fixtures';

const SITE = PHOENIX_ROOIVALK_DR_SITE;
const BUCKET = 'phoenix-rooivalk-backups';
const CLAIM = 'blockchain-data-restore';
const HEALTH_URL = 'http://phoenix-api.phoenix-rooivalk.svc.cluster.local:8080/health';

/** The DR workflow's restore Job: `aws s3 sync` of a day's prefix onto the restore volume. */
function restoreJob(uri: string): KubernetesManifest {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'blockchain-restore-dr-1', labels: { 'aor.phoenixrooivalk.mil/recovery-run': 'DR-1' } },
    spec: {
      backoffLimit: 2,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'restore',
              image: 'public.ecr.aws/aws-cli/aws-cli:2.31.0',
              command: ['aws', 's3', 'sync', uri, '/data/'],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: CLAIM } }],
        },
      },
    },
  };
}

/** A validation Job as the simulation recognises it: the check annotation, the target in the container. */
function checkJob(name: string, check: string, container: Record<string, unknown>): KubernetesManifest {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, annotations: { [CHECK_ANNOTATION]: check } },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'check', image: 'aor/recovery-check:1', ...container }],
        },
      },
    },
  };
}

const endpointCheck = (name = 'validate-endpoint') =>
  checkJob(name, 'endpoint', { args: ['--url', HEALTH_URL] });

async function createClaim(platform: SimulatedPlatform, clock: SimulatedClock) {
  await platform.ports(clock).cluster.createPersistentVolumeClaim({
    namespace: NAMESPACE,
    name: CLAIM,
    storageClassName: 'gp3-encrypted',
    storage: '500Gi',
  });
}

function runJob(
  platform: SimulatedPlatform,
  clock: SimulatedClock,
  job: KubernetesManifest,
  deadlineMs = 30 * MINUTE,
) {
  return platform
    .ports(clock)
    .cluster.runJobToCompletion({ namespace: NAMESPACE, job, deadlineMs, pollMs: 15_000 });
}

async function restoreApplications(platform: SimulatedPlatform, clock: SimulatedClock) {
  const ports = platform.ports(clock);
  await ports.cluster.applyManifests({
    namespace: NAMESPACE,
    manifests: drApplicationManifests(platform.layout),
  });
  for (const workload of [BLOCKCHAIN, API, POOLER]) {
    await ports.cluster.waitForRollout({ ...workload, deadlineMs: 10 * MINUTE, pollMs: 5_000 });
  }
}

/** Restores the latest snapshot and waits for it; returns its endpoint and the day's manifest tables. */
async function restoreDatabase(platform: SimulatedPlatform, clock: SimulatedClock) {
  const ports = platform.ports(clock);
  const snapshot = await ports.recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase });
  if (!snapshot) throw new Error('no snapshot');
  await ports.recovery.startRestore({
    snapshot,
    target: SITE.database,
    instanceClass: 'db.r5.xlarge',
    subnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
    securityGroupIds: ['sg-0a1b2c3d4e5f60021'],
    tags: { 'aor:recovery-run': 'DR-1' },
  });
  for (;;) {
    const status = await ports.recovery.restoreStatus(SITE.database);
    if (status?.failed) throw new Error(`restore failed: ${status.status}`);
    if (status?.available && status.endpoint) {
      const manifest = await ports.backups.readIntegrityManifest({
        bucket: BUCKET,
        day: snapshot.createdAt.slice(0, 10),
      });
      if (!manifest) throw new Error('no manifest');
      return { endpoint: status.endpoint, tables: manifest.tables };
    }
    clock.advance(MINUTE);
  }
}

const integrityCheck = (name: string, check: string, endpoint: string, tables: unknown) =>
  checkJob(name, check, {
    env: [
      { name: 'PGHOST', value: endpoint },
      { name: 'EXPECTED_TABLES', value: JSON.stringify(tables) },
    ],
  });

function report(platform: SimulatedPlatform, job: string): { [key: string]: JsonValue } {
  return JSON.parse(platform.jobResult(NAMESPACE, job)?.terminationMessage ?? 'null');
}

describe('the blockchain restore Job on the DR site', () => {
  it('syncs the day’s S3 prefix onto the claim for as long as its bytes take, its pod visible by job-name', async () => {
    const { platform, clock } = drSite();
    await createClaim(platform, clock);
    const startedAt = clock.now();
    const status = await runJob(platform, clock, restoreJob(`s3://${BUCKET}/blockchain/2026-11-01/`));
    expect(status).toMatchObject({ state: 'complete', succeeded: 1, failed: 0 });
    const copyMs = ((DR_BLOCKCHAIN_BACKUP_GIB * 1024 ** 3) / S3_SYNC_BYTES_PER_SECOND) * 1000;
    const expected = KUBERNETES_WRITE_MS + CONTROLLER_REACTION_MS + JOB_POD_STARTUP_MS + copyMs;
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(expected);
    expect(clock.now() - startedAt).toBeLessThan(expected + 16_000);
    expect(clock.now() - startedAt).toBeGreaterThan(2 * MINUTE);

    const ports = platform.ports(clock);
    const pods = await ports.cluster.listPods({
      namespace: NAMESPACE,
      labelSelector: 'job-name=blockchain-restore-dr-1',
    });
    expect(pods).toHaveLength(1);
    expect(pods[0]).toMatchObject({ phase: 'Succeeded', ready: false });
    const name = pods[0]?.name ?? '';
    expect(name).toMatch(/^blockchain-restore-dr-1-[a-z0-9]{5}$/);
    const bundle = await ports.cluster.captureForensics({
      namespace: NAMESPACE,
      podNames: [name],
      tailLines: 100,
    });
    const log = bundle.pods[0]?.logs[0]?.log ?? '';
    expect(log.trim().split('\n')).toEqual(
      [1, 2, 3, 4].map(
        (part) =>
          `download: s3://${BUCKET}/blockchain/2026-11-01/ledger-snapshot.part-000${part}.tar.zst to ./ledger-snapshot.part-000${part}.tar.zst`,
      ),
    );
    expect(JSON.stringify(bundle.pods[0]?.pod)).toContain('"reason":"Completed"');

    // `--only-show-errors` copies as much, printing nothing.
    const quiet = restoreJob(`s3://${BUCKET}/blockchain/2026-11-01/`);
    const quietStart = clock.now();
    await runJob(platform, clock, {
      ...quiet,
      metadata: { name: 'blockchain-restore-quiet' },
      spec: JSON.parse(JSON.stringify(quiet.spec).replace('"/data/"', '"/data/","--only-show-errors"')),
    });
    expect(clock.now() - quietStart).toBeGreaterThanOrEqual(expected);
    expect(platform.jobResult(NAMESPACE, 'blockchain-restore-quiet')).toMatchObject({ exitCode: 0, log: [] });
  });

  it('fails every attempt on an empty S3 prefix', async () => {
    const { platform, clock } = drSite();
    await createClaim(platform, clock);
    const error = await thrown(runJob(platform, clock, restoreJob(`s3://${BUCKET}/blockchain/2026-01-01/`)));
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).lastStatus).toMatchObject({ state: 'failed', failed: 3 });
    expect(platform.jobResult(NAMESPACE, 'blockchain-restore-dr-1')?.terminationMessage).toBe(
      `restore: nothing to copy under s3://${BUCKET}/blockchain/2026-01-01/`,
    );
  });

  it('never schedules a pod whose claim does not exist: the Job runs until the deadline', async () => {
    const { platform, clock } = drSite();
    const error = await thrown(
      runJob(platform, clock, restoreJob(`s3://${BUCKET}/blockchain/2026-11-01/`), 5 * MINUTE),
    );
    expect(error).toBeInstanceOf(JobDeadlineExceededError);
    expect((error as JobDeadlineExceededError).lastStatus).toMatchObject({ state: 'running', active: 1 });
    const ports = platform.ports(clock);
    const [pod] = await ports.cluster.listPods({ namespace: NAMESPACE, labelSelector: 'job-name' });
    expect(pod).toMatchObject({ phase: 'Pending', nodeName: null });
    const bundle = await ports.cluster.captureForensics({
      namespace: NAMESPACE,
      podNames: [pod?.name ?? ''],
      tailLines: 10,
    });
    expect(JSON.stringify(bundle.pods[0]?.events)).toContain(
      `persistentvolumeclaim \\"${CLAIM}\\" not found`,
    );
  });
});

describe('restoring applications into the empty DR namespace', () => {
  it('rolls the applied workloads out with their start-up times', async () => {
    const { platform, clock } = drSite();
    const startedAt = clock.now();
    await restoreApplications(platform, clock);
    expect(clock.now() - startedAt).toBeLessThan(MINUTE);
    const ports = platform.ports(clock);
    expect(
      await ports.cluster.readyPeerEndpoints({ namespace: NAMESPACE, service: 'blockchain-peer' }),
    ).toMatchObject({
      ready: 3,
    });
    expect(
      await ports.cluster.listPods({ namespace: NAMESPACE, labelSelector: 'app=phoenix-api' }),
    ).toHaveLength(4);
  });
});

describe('the DR validation Jobs', () => {
  it('endpoint: refused while the Service has no ready pod, 200 once the rollout is done', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    await ports.cluster.applyManifests({
      namespace: NAMESPACE,
      manifests: drApplicationManifests(platform.layout),
    });
    expect(await thrown(runJob(platform, clock, endpointCheck('validate-early')))).toBeInstanceOf(
      JobFailedError,
    );
    expect(report(platform, 'validate-early')).toEqual({
      check: 'endpoint',
      passed: false,
      error:
        'curl: (7) Failed to connect to phoenix-api.phoenix-rooivalk.svc.cluster.local port 8080: Connection refused',
    });
    await restoreApplications(platform, clock);
    const startedAt = clock.now();
    expect(await runJob(platform, clock, endpointCheck())).toMatchObject({ state: 'complete' });
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(
      CONTROLLER_REACTION_MS + JOB_POD_STARTUP_MS + ENDPOINT_CHECK_MS,
    );
    expect(report(platform, 'validate-endpoint')).toEqual({
      check: 'endpoint',
      passed: true,
      url: HEALTH_URL,
      status: 200,
      readyEndpoints: 4,
    });
    expect(platform.jobResult(NAMESPACE, 'validate-endpoint')?.exitCode).toBe(0);
    expect(
      await thrown(
        runJob(
          platform,
          clock,
          checkJob('unknown-host', 'endpoint', { args: ['http://nothing:8080/health'] }),
        ),
      ),
    ).toBeInstanceOf(JobFailedError);
    expect(report(platform, 'unknown-host').error).toBe('curl: (6) Could not resolve host: nothing');
  });

  it('row-counts and checksums: pass against the restored database that matches the manifest', async () => {
    const { platform, clock } = drSite();
    const { endpoint, tables } = await restoreDatabase(platform, clock);
    const startedAt = clock.now();
    await runJob(platform, clock, integrityCheck('validate-rows', 'row-counts', endpoint, tables));
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(ROW_COUNT_CHECK_MS);
    const rows = report(platform, 'validate-rows');
    expect(rows).toMatchObject({
      check: 'row-counts',
      passed: true,
      database: 'phoenix-rooivalk-dr',
      mismatched: [],
    });
    expect(rows.tables).toEqual(
      Object.fromEntries(
        Object.entries(tables).map(([table, { rows: count }]) => [table, { expected: count, actual: count }]),
      ),
    );
    await runJob(platform, clock, integrityCheck('validate-sums', 'checksums', endpoint, tables));
    expect(report(platform, 'validate-sums')).toMatchObject({
      check: 'checksums',
      passed: true,
      mismatched: [],
    });
  });

  it('row-counts: fails while the restored database is still being created, and without expectations', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    const snapshot = await ports.recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase });
    if (!snapshot) throw new Error('no snapshot');
    const host = 'phoenix-rooivalk-dr.abcdefabcdef.us-gov-east-1.rds.amazonaws.com';
    await thrown(
      runJob(platform, clock, integrityCheck('too-early', 'row-counts', host, { operators: { rows: 1 } })),
    );
    expect(report(platform, 'too-early').error).toContain('could not translate host name');
    await thrown(
      runJob(
        platform,
        clock,
        checkJob('no-expectations', 'row-counts', { env: [{ name: 'PGHOST', value: host }] }),
      ),
    );
    expect(report(platform, 'no-expectations').error).toBe(
      'EXPECTED_TABLES is not set to a JSON object of tables',
    );
    await thrown(runJob(platform, clock, checkJob('odd', 'smoke', {})));
    expect(report(platform, 'odd').error).toContain('unknown check "smoke"');
  });
});

describe('failRecoveryStep', () => {
  it('validate-site: the storage class goes missing (a restore volume then never binds), or the cluster stops answering', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    const failure = platform.failRecoveryStep('validate-site');
    expect(failure.description).toBe('storage class gp3-encrypted is missing from the DR cluster');
    expect(await ports.cluster.storageClassExists('gp3-encrypted')).toBe(false);
    await createClaim(platform, clock);
    await thrown(runJob(platform, clock, restoreJob(`s3://${BUCKET}/blockchain/2026-11-01/`), 2 * MINUTE));
    expect(platform.jobResult(NAMESPACE, 'blockchain-restore-dr-1')?.pendingReason).toContain(
      'storageclass.storage.k8s.io "gp3-encrypted" not found',
    );
    failure.remove();
    expect(await ports.cluster.storageClassExists('gp3-encrypted')).toBe(true);

    const unreachable = platform.failRecoveryStep('validate-site', { siteFailure: 'cluster-unreachable' });
    expect(await ports.cluster.clusterReachable()).toBe(false);
    expect(await thrown(ports.cluster.storageClassExists('gp3-encrypted'))).toBeInstanceOf(
      KubernetesTimeoutError,
    );
    unreachable.remove();
    expect(await ports.cluster.clusterReachable()).toBe(true);
  });

  it('restore-database: the restore ends in incompatible-restore, a status no waiting cures', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('restore-database');
    const startedAt = clock.now();
    const error = await thrown(restoreDatabase(platform, clock));
    expect(error.message).toBe('restore failed: incompatible-restore');
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(RDS_RESTORE_CREATING_MIN_MS);
    expect(clock.now() - startedAt).toBeLessThanOrEqual(RDS_RESTORE_CREATING_MAX_MS + 2 * MINUTE);
    expect(await platform.ports(clock).recovery.restoreStatus(SITE.database)).toMatchObject({
      status: 'incompatible-restore',
      available: false,
      failed: true,
    });
  });

  it('restore-blockchain-data: the Job’s pods get AccessDenied from S3, while the tasks still read the bucket', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('restore-blockchain-data');
    await createClaim(platform, clock);
    const error = await thrown(runJob(platform, clock, restoreJob(`s3://${BUCKET}/blockchain/2026-11-01/`)));
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).lastStatus.message).toBe(
      'BackoffLimitExceeded: Job has reached the specified backoff limit',
    );
    expect(platform.jobResult(NAMESPACE, 'blockchain-restore-dr-1')?.terminationMessage).toMatch(
      /^fatal error: An error occurred \(AccessDenied\) when calling the ListObjectsV2 operation: User: arn:aws-us-gov:sts::111122223333:assumed-role\/phoenix-rooivalk-dr-blockchain-restore\/.* s3:ListBucket on resource: "arn:aws-us-gov:s3:::phoenix-rooivalk-backups"/,
    );
    expect(await platform.ports(clock).backups.findBlockchainBackup({ bucket: BUCKET })).toBeDefined();
  });

  it('restore-applications: the blockchain pods crash-loop and the rollout hits its deadline', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('restore-applications');
    const error = await thrown(restoreApplications(platform, clock));
    expect(error).toBeInstanceOf(RolloutDeadlineExceededError);
    expect(error.message).toContain('StatefulSet phoenix-rooivalk/blockchain-node');
    const ports = platform.ports(clock);
    expect(await ports.cluster.waitForRollout({ ...API, deadlineMs: MINUTE, pollMs: 5_000 })).toMatchObject({
      rolledOut: true,
    });
  });

  it('validate-recovery: the restored database lacks rows the manifest counts', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('validate-recovery');
    const { endpoint, tables } = await restoreDatabase(platform, clock);
    const error = await thrown(
      runJob(platform, clock, integrityCheck('validate-rows', 'row-counts', endpoint, tables)),
    );
    expect(error).toBeInstanceOf(JobFailedError);
    const rows = report(platform, 'validate-rows');
    expect(rows).toMatchObject({ passed: false, mismatched: ['sensor_tracks'] });
    const expected = tables.sensor_tracks?.rows ?? 0;
    expect(rows.tables).toMatchObject({ sensor_tracks: { expected, actual: expected - 1_184 } });
    expect(platform.jobResult(NAMESPACE, 'validate-rows')?.exitCode).toBe(1);
  });

  it('switch-routing: Route 53 rejects the change batch until the failure is removed', async () => {
    const { platform, ports } = drSite();
    const failure = platform.failRecoveryStep('switch-routing');
    const request = {
      hostedZoneId: SITE.hostedZone.id,
      recordName: SITE.recordName,
      target: SITE.drLoadBalancer.dnsName,
      comment: 'DR-1',
    };
    const error = await thrown(ports.routing.switchRecord(request));
    expect(error).toBeInstanceOf(InvalidRoutingChangeError);
    expect(error.message).toContain('in zone phoenixrooivalk.mil.');
    expect(platform.route53Record(SITE.hostedZone.id, SITE.recordName)?.value).toBe(
      SITE.primaryLoadBalancer.dnsName,
    );
    failure.remove();
    expect((await ports.routing.switchRecord(request)).status).toBe('PENDING');
  });
});
