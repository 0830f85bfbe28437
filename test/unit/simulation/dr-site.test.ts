import { describe, expect, it } from 'vitest';
import {
  InvalidRestoreRequestError,
  RestoreTargetConflictError,
} from '../../../lambdas/adapters/aws/rds-databases';
import {
  RdsThrottledError,
  SnapshotNotAvailableError,
  SnapshotNotFoundError,
} from '../../../lambdas/adapters/aws/rds-errors';
import {
  InvalidBackupDateError,
  InvalidIntegrityManifestError,
} from '../../../lambdas/adapters/aws/s3-backup-catalog';
import type { RestoreRequest, RestoreStatus } from '../../../lambdas/core/recovery/ports';
import {
  RDS_API_MS,
  RDS_DELETE_MS,
  RDS_FINAL_SNAPSHOT_MS,
  RDS_RESTORE_BACKING_UP_MAX_MS,
  RDS_RESTORE_BACKING_UP_MIN_MS,
  RDS_RESTORE_CREATING_MAX_MS,
  RDS_RESTORE_CREATING_MIN_MS,
} from '../../../local/simulation/durations';
import {
  DR_BLOCKCHAIN_BACKUP_GIB,
  PHOENIX_ROOIVALK_DR_SITE,
  tableContentsAt,
} from '../../../local/simulation/phoenix-rooivalk-dr';
import type { SimulatedPlatform } from '../../../local/simulation/platform';
import type { SimulatedClock } from '../../../local/workflow/clock';
import { drSite, NAMESPACE, thrown } from './fixtures';

const SITE = PHOENIX_ROOIVALK_DR_SITE;
const BUCKET = 'phoenix-rooivalk-backups';
const RUN_TAG = 'aor:recovery-run';

async function restoreRequest(platform: SimulatedPlatform, clock: SimulatedClock, runId = 'DR-1') {
  const snapshot = await platform.ports(clock).recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase });
  if (!snapshot) throw new Error('the DR site has no snapshot');
  const request: RestoreRequest = {
    snapshot,
    target: SITE.database,
    instanceClass: 'db.r5.xlarge',
    subnetGroupName: 'phoenix-rooivalk-dr-db-subnet-group',
    securityGroupIds: ['sg-0a1b2c3d4e5f60021'],
    tags: { [RUN_TAG]: runId, 'aor:dry-run': 'false' },
  };
  return request;
}

/** Polls the restore every 30 s until it is available or failed; returns every status seen. */
async function pollRestore(platform: SimulatedPlatform, clock: SimulatedClock) {
  const seen: RestoreStatus[] = [];
  for (;;) {
    const status = await platform.ports(clock).recovery.restoreStatus(SITE.database);
    if (!status) throw new Error('the restore disappeared');
    seen.push(status);
    if (status.available || status.failed) return seen;
    clock.advance(30_000);
  }
}

