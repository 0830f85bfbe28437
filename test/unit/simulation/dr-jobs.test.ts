import { describe, expect, it } from 'vitest';
import {
  JobDeadlineExceededError,
  JobFailedError,
  KubernetesNotFoundError,
  KubernetesTimeoutError,
  RolloutDeadlineExceededError,
} from '../../../lambdas/adapters/kubernetes/errors';
import type { KubernetesManifest } from '../../../lambdas/core/operations/cluster';
import {
  blockchainRestoreJob,
  labelledForRun,
  restoreVolumeClaim,
} from '../../../lambdas/core/recovery/recovery-manifests';
import { endpointCheckJob, integrityCheckJob } from '../../../lambdas/core/recovery/validation';
import { UnmodelledContainerError } from '../../../local/simulation/container-images';
import { SHORT_TABLE } from '../../../local/simulation/recovery-faults';
import {
  CHECK_CONNECT_FAILURE_MS,
  CONTROLLER_REACTION_MS,
  ENDPOINT_CHECK_MS,
  JOB_POD_STARTUP_MS,
  KUBERNETES_WRITE_MS,
  ROW_COUNT_CHECK_MS,
  S3_SYNC_BYTES_PER_SECOND,
} from '../../../local/simulation/durations';
import {
  DR_BLOCKCHAIN_BACKUP_GIB,
  DR_RECOVERY_PREREQUISITES,
} from '../../../local/simulation/phoenix-rooivalk-dr';
import type { SimulatedPlatform } from '../../../local/simulation/platform';
import type { SimulatedClock } from '../../../local/workflow/clock';
import {
  BUCKET,
  backup,
  DAY,
  NAMESPACE,
  restoreApplications,
  restoreDatabase,
  run,
  settings,
} from './dr-run';
import { drSite, MINUTE, thrown } from './fixtures';

/**
 * The DR run's Jobs, as its builders make them from the example configuration, run on the simulated
 * DR site: each verdict comes from what the image's program does with the world (S3 as the pod's
 * role, the restored database, the Services' endpoints), never from an annotation.
 */

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

async function applyClaim(platform: SimulatedPlatform, clock: SimulatedClock) {
  await platform
    .ports(clock)
    .cluster.applyManifests({ namespace: NAMESPACE, manifests: [restoreVolumeClaim(run, settings)] });
}

