import { describe, expect, it } from 'vitest';
import { DynamoDbRecoveryRunStore } from '../../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import type { ClusterOperations } from '../../../lambdas/core/operations/cluster';
import type { Notifier } from '../../../lambdas/core/operations/ports';
import type {
  BackupCatalog,
  DatabaseRecovery,
  SiteIdentity,
  TrafficRouting,
} from '../../../lambdas/core/recovery/ports';
import { RecoveryAlreadyRunningError } from '../../../lambdas/core/recovery/recovery';
import { RUNS_SUBJECT_INDEX } from '../../../lambdas/core/recovery/recovery-contract';
import { RecoveryService } from '../../../lambdas/core/recovery/recovery-service';
import { recoverySettings } from '../../../lib/constructs/disaster-recovery-workflow';
import { exampleConfig } from '../../support/app';
import { useEmbeddedDynamoDb } from '../../support/embedded-dynamodb';
import { namedError, RecordingTrail } from '../../support/recording-trail';

const dynamo = useEmbeddedDynamoDb();
const settings = recoverySettings(exampleConfig());
const request = {
  drSite: 'us-gov-east-1',
  recoveryType: 'full',
  backupDate: 'latest',
  dryRun: true,
  mode: 'snapshot',
};
const execution =
  'arn:aws-us-gov:states:us-gov-east-1:111122223333:execution:aor-disaster-recovery:drill-7f3a2c';
// A retry comes seconds after the failed attempt: whatever the clock stamps differs between them.
const RETRY_DELAY_MS = 5_000;

const snapshot = {
  identifier: 'rds:phoenix-rooivalk-2026-11-23-03-00',
  arn: 'arn:aws-us-gov:rds:us-gov-east-1:111122223333:snapshot:rds:phoenix-rooivalk-2026-11-23-03-00',
  createdAt: '2026-11-23T03:00:00.000Z',
  sourceDatabase: 'phoenix-rooivalk',
  status: 'available',
};
const backup = {
  bucket: 'phoenix-rooivalk-backups',
  prefix: 'blockchain/2026-11-23/',
  objects: 12,
  bytes: 4096,
  takenAt: '2026-11-23T03:30:00.000Z',
};

/** Only what the steps under test touch; anything else is a mistake of the test. */
function notUsed<T>(port: string): T {
  return new Proxy(
    {},
    {
      get: (_target, operation) => () => {
        throw new Error(`${port}.${String(operation)} is not used by this test`);
      },
    },
  ) as T;
}