describe('the simulated DR site', () => {
  it('has a reachable, empty DR cluster with the storage class, and answers STS as the tasks’ role', async () => {
    const { platform, ports } = drSite();
    expect(platform.layout).toMatchObject({
      region: 'us-gov-east-1',
      clusterName: 'phoenix-rooivalk-dr',
      database: { kind: 'instance', identifier: 'phoenix-rooivalk-dr' },
    });
    expect(await ports.cluster.clusterReachable()).toBe(true);
    expect(await ports.cluster.storageClassExists('gp3-encrypted')).toBe(true);
    expect(await ports.cluster.listPods({ namespace: NAMESPACE })).toEqual([]);
    const identity = await ports.identity.whoAmI();
    expect(identity.account).toBe('111122223333');
    expect(identity.arn).toMatch(/^arn:aws-us-gov:sts::111122223333:assumed-role\/aor-disaster-recovery\//);
  });

  it('finds the newest snapshot copy, the night’s, hours before the epoch, or the newest of a given day', async () => {
    const { platform, ports, clock } = drSite();
    const latest = await ports.recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase });
    expect(latest).toEqual({
      identifier: 'phoenix-rooivalk-production-2026-11-02',
      arn: 'arn:aws-us-gov:rds:us-gov-east-1:111122223333:snapshot:phoenix-rooivalk-production-2026-11-02',
      createdAt: '2026-11-02T03:11:00.000Z',
      sourceDatabase: 'phoenix-rooivalk-production',
      status: 'available',
    });
    // The recovery point a snapshot restore at 14:00 achieves: the nightly snapshot's, nearly 11 hours old.
    expect((platform.epoch - Date.parse(latest?.createdAt ?? '')) / 3_600_000).toBeCloseTo(10.82, 2);
    expect(clock.now() - platform.epoch).toBe(RDS_API_MS);

    const find = (day: string) => ports.recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase, day });
    expect(await find('2026-10-30')).toMatchObject({
      identifier: 'phoenix-rooivalk-production-2026-10-30',
      createdAt: '2026-10-30T03:11:00.000Z',
    });
    // The day of the manual pre-maintenance snapshot (01:15): the nightly one is newer.
    expect((await find('2026-10-31'))?.identifier).toBe('phoenix-rooivalk-production-2026-10-31');
    expect((await find('2026-10-27'))?.createdAt).toBe('2026-10-27T03:09:00.000Z');
    expect(await find('2026-10-26')).toBeUndefined();
    expect(await thrown(find('2026-02-30'))).toBeInstanceOf(InvalidBackupDateError);
    expect(
      await ports.recovery.findSnapshot({ sourceDatabase: { kind: 'instance', identifier: 'other' } }),
    ).toBeUndefined();
  });

  it('keeps each day’s blockchain backup and an integrity manifest that matches the day’s snapshot', async () => {
    const { platform, ports } = drSite();
    const newest = await ports.backups.findBlockchainBackup({ bucket: BUCKET });
    expect(newest).toEqual({
      bucket: BUCKET,
      prefix: 'blockchain/2026-11-02/',
      objects: 4,
      bytes: DR_BLOCKCHAIN_BACKUP_GIB * 1024 ** 3,
      takenAt: '2026-11-02T13:56:00.000Z',
    });
    expect(await ports.backups.findBlockchainBackup({ bucket: BUCKET, day: '2026-10-29' })).toMatchObject({
      prefix: 'blockchain/2026-10-29/',
      takenAt: '2026-10-29T03:00:00.000Z',
    });
    expect(await ports.backups.findBlockchainBackup({ bucket: BUCKET, day: '2026-10-01' })).toBeUndefined();

    // A day's manifest counts what a restore of that day holds: the day's newest database snapshot.
    const manifest = await ports.backups.readIntegrityManifest({ bucket: BUCKET, day: '2026-10-29' });
    expect(manifest).toEqual({
      day: '2026-10-29',
      tables: tableContentsAt(platform.seed, platform.epoch, Date.parse('2026-10-29T03:04:00Z')),
    });
    expect(
      (await ports.backups.readIntegrityManifest({ bucket: BUCKET, day: '2026-11-02' }))?.tables,
    ).toEqual(tableContentsAt(platform.seed, platform.epoch, Date.parse('2026-11-02T03:11:00Z')));
    expect(manifest?.tables.sensor_tracks?.rows).toBeGreaterThan(10_000_000);
    expect(await ports.backups.readIntegrityManifest({ bucket: BUCKET, day: '2026-10-01' })).toBeUndefined();

    platform.putS3Text(`s3://${BUCKET}/manifests/2026-10-01/integrity.json`, '{"day": "2026-10-01", "tab');
    expect(
      await thrown(ports.backups.readIntegrityManifest({ bucket: BUCKET, day: '2026-10-01' })),
    ).toBeInstanceOf(InvalidIntegrityManifestError);
    platform.putS3Text(
      `s3://${BUCKET}/manifests/2026-10-02/integrity.json`,
      '{"day":"2026-10-01","tables":{}}',
    );
    expect(
      (await thrown(ports.backups.readIntegrityManifest({ bucket: BUCKET, day: '2026-10-02' }))).message,
    ).toContain('describes 2026-10-01, not 2026-10-02');
    expect((await thrown(ports.backups.findBlockchainBackup({ bucket: 'nope-bucket' }))).name).toBe(
      'NoSuchBucket',
    );
  });

  it('makes the drill’s backup size configurable', async () => {
    const { ports } = drSite({ blockchainBackupGiB: 2, backupDays: 3 });
    expect((await ports.backups.findBlockchainBackup({ bucket: BUCKET }))?.bytes).toBe(2 * 1024 ** 3);
    expect(await ports.backups.findBlockchainBackup({ bucket: BUCKET, day: '2026-10-30' })).toBeUndefined();
    expect(await ports.backups.findBlockchainBackup({ bucket: BUCKET, day: '2026-10-31' })).toBeDefined();
  });
});