/** The restore Job with its container changed, to show what the image does with another command. */
function withContainer(
  job: KubernetesManifest,
  change: Record<string, unknown>,
  name: string,
): KubernetesManifest {
  const copy = structuredClone(job);
  const template = (copy.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template;
  const [container] = template.spec.containers;
  template.spec.containers = [{ ...container, ...change }];
  return { ...copy, metadata: { ...copy.metadata, name } };
}

/** Removes keys from the restore Job's container. */
function without(job: KubernetesManifest, keys: string[], name: string): KubernetesManifest {
  const copy = withContainer(job, {}, name);
  const [container] = (copy.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
    .template.spec.containers;
  for (const key of keys) delete container?.[key];
  return copy;
}

function deleteObject(platform: SimulatedPlatform, kind: string, name: string) {
  platform.kubernetes.delete({ apiVersion: 'v1', kind, name, namespace: NAMESPACE }, platform.epoch);
}

describe('the blockchain restore Job: aws s3 sync as the restore service account’s role', () => {
  it('syncs the day’s prefix onto the claim for as long as its bytes take, quietly, its pod found by job-name', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const startedAt = clock.now();
    const status = await runJob(platform, clock, blockchainRestoreJob(run, backup(), settings));
    expect(status).toMatchObject({ state: 'complete', succeeded: 1, failed: 0 });
    const copyMs = ((DR_BLOCKCHAIN_BACKUP_GIB * 1024 ** 3) / S3_SYNC_BYTES_PER_SECOND) * 1000;
    const expected = KUBERNETES_WRITE_MS + CONTROLLER_REACTION_MS + JOB_POD_STARTUP_MS + copyMs;
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(expected);
    expect(clock.now() - startedAt).toBeLessThan(expected + 16_000);
    // --only-show-errors: a sync that succeeds prints nothing.
    expect(platform.jobResult(NAMESPACE, run.plan.restoreJob)).toMatchObject({ exitCode: 0, log: [] });
    const pods = await platform
      .ports(clock)
      .cluster.listPods({ namespace: NAMESPACE, labelSelector: `job-name=${run.plan.restoreJob}` });
    expect(pods).toEqual([expect.objectContaining({ phase: 'Succeeded', ready: false })]);
  });

  it('prints each object copied, relative to the image’s working directory, without --only-show-errors', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const job = blockchainRestoreJob(run, backup(), settings);
    const source = `s3://${BUCKET}/blockchain/${DAY}/`;
    await runJob(
      platform,
      clock,
      withContainer(job, { command: ['aws', 's3', 'sync', source, '/data/'] }, 'loud'),
    );
    expect(platform.jobResult(NAMESPACE, 'loud')?.log).toEqual(
      [1, 2, 3, 4].map(
        (part) =>
          `download: ${source}ledger-snapshot.part-000${part}.tar.zst to ../data/ledger-snapshot.part-000${part}.tar.zst`,
      ),
    );
  });

  it('copies nothing and succeeds on an empty prefix, as the CLI does: the run checks the backup exists first', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    await runJob(platform, clock, blockchainRestoreJob(run, backup('2026-01-01'), settings));
    expect(platform.jobResult(NAMESPACE, run.plan.restoreJob)).toMatchObject({ exitCode: 0, log: [] });
  });

  it('fails each attempt with the CLI’s own error when its service account has no IAM role', async () => {
    const { platform, clock } = drSite();
    const account = platform.kubernetes.object({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: NAMESPACE,
      name: DR_RECOVERY_PREREQUISITES.restoreServiceAccount,
    });
    if (account)
      platform.kubernetes.addObject({ ...account, metadata: { ...account.metadata, annotations: {} } });
    await applyClaim(platform, clock);
    const error = await thrown(runJob(platform, clock, blockchainRestoreJob(run, backup(), settings)));
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).lastStatus).toMatchObject({ failed: 3 });
    expect(platform.jobResult(NAMESPACE, run.plan.restoreJob)).toMatchObject({
      exitCode: 1,
      terminationMessage: 'fatal error: Unable to locate credentials',
    });
  });

  it('gets no pod at all without its service account, and fails at its active deadline', async () => {
    const { platform, clock } = drSite();
    deleteObject(platform, 'ServiceAccount', DR_RECOVERY_PREREQUISITES.restoreServiceAccount);
    await applyClaim(platform, clock);
    const quick = {
      ...settings,
      jobs: { ...settings.jobs, restore: { ...settings.jobs.restore, activeDeadlineSeconds: 600 } },
    };
    const error = await thrown(runJob(platform, clock, blockchainRestoreJob(run, backup(), quick)));
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).lastStatus).toMatchObject({
      active: 0,
      failed: 0,
      message: 'DeadlineExceeded: Job was active longer than specified deadline',
    });
    expect(platform.kubernetes.job(NAMESPACE, run.plan.restoreJob)?.creationFailure).toBe(
      `Error creating: pods "${run.plan.restoreJob}-" is forbidden: error looking up service account ${NAMESPACE}/aor-blockchain-restore: serviceaccount "aor-blockchain-restore" not found`,
    );
    expect(await platform.ports(clock).cluster.listPods({ namespace: NAMESPACE })).toEqual([]);
  });

  it('is refused in a namespace that does not exist: the namespaces are the deployer’s, not the run’s', async () => {
    const { platform, clock } = drSite();
    platform.kubernetes.delete({ apiVersion: 'v1', kind: 'Namespace', name: NAMESPACE }, platform.epoch);
    for (const attempt of [
      applyClaim(platform, clock),
      runJob(platform, clock, blockchainRestoreJob(run, backup(), settings)),
    ]) {
      const error = await thrown(attempt);
      expect(error).toBeInstanceOf(KubernetesNotFoundError);
      expect(error.message).toContain(`namespaces "${NAMESPACE}" not found`);
    }
  });

  it('resolves envFrom as the kubelet does: a missing Secret stops the container, an optional one does not', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const job = blockchainRestoreJob(run, backup(), settings);
    const required = withContainer(job, { envFrom: [{ secretRef: { name: 'proxy' } }] }, 'env-required');
    await thrown(runJob(platform, clock, required, 2 * MINUTE));
    expect(platform.jobResult(NAMESPACE, 'env-required')?.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'secret "proxy" not found',
    });
    const optional = withContainer(
      job,
      { envFrom: [{ secretRef: { name: 'proxy', optional: true } }] },
      'env-optional',
    );
    expect(await runJob(platform, clock, optional)).toMatchObject({ state: 'complete' });
  });
});