async function setUp(wrap: (runs: DynamoDbRecoveryRunStore) => DynamoDbRecoveryRunStore = (runs) => runs) {
  const runs = wrap(
    new DynamoDbRecoveryRunStore(
      dynamo.client().documentClient,
      await dynamo.freshTable('runs', [RUNS_SUBJECT_INDEX]),
    ),
  );
  const trail = new RecordingTrail();
  const notices: string[] = [];
  const notifier: Notifier = {
    publish: async (_channel, notice) => `message-${notices.push(notice.subject)}`,
  };
  let now = Date.parse('2026-11-23T04:00:00.000Z');
  const clock = {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
  const service = new RecoveryService(
    {
      cluster: {
        clusterReachable: async () => true,
        storageClassExists: async () => true,
      } as Partial<ClusterOperations> as ClusterOperations,
      recovery: {
        findSnapshot: async () => snapshot,
        restoreStatus: async (target) => ({
          identifier: target.identifier,
          status: 'available',
          available: true,
          failed: false,
          endpoint: `${target.identifier}.example.internal`,
          deletionProtection: false,
        }),
      } as Partial<DatabaseRecovery> as DatabaseRecovery,
      backups: { findBlockchainBackup: async () => backup } as Partial<BackupCatalog> as BackupCatalog,
      routing: notUsed<TrafficRouting>('routing'),
      identity: {
        whoAmI: async () => ({
          account: '111122223333',
          arn: 'arn:aws-us-gov:sts::111122223333:assumed-role/dr',
        }),
      } satisfies SiteIdentity,
      runs,
      trail,
      notifier,
      clock: clock.now,
    },
    settings,
  );
  return { service, runs, trail, clock, notices };
}

async function failure(attempt: Promise<unknown>): Promise<Error> {
  return attempt.then(
    () => expect.unreachable('the attempt must fail'),
    (error: Error) => error,
  );
}

describe('a retried recovery step records each action exactly once', () => {
  it('begin: the retry of a start whose record failed carries on with the run it started, recorded once', async () => {
    const { service, runs, trail, clock, notices } = await setUp();
    trail.failNext('ThrottlingException');
    expect((await failure(service.begin(request, execution))).name).toBe('ThrottlingException');
    expect(notices).toHaveLength(1);
    clock.advance(RETRY_DELAY_MS);

    const run = await service.begin(request, execution);

    expect(run).toMatchObject({ runId: 'DR-20261123T040000Z-7f3a2c', startedAt: '2026-11-23T04:00:00.000Z' });
    const started = trail.storedOf('recovery.started');
    expect(started).toHaveLength(1);
    expect(started[0]?.entry).toBe(trail.attemptsOf('recovery.started')[0]);
    expect(await runs.getRun(run.runId)).toMatchObject({ status: 'running', execution });
    // The people were told once: the retry found the start recorded and sent nothing again.
    expect(notices).toEqual([expect.stringContaining('started')]);
    expect(started[0]?.record.outputs).toMatchObject({ messageId: 'message-1' });
  });

  it('begin: another execution is still refused while the run holds the lock', async () => {
    const { service } = await setUp();
    await service.begin(request, execution);
    await expect(service.begin(request, `${execution}-other`)).rejects.toThrow(RecoveryAlreadyRunningError);
  });

  it('a step whose record landed but whose answer was lost is not recorded again by the retry', async () => {
    const { service, runs, trail, clock } = await setUp();
    const run = await service.begin(request, execution);
    const restoring = {
      phase: 'restore',
      startedAt: run.startedAt,
      recoveryPoint: snapshot.createdAt,
      preparationSeconds: 0,
      status: 'creating',
      available: false,
      nextPollSeconds: 30,
    } as const;
    trail.failNext('ThrottlingException', { landed: true });
    await failure(service.checkDatabase(run, restoring));
    clock.advance(RETRY_DELAY_MS);

    expect(await service.checkDatabase(run, restoring)).toMatchObject({ available: true });

    expect(trail.storedOf('recovery.restore-database')).toHaveLength(1);
    expect((await runs.readSteps(run.runId)).map((s) => s.step)).toEqual(['restore-database']);
  });

  it('a step whose append was throttled records the first attempt’s record, and lists the step once', async () => {
    const { service, runs, trail, clock } = await setUp();
    const run = await service.begin(request, execution);
    clock.advance(1_000);
    trail.failNext('ThrottlingException');
    await failure(service.validateSite(run));
    clock.advance(RETRY_DELAY_MS);

    const site = await service.validateSite(run);

    expect(site).toMatchObject({ account: '111122223333', snapshot, backup });
    const validated = trail.storedOf('recovery.validate-site');
    expect(validated).toHaveLength(1);
    expect(validated[0]?.entry).toBe(trail.attemptsOf('recovery.validate-site')[0]);
    expect(await runs.readSteps(run.runId)).toEqual([
      expect.objectContaining({ step: 'validate-site', startedAt: '2026-11-23T04:00:01.000Z' }),
    ]);
  });
});

describe('nothing is half-written', () => {
  it('a start whose owed record cannot be stored appends nothing, and its retry records it once', async () => {
    let failures = 1;
    const { service, trail } = await setUp((runs) => {
      const flaky = Object.create(runs) as DynamoDbRecoveryRunStore;
      flaky.putRecordOnce = (runId, key, entry) => {
        if (failures-- > 0) return Promise.reject(namedError('ProvisionedThroughputExceededException'));
        return runs.putRecordOnce(runId, key, entry);
      };
      return flaky;
    });

    const first = await failure(service.begin(request, execution));
    expect(first.name).toBe('ProvisionedThroughputExceededException');
    expect(trail.calls).toEqual([]);

    await service.begin(request, execution);
    expect(trail.storedOf('recovery.started')).toHaveLength(1);
  });
});