describe('simulated RDS restore from a snapshot', () => {
  it('goes creating, backing-up, available in 15-25 minutes, with the endpoint once the instance is up', async () => {
    const { platform, clock } = drSite();
    const request = await restoreRequest(platform, clock);
    const startedAt = clock.now();
    const first = await platform.ports(clock).recovery.startRestore(request);
    expect(first).toEqual({
      identifier: 'phoenix-rooivalk-dr',
      status: 'creating',
      available: false,
      failed: false,
      runTag: 'DR-1',
      deletionProtection: false,
    });
    const seen = await pollRestore(platform, clock);
    const statuses = [...new Set(seen.map((status) => status.status))];
    expect(statuses).toEqual(['creating', 'backing-up', 'available']);
    expect(seen.filter((status) => status.status === 'creating').every((s) => s.endpoint === undefined)).toBe(
      true,
    );
    expect(seen.at(-1)?.endpoint).toMatch(
      /^phoenix-rooivalk-dr\.[0-9a-f]{12}\.us-gov-east-1\.rds\.amazonaws\.com$/,
    );
    const took = clock.now() - startedAt;
    expect(took).toBeGreaterThanOrEqual(RDS_RESTORE_CREATING_MIN_MS + RDS_RESTORE_BACKING_UP_MIN_MS);
    expect(took).toBeLessThanOrEqual(RDS_RESTORE_CREATING_MAX_MS + RDS_RESTORE_BACKING_UP_MAX_MS + 31_000);
    // The restored instance is an RDS instance like any other.
    expect(await platform.ports(clock).database.health(SITE.database)).toMatchObject({
      status: 'available',
      available: true,
    });
  });

  it('takes the same time for a seed, and resumes its own restore when started again with the same tags', async () => {
    const run = async (seed: string) => {
      const { platform, clock } = drSite({ seed });
      await platform.ports(clock).recovery.startRestore(await restoreRequest(platform, clock));
      const seen = await pollRestore(platform, clock);
      return { platform, clock, took: clock.now() - platform.epoch, seen };
    };
    const a = await run('drill-a');
    expect((await run('drill-a')).took).toBe(a.took);
    const { platform, clock } = a;
    const again = await platform.ports(clock).recovery.startRestore(await restoreRequest(platform, clock));
    expect(again).toMatchObject({ status: 'available', available: true, endpoint: a.seen.at(-1)?.endpoint });
    const other = await thrown(
      platform.ports(clock).recovery.startRestore(await restoreRequest(platform, clock, 'DR-2')),
    );
    expect(other).toBeInstanceOf(RestoreTargetConflictError);
    expect(other.message).toBe(
      'DB instance phoenix-rooivalk-dr already exists, created by recovery run DR-1',
    );
  });

  it('refuses a restore without the run tag, onto a database it does not own, or from an unusable snapshot', async () => {
    const { platform, clock, ports } = drSite();
    const request = await restoreRequest(platform, clock);
    expect(await thrown(ports.recovery.startRestore({ ...request, tags: {} }))).toBeInstanceOf(
      InvalidRestoreRequestError,
    );
    expect(
      await thrown(
        ports.recovery.startRestore({
          ...request,
          snapshot: { ...request.snapshot, arn: `${request.snapshot.arn}-x` },
        }),
      ),
    ).toBeInstanceOf(SnapshotNotFoundError);
    platform.rdsRecovery.addSnapshot({
      identifier: 'phoenix-rooivalk-production-copying',
      source: SITE.sourceDatabase,
      createdAt: clock.now(),
      status: 'copying',
      tables: {},
    });
    const copying = platform.rdsRecovery.snapshotsOf(SITE.sourceDatabase, clock.now())[0];
    if (!copying) throw new Error('no snapshot');
    expect(await thrown(ports.recovery.startRestore({ ...request, snapshot: copying }))).toBeInstanceOf(
      SnapshotNotAvailableError,
    );
    // `latest` skips a snapshot whose copy is still running.
    expect((await ports.recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase }))?.status).toBe(
      'available',
    );
    platform.rds.addInstance({ identifier: 'phoenix-rooivalk-dr', multiAz: true, connections: 40 });
    const conflict = await thrown(ports.recovery.startRestore(request));
    expect(conflict).toBeInstanceOf(RestoreTargetConflictError);
    expect(conflict.message).toContain('was not created by a recovery run');
  });

  it('deletes only the run’s own database: a final snapshot first, deleting for a while, then gone', async () => {
    const { platform, clock, ports } = drSite();
    expect(await ports.recovery.deleteRestored(SITE.database, 'DR-1')).toEqual({ deleted: false });
    await ports.recovery.startRestore(await restoreRequest(platform, clock));
    // Restored and backed up: RDS takes a final snapshot of it.
    clock.advance(RDS_RESTORE_CREATING_MAX_MS + RDS_RESTORE_BACKING_UP_MAX_MS);
    expect(await ports.recovery.deleteRestored(SITE.database, 'DR-2')).toEqual({
      deleted: false,
      kept: 'recovery run DR-1 created it, not DR-2',
    });
    const deletion = await ports.recovery.deleteRestored(SITE.database, 'DR-1');
    expect(deletion).toEqual({ deleted: true, finalSnapshot: 'phoenix-rooivalk-dr-final-dr-1' });
    const deletedAt = clock.now();
    expect((await ports.recovery.restoreStatus(SITE.database))?.status).toBe('deleting');
    expect(await ports.recovery.deleteRestored(SITE.database, 'DR-1')).toEqual(deletion);
    const finalSnapshot = platform.rdsRecovery.snapshotsOf(SITE.database, clock.now())[0];
    expect(finalSnapshot).toMatchObject({ identifier: 'phoenix-rooivalk-dr-final-dr-1', status: 'creating' });
    // A describe answers as of its round trip's end.
    clock.advanceTo(deletedAt + RDS_FINAL_SNAPSHOT_MS + RDS_DELETE_MS - RDS_API_MS - 1);
    expect((await ports.recovery.restoreStatus(SITE.database))?.status).toBe('deleting');
    expect(await ports.recovery.restoreStatus(SITE.database)).toBeUndefined();
    expect(await ports.recovery.deleteRestored(SITE.database, 'DR-1')).toEqual({ deleted: false });
    expect(platform.rdsRecovery.snapshotsOf(SITE.database, clock.now())[0]?.status).toBe('available');

    platform.rds.addInstance({ identifier: 'phoenix-rooivalk-dr', multiAz: true, connections: 40 });
    expect(await ports.recovery.deleteRestored(SITE.database, 'DR-1')).toEqual({
      deleted: false,
      kept: 'it has no aor:recovery-run tag: no recovery run created it',
    });
    expect((await ports.recovery.restoreStatus(SITE.database))?.status).toBe('available');
  });

  it('deletes a restore RDS could not bring up without a final snapshot, which RDS cannot take', async () => {
    const { platform, clock, ports } = drSite();
    platform.rdsRecovery.failingRestoreStatus = 'incompatible-restore';
    await ports.recovery.startRestore(await restoreRequest(platform, clock));
    clock.advance(RDS_RESTORE_CREATING_MAX_MS);
    expect(await ports.recovery.deleteRestored(SITE.database, 'DR-1')).toEqual({ deleted: true });
    expect(platform.rdsRecovery.snapshotsOf(SITE.database, clock.now())).toEqual([]);
  });

  it('keeps, at the run’s success, what it restored: protected, marked promoted, no longer any run’s to delete', async () => {
    const { platform, clock, ports } = drSite();
    await ports.recovery.startRestore(await restoreRequest(platform, clock));
    expect(await thrown(ports.recovery.protectRecovered(SITE.database, 'DR-2'))).toBeInstanceOf(
      RestoreTargetConflictError,
    );
    expect(await ports.recovery.protectRecovered(SITE.database, 'DR-1')).toEqual({
      identifier: SITE.database.identifier,
      deletionProtection: true,
      promotedBy: 'DR-1',
    });
    expect(await ports.recovery.restoreStatus(SITE.database)).toMatchObject({
      deletionProtection: true,
      promotedBy: 'DR-1',
    });
    expect((await ports.recovery.restoreStatus(SITE.database))?.runTag).toBeUndefined();
    expect(await ports.recovery.deleteRestored(SITE.database, 'DR-1')).toEqual({
      deleted: false,
      kept: "recovery run DR-1 made it the site's database (aor:recovery-promoted)",
    });
    // A retry has nothing left to do, and a later run cannot take it over.
    expect(await ports.recovery.protectRecovered(SITE.database, 'DR-1')).toMatchObject({
      promotedBy: 'DR-1',
    });
    expect(
      (await thrown(ports.recovery.startRestore(await restoreRequest(platform, clock, 'DR-3')))).message,
    ).toBe("DB instance phoenix-rooivalk-dr already exists: recovery run DR-1 made it the site's database");
  });

  it('fails any DR call by name through injectFault, logging it', async () => {
    const { platform, ports } = drSite();
    platform.injectFault({
      operation: 'findSnapshot',
      error: ({ sourceDatabase }) =>
        new RdsThrottledError(`RDS throttled a request for ${sourceDatabase.identifier}`),
      times: 1,
    });
    expect(await thrown(ports.recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase }))).toBeInstanceOf(
      RdsThrottledError,
    );
    expect(await ports.recovery.findSnapshot({ sourceDatabase: SITE.sourceDatabase })).toBeDefined();
    expect(platform.calls.map((call) => [call.operation, call.error])).toEqual([
      ['findSnapshot', 'RdsThrottledError'],
      ['findSnapshot', undefined],
    ]);
  });
});