describe('what the AWS CLI image does with a command it cannot run', () => {
  it('takes curl as arguments to its `aws` entrypoint: an invalid choice, exit 252', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const job = blockchainRestoreJob(run, backup(), settings);
    const curlAsArgs = withContainer(
      without(job, ['command'], 'curl-as-args'),
      { args: ['curl', '--fail', settings.validation.healthUrl] },
      'curl-as-args',
    );
    await thrown(runJob(platform, clock, curlAsArgs));
    const result = platform.jobResult(NAMESPACE, 'curl-as-args');
    expect(result?.exitCode).toBe(252);
    expect(result?.log.at(-1)).toBe('aws: error: argument command: Invalid choice, valid choices are:');
  });

  it('has no `aws` arguments at all when given no command: the usage error', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const bare = without(blockchainRestoreJob(run, backup(), settings), ['command', 'args'], 'bare');
    await thrown(runJob(platform, clock, bare));
    expect(platform.jobResult(NAMESPACE, 'bare')).toMatchObject({ exitCode: 252 });
    expect(platform.jobResult(NAMESPACE, 'bare')?.log.at(-1)).toBe(
      'aws: error: the following arguments are required: command',
    );
  });

  it('cannot start `curl` as a command: it is not on the image’s PATH', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const job = withContainer(
      blockchainRestoreJob(run, backup(), settings),
      { command: ['curl', 'http://x'] },
      'curl-command',
    );
    await thrown(runJob(platform, clock, job));
    expect(platform.jobResult(NAMESPACE, 'curl-command')).toMatchObject({
      exitCode: 128,
      startError: expect.stringContaining('exec: "curl": executable file not found in $PATH'),
    });
  });

  it.each([
    ['a shell it has', ['sh', '-c', 'true']],
    ['an AWS CLI command it does not run', ['aws', 'sts', 'get-caller-identity']],
  ])('refuses to guess: %s is an UnmodelledContainerError', async (_what, command) => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const job = withContainer(blockchainRestoreJob(run, backup(), settings), { command }, 'unmodelled');
    expect(await thrown(runJob(platform, clock, job))).toBeInstanceOf(UnmodelledContainerError);
  });

  it('never pulls an image the registry does not have: ImagePullBackOff until the poll gives up', async () => {
    const { platform, clock } = drSite();
    await applyClaim(platform, clock);
    const job = withContainer(
      blockchainRestoreJob(run, backup(), settings),
      { image: 'aor/recovery-check:1' },
      'no-image',
    );
    expect(await thrown(runJob(platform, clock, job, 5 * MINUTE))).toBeInstanceOf(JobDeadlineExceededError);
    expect(platform.jobResult(NAMESPACE, 'no-image')?.waiting?.reason).toBe('ImagePullBackOff');
  });
});

describe('the endpoint check: curl of the health URL from inside the cluster', () => {
  it('cannot connect while the Service has no ready endpoint (exit 7), and gets its answer once the rollout is done', async () => {
    const { platform, clock } = drSite();
    // The Service first, its pods not yet: nothing behind it is ready.
    await platform.ports(clock).cluster.applyManifests({
      namespace: NAMESPACE,
      manifests: settings.manifests
        .filter((manifest) => manifest.kind === 'Service')
        .map((manifest) => labelledForRun(run, manifest)),
    });
    const early = {
      ...endpointCheckJob(run, settings),
      metadata: { ...endpointCheckJob(run, settings).metadata, name: 'early' },
    };
    expect(await thrown(runJob(platform, clock, early))).toBeInstanceOf(JobFailedError);
    expect(platform.jobResult(NAMESPACE, 'early')).toMatchObject({
      exitCode: 7,
      terminationMessage:
        "curl: (7) Failed to connect to blockchain-service port 9090 after 1 ms: Couldn't connect to server",
    });
    await restoreApplications(platform, clock);
    const startedAt = clock.now();
    expect(await runJob(platform, clock, endpointCheckJob(run, settings))).toMatchObject({
      state: 'complete',
    });
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(
      CONTROLLER_REACTION_MS + JOB_POD_STARTUP_MS + ENDPOINT_CHECK_MS,
    );
    expect(platform.jobResult(NAMESPACE, run.plan.checkJobs.endpoint)).toMatchObject({
      exitCode: 0,
      log: [],
    });
  });

  it('cannot resolve a host that is no Service (exit 6)', async () => {
    const { platform, clock } = drSite();
    const elsewhere = {
      ...settings,
      validation: { ...settings.validation, healthUrl: 'http://nothing:8080/health' },
    };
    await thrown(runJob(platform, clock, endpointCheckJob(run, elsewhere)));
    expect(platform.jobResult(NAMESPACE, run.plan.checkJobs.endpoint)).toMatchObject({
      exitCode: 6,
      terminationMessage: 'curl: (6) Could not resolve host: nothing',
    });
  });
});

describe('the integrity check: psql comparing the restored database with the manifest', () => {
  it('passes when every table’s rows match, printing the report as a NOTICE', async () => {
    const { platform, clock } = drSite();
    const target = await restoreDatabase(platform, clock);
    const startedAt = clock.now();
    await runJob(platform, clock, integrityCheckJob(run, target, settings));
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(ROW_COUNT_CHECK_MS);
    const result = platform.jobResult(NAMESPACE, run.plan.checkJobs.integrity);
    expect(result?.exitCode).toBe(0);
    const notice = result?.log[0] ?? '';
    expect(notice).toMatch(/^NOTICE: {2}\{"check": "row-counts", "passed": true, "tables": \{/);
    const counts = Object.values(target.manifest.tables).map((table) => table.rows);
    for (const rows of counts) expect(notice).toContain(`"actual": ${rows}, "expected": ${rows}`);
  });

  it('fails (exit 1) naming the tables short of the manifest, when the restored data is', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('validate-recovery');
    const target = await restoreDatabase(platform, clock);
    expect(await thrown(runJob(platform, clock, integrityCheckJob(run, target, settings)))).toBeInstanceOf(
      JobFailedError,
    );
    const result = platform.jobResult(NAMESPACE, run.plan.checkJobs.integrity);
    expect(result?.exitCode).toBe(1);
    const expected = target.manifest.tables.sensor_tracks?.rows ?? 0;
    expect(result?.terminationMessage).toContain(
      `"sensor_tracks": {"actual": ${expected - SHORT_TABLE.rows}, "expected": ${expected}}`,
    );
    expect(result?.log.slice(1)).toEqual([
      'ERROR:  row-counts differ from the integrity manifest: sensor_tracks',
      'CONTEXT:  PL/pgSQL function inline_code_block line 24 at RAISE',
    ]);
  });

  it('compares a promoted standby’s rows as at least the manifest’s: newer rows pass, missing rows fail', async () => {
    const { platform, clock } = drSite();
    const restored = await restoreDatabase(platform, clock);
    const standbyRun = { ...run, plan: { ...run.plan, databaseMode: 'warm-standby' as const } };
    // The manifest of an earlier day: the database holds more rows than it lists.
    const older = Object.fromEntries(
      Object.entries(restored.manifest.tables).map(([table, entry]) => [
        table,
        { rows: (entry.rows ?? 0) - 5 },
      ]),
    );
    const target = { ...restored, manifest: { ...restored.manifest, tables: older } };
    await runJob(platform, clock, integrityCheckJob(standbyRun, target, settings));
    expect(platform.jobResult(NAMESPACE, run.plan.checkJobs.integrity)?.exitCode).toBe(0);
    const asSnapshot = withContainer(integrityCheckJob(run, target, settings), {}, 'as-snapshot');
    expect(await thrown(runJob(platform, clock, asSnapshot))).toBeInstanceOf(JobFailedError);
    const ahead = { ...older, operators: { rows: 10_000 } };
    const short = { ...target, manifest: { ...target.manifest, tables: ahead } };
    const standbyShort = withContainer(integrityCheckJob(standbyRun, short, settings), {}, 'short');
    expect(await thrown(runJob(platform, clock, standbyShort))).toBeInstanceOf(JobFailedError);
    expect(platform.jobResult(NAMESPACE, 'short')?.log.slice(1, 2)).toEqual([
      'ERROR:  row-counts fall short of the integrity manifest: operators',
    ]);
  });

  it('cannot translate the host of a database not yet restored (psql exit 2)', async () => {
    const { platform, clock } = drSite();
    const host = 'phoenix-rooivalk-dr-drill.abcdefabcdef.us-gov-east-1.rds.amazonaws.com';
    const manifest = { day: DAY, tables: { operators: { rows: 212 } } };
    await thrown(runJob(platform, clock, integrityCheckJob(run, { endpoint: host, manifest }, settings)));
    expect(platform.jobResult(NAMESPACE, run.plan.checkJobs.integrity)).toMatchObject({
      exitCode: 2,
      terminationMessage: `psql: error: could not translate host name "${host}" to address: Name or service not known`,
    });
    expect(clock.now()).toBeGreaterThanOrEqual(
      platform.epoch + JOB_POD_STARTUP_MS + CHECK_CONNECT_FAILURE_MS,
    );
  });

  it('never starts without its Secret (CreateContainerConfigError), or without the key it names', async () => {
    const { platform, clock } = drSite();
    const target = await restoreDatabase(platform, clock);
    const secret = DR_RECOVERY_PREREQUISITES.integritySecret.name;
    const stored = platform.kubernetes.object({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: NAMESPACE,
      name: secret,
    });
    if (!stored) throw new Error('the DR site has no integrity Secret');
    platform.kubernetes.addObject({ ...stored, data: { username: 'YQ==' } });
    const missingKey = await thrown(
      runJob(platform, clock, integrityCheckJob(run, target, settings), 5 * MINUTE),
    );
    expect(missingKey).toBeInstanceOf(JobDeadlineExceededError);
    expect(platform.jobResult(NAMESPACE, run.plan.checkJobs.integrity)?.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: `couldn't find key password in Secret ${NAMESPACE}/${secret}`,
    });

    deleteObject(platform, 'Secret', secret);
    const renamed = {
      ...run,
      plan: { ...run.plan, checkJobs: { ...run.plan.checkJobs, integrity: 'no-secret' } },
    };
    await thrown(runJob(platform, clock, integrityCheckJob(renamed, target, settings), 5 * MINUTE));
    expect(platform.jobResult(NAMESPACE, 'no-secret')?.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: `secret "${secret}" not found`,
    });
  });
});

describe('failRecoveryStep, as the Jobs meet it', () => {
  it('validate-site: a restore volume whose storage class is gone is never bound, so the pod is never scheduled', async () => {
    const { platform, clock } = drSite();
    const failure = platform.failRecoveryStep('validate-site');
    expect(failure.description).toBe('storage class gp3-encrypted is missing from the DR cluster');
    expect(await platform.ports(clock).cluster.storageClassExists('gp3-encrypted')).toBe(false);
    await applyClaim(platform, clock);
    await thrown(runJob(platform, clock, blockchainRestoreJob(run, backup(), settings), 2 * MINUTE));
    expect(platform.jobResult(NAMESPACE, run.plan.restoreJob)?.pendingReason).toContain(
      'storageclass.storage.k8s.io "gp3-encrypted" not found',
    );
    failure.remove();
    const unreachable = platform.failRecoveryStep('validate-site', { siteFailure: 'cluster-unreachable' });
    expect(await thrown(platform.ports(clock).cluster.storageClassExists('gp3-encrypted'))).toBeInstanceOf(
      KubernetesTimeoutError,
    );
    unreachable.remove();
  });

  it('restore-blockchain-data: the restore role is denied by S3, and the CLI says so', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('restore-blockchain-data');
    await applyClaim(platform, clock);
    const error = await thrown(runJob(platform, clock, blockchainRestoreJob(run, backup(), settings)));
    expect((error as JobFailedError).lastStatus.message).toBe(
      'BackoffLimitExceeded: Job has reached the specified backoff limit',
    );
    expect(platform.jobResult(NAMESPACE, run.plan.restoreJob)?.terminationMessage).toMatch(
      /^fatal error: An error occurred \(AccessDenied\) when calling the ListObjectsV2 operation: User: arn:aws-us-gov:sts::111122223333:assumed-role\/phoenix-rooivalk-dr-blockchain-restore\/.* s3:ListBucket on resource: "arn:aws-us-gov:s3:::phoenix-rooivalk-backups"/,
    );
  });

  it('restore-database: the restore ends in incompatible-restore, a status no waiting cures', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('restore-database');
    expect((await thrown(restoreDatabase(platform, clock))).message).toBe(
      'restore failed: incompatible-restore',
    );
  });

  it('restore-applications: the blockchain pods crash-loop and the rollout hits its deadline', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('restore-applications');
    const error = await thrown(restoreApplications(platform, clock));
    expect(error).toBeInstanceOf(RolloutDeadlineExceededError);
    expect(error.message).toContain(`StatefulSet ${NAMESPACE}/blockchain-node`);
  });
});
