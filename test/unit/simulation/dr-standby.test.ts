import { describe, expect, it } from 'vitest';
import { RestoreTargetConflictError } from '../../../lambdas/adapters/aws/rds-databases';
import { DatabaseStateConflictError } from '../../../lambdas/adapters/aws/rds-errors';
import {
  RehearsalNotSupportedError,
  StandbyNotPromotableError,
} from '../../../lambdas/adapters/aws/rds-standby-promotion';
import type { DatabaseRef } from '../../../lambdas/core/operations/ports';
import type { RehearsalRequest, RestoreStatus } from '../../../lambdas/core/recovery/ports';
import {
  RDS_API_MS,
  RDS_PROMOTION_BACKING_UP_MAX_MS,
  RDS_PROMOTION_BACKING_UP_MIN_MS,
  RDS_PROMOTION_MODIFYING_MAX_MS,
  RDS_PROMOTION_MODIFYING_MIN_MS,
  RDS_PROMOTION_REBOOTING_MAX_MS,
  RDS_PROMOTION_REBOOTING_MIN_MS,
  RDS_REPLICA_CREATING_MAX_MS,
  RDS_REPLICA_CREATING_MIN_MS,
  RDS_REPLICA_LAG_MAX_SECONDS,
} from '../../../local/simulation/durations';
import { PHOENIX_ROOIVALK_DR_SITE, tableContentsAt } from '../../../local/simulation/phoenix-rooivalk-dr';
import type { SimulatedPlatform } from '../../../local/simulation/platform';
import type { SimulatedClock } from '../../../local/workflow/clock';
import { drSite, MINUTE, thrown } from './fixtures';

const SITE = PHOENIX_ROOIVALK_DR_SITE;
const STANDBY = SITE.standbyReplica;
const TWIN: DatabaseRef = { kind: 'instance', identifier: `${STANDBY.identifier}-drill` };
const PRODUCTION_ARN = 'arn:aws-us-gov:rds:us-gov-west-1:111122223333:db:phoenix-rooivalk-production';
const SECOND = 1000;
/** The 5-minute RPO and 15-minute RTO of the seed. */
const RPO_MS = 5 * MINUTE;
const RTO_MS = 15 * MINUTE;

function rehearsal(runId: string): RehearsalRequest {
  return {
    standby: STANDBY,
    target: TWIN,
    instanceClass: 'db.r5.xlarge',
    securityGroupIds: ['sg-0a1b2c3d4e5f60021'],
    tags: { 'aor:recovery-run': runId, 'aor:dry-run': 'true' },
  };
}

/** Polls every 30 s, as the workflow's wait does, until `done`; returns every status seen. */
async function pollUntil(
  platform: SimulatedPlatform,
  clock: SimulatedClock,
  database: DatabaseRef,
  done: (status: RestoreStatus) => boolean,
): Promise<RestoreStatus[]> {
  const seen: RestoreStatus[] = [];
  for (;;) {
    const status = await platform.ports(clock).recovery.restoreStatus(database);
    if (!status) throw new Error(`${database.identifier} disappeared`);
    seen.push(status);
    if (done(status) || status.failed) return seen;
    clock.advance(30 * SECOND);
  }
}

const promoted = (status: RestoreStatus) => status.available && status.replicaOf === undefined;

describe('the DR site’s warm standby', () => {
  it('is a protected read replica of production, seconds behind it, holding what production held one lag ago', async () => {
    const { platform, ports, clock } = drSite();
    const status = await ports.recovery.replicaStatus(STANDBY);
    expect(status).toMatchObject({
      identifier: STANDBY.identifier,
      status: 'available',
      available: true,
      replicaOf: PRODUCTION_ARN,
      replication: 'replicating',
      deletionProtection: true,
    });
    expect(status?.runTag).toBeUndefined();
    expect(status?.lagSeconds).toBeGreaterThan(0);
    expect(status?.lagSeconds).toBeLessThanOrEqual(RDS_REPLICA_LAG_MAX_SECONDS);
    // The newest minute's reading: its end, less its lag, is within a minute of now.
    const behind = clock.now() - Date.parse(status?.recoveryPoint ?? '');
    expect(behind).toBeGreaterThan(0);
    expect(behind).toBeLessThanOrEqual(MINUTE + RDS_REPLICA_LAG_MAX_SECONDS * SECOND + RDS_API_MS);

    const endpoint = status?.endpoint ?? '';
    const connection = platform.rdsRecovery.connect(endpoint, clock.now());
    expect(connection?.acceptsConnections).toBe(true);
    const rows = connection?.tables.sensor_tracks?.rows ?? 0;
    const production = (t: number) =>
      tableContentsAt(platform.seed, platform.epoch, t).sensor_tracks?.rows ?? 0;
    expect(rows).toBeLessThanOrEqual(production(clock.now()));
    expect(rows).toBeGreaterThanOrEqual(production(clock.now() - RDS_REPLICA_LAG_MAX_SECONDS * SECOND));
  });

  it('promotes in a few minutes (modifying, rebooting, backing-up), its recovery point seconds old: RTO and RPO met', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    const requestedAt = clock.now();
    const promotion = await ports.recovery.promoteReplica(STANDBY, 'DR-1');
    expect(promotion).toMatchObject({
      identifier: STANDBY.identifier,
      status: 'modifying',
      promotedBy: 'DR-1',
    });
    expect(requestedAt - Date.parse(promotion.recoveryPoint ?? '')).toBeLessThan(RPO_MS);
    expect(requestedAt - Date.parse(promotion.recoveryPoint ?? '')).toBeLessThanOrEqual(
      MINUTE + RDS_REPLICA_LAG_MAX_SECONDS * SECOND,
    );

    const seen = await pollUntil(platform, clock, STANDBY, promoted);
    expect([...new Set(seen.map((status) => status.status))]).toEqual([
      'modifying',
      'rebooting',
      'backing-up',
      'available',
    ]);
    // Readable and still a replica until the reboot; a database of its own after.
    expect(seen.filter((status) => status.status === 'modifying').every((status) => status.replicaOf)).toBe(
      true,
    );
    expect(seen.filter((status) => status.status === 'backing-up').every((status) => !status.replicaOf)).toBe(
      true,
    );
    const took = clock.now() - requestedAt;
    const fastest =
      RDS_PROMOTION_MODIFYING_MIN_MS + RDS_PROMOTION_REBOOTING_MIN_MS + RDS_PROMOTION_BACKING_UP_MIN_MS;
    const slowest =
      RDS_PROMOTION_MODIFYING_MAX_MS + RDS_PROMOTION_REBOOTING_MAX_MS + RDS_PROMOTION_BACKING_UP_MAX_MS;
    expect(took).toBeGreaterThanOrEqual(fastest);
    expect(took).toBeLessThanOrEqual(slowest + 30 * SECOND);
    expect(took).toBeLessThan(RTO_MS);
    expect(seen.at(-1)).toMatchObject({ promotedBy: 'DR-1', deletionProtection: true });

    // What it holds stopped at the promotion, and is no older than the recovery point reported.
    const tables = platform.rdsRecovery.connect(seen.at(-1)?.endpoint ?? '', clock.now())?.tables;
    const rows = (t: number) =>
      tableContentsAt(platform.seed, platform.epoch, t).sensor_tracks?.rows ?? Number.NaN;
    expect(tables?.sensor_tracks?.rows).toBeGreaterThanOrEqual(
      rows(Date.parse(promotion.recoveryPoint ?? '')),
    );
    expect(tables?.sensor_tracks?.rows).toBeLessThanOrEqual(rows(requestedAt));
    expect(tables?.sensor_tracks?.rows).toBe(
      platform.rdsRecovery.connect(seen.at(-1)?.endpoint ?? '', clock.now() + 10 * MINUTE)?.tables
        .sensor_tracks?.rows,
    );
  });

  it('reports its own promotion again on a retry, and refuses anyone else’s', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    const first = await ports.recovery.promoteReplica(STANDBY, 'DR-1');
    clock.advance(30 * SECOND);
    expect(await ports.recovery.promoteReplica(STANDBY, 'DR-1')).toEqual({
      ...first,
      lagSeconds: null,
    });
    await pollUntil(platform, clock, STANDBY, promoted);
    expect(await ports.recovery.promoteReplica(STANDBY, 'DR-1')).toMatchObject({
      status: 'available',
      recoveryPoint: first.recoveryPoint,
    });
    const other = await thrown(ports.recovery.promoteReplica(STANDBY, 'DR-2'));
    expect(other).toBeInstanceOf(StandbyNotPromotableError);
    expect(other.message).toBe(
      'DB instance phoenix-rooivalk-dr-replica is no longer a read replica: recovery run DR-1 promoted it',
    );
    // No clean-up of any run deletes it, its own included: it is the site's database now.
    expect(await ports.recovery.deleteRestored(STANDBY, 'DR-1')).toEqual({
      deleted: false,
      kept: "recovery run DR-1 made it the site's database (aor:recovery-promoted)",
    });
    expect(await ports.recovery.protectRecovered(STANDBY, 'DR-1')).toEqual({
      identifier: STANDBY.identifier,
      deletionProtection: true,
      promotedBy: 'DR-1',
    });
  });

  it('is refused promotion by RDS while it is not available, its mark left for the retry to promote', async () => {
    const { platform, clock } = drSite();
    platform.rds.setStatus(STANDBY, 'backing-up');
    const ports = platform.ports(clock);
    expect(await thrown(ports.recovery.promoteReplica(STANDBY, 'DR-1'))).toBeInstanceOf(
      DatabaseStateConflictError,
    );
    expect((await ports.recovery.restoreStatus(STANDBY))?.promotedBy).toBe('DR-1');
    platform.rds.setStatus(STANDBY, 'available');
    expect(await ports.recovery.promoteReplica(STANDBY, 'DR-1')).toMatchObject({ status: 'modifying' });
  });
});

describe('the standby’s faults', () => {
  it('lagging-replica: promotion works, but loses more than the RPO allows', async () => {
    const { platform, clock } = drSite();
    const failure = platform.failRecoveryStep('restore-database', { databaseFailure: 'lagging-replica' });
    expect(failure.description).toBe(
      "standby phoenix-rooivalk-dr-replica replays its source's changes at half their pace: 15 minutes behind at the start, and falling further behind",
    );
    const ports = platform.ports(clock);
    const status = await ports.recovery.replicaStatus(STANDBY);
    expect(status?.lagSeconds).toBeGreaterThan(14 * 60);
    const requestedAt = clock.now();
    const promotion = await ports.recovery.promoteReplica(STANDBY, 'DR-1');
    expect(requestedAt - Date.parse(promotion.recoveryPoint ?? '')).toBeGreaterThan(RPO_MS);
    const seen = await pollUntil(platform, clock, STANDBY, promoted);
    expect(seen.at(-1)?.status).toBe('available');

    failure.remove();
    const healthy = drSite();
    expect((await healthy.ports.recovery.replicaStatus(STANDBY))?.lagSeconds).toBeLessThanOrEqual(
      RDS_REPLICA_LAG_MAX_SECONDS,
    );
  });

  it('restore-database: a promotion ends in incompatible-parameters after its reboot, replication gone', async () => {
    const { platform, clock } = drSite();
    platform.failRecoveryStep('restore-database');
    await platform.ports(clock).recovery.promoteReplica(STANDBY, 'DR-1');
    const seen = await pollUntil(platform, clock, STANDBY, promoted);
    expect(seen.at(-1)).toMatchObject({ status: 'incompatible-parameters', failed: true, available: false });
    expect(seen.at(-1)?.replicaOf).toBeUndefined();
  });
});

describe('a drill’s rehearsal of the promotion', () => {
  it('creates a twin of the standby, promotes and deletes it, leaving the standby replicating and untouched', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    const startedAt = clock.now();
    const twin = await ports.recovery.startRehearsal(rehearsal('DR-1'));
    expect(twin).toEqual({
      identifier: TWIN.identifier,
      status: 'creating',
      available: false,
      failed: false,
      runTag: 'DR-1',
      replicaOf: STANDBY.identifier,
      deletionProtection: false,
    });
    // Started again by a retry: its own twin, resumed; another run's refused.
    expect(await ports.recovery.startRehearsal(rehearsal('DR-1'))).toMatchObject({ status: 'creating' });
    expect(await thrown(ports.recovery.startRehearsal(rehearsal('DR-2')))).toBeInstanceOf(
      RestoreTargetConflictError,
    );

    await pollUntil(platform, clock, TWIN, (status) => status.available);
    const prepared = clock.now() - startedAt;
    expect(prepared).toBeGreaterThanOrEqual(RDS_REPLICA_CREATING_MIN_MS);
    expect(prepared).toBeLessThanOrEqual(RDS_REPLICA_CREATING_MAX_MS + 30 * SECOND + 3 * RDS_API_MS);

    // The promotion rehearsed is the real one's, on the twin: minutes, the lag a cascading hop more.
    const promotedAt = clock.now();
    const promotion = await ports.recovery.promoteReplica(TWIN, 'DR-1');
    expect(promotedAt - Date.parse(promotion.recoveryPoint ?? '')).toBeLessThan(RPO_MS);
    await pollUntil(platform, clock, TWIN, promoted);
    expect(clock.now() - promotedAt).toBeLessThan(RTO_MS);

    const standby = await ports.recovery.replicaStatus(STANDBY);
    expect(standby).toMatchObject({
      status: 'available',
      replicaOf: PRODUCTION_ARN,
      replication: 'replicating',
    });
    expect(standby?.promotedBy).toBeUndefined();

    // Promoted by the drill, but still the drill's: its clean-up deletes it, after a final snapshot.
    expect(await ports.recovery.deleteRestored(TWIN, 'DR-2')).toMatchObject({ deleted: false });
    expect(await ports.recovery.deleteRestored(TWIN, 'DR-1')).toEqual({
      deleted: true,
      finalSnapshot: 'phoenix-rooivalk-dr-replica-drill-final-dr-1',
    });
    expect(await ports.recovery.deleteRestored(STANDBY, 'DR-1')).toEqual({
      deleted: false,
      kept: 'it has no aor:recovery-run tag: no recovery run created it',
    });
  });

  it('deletes a twin that is still a replica without a final snapshot, which RDS takes of no replica', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    await ports.recovery.startRehearsal(rehearsal('DR-1'));
    await pollUntil(platform, clock, TWIN, (status) => status.available);
    expect(await ports.recovery.deleteRestored(TWIN, 'DR-1')).toEqual({ deleted: true });
  });

  it('refuses to rehearse on a standby that is not a replica any more, or an Aurora one', async () => {
    const { platform, clock } = drSite();
    const ports = platform.ports(clock);
    await ports.recovery.promoteReplica(STANDBY, 'DR-0');
    await pollUntil(platform, clock, STANDBY, promoted);
    expect(await thrown(ports.recovery.startRehearsal(rehearsal('DR-1')))).toBeInstanceOf(
      StandbyNotPromotableError,
    );
    const cluster: DatabaseRef = { kind: 'aurora-cluster', identifier: 'phoenix-ledger-dr-replica' };
    expect(
      await thrown(
        ports.recovery.startRehearsal({
          ...rehearsal('DR-1'),
          standby: cluster,
          target: { ...cluster, identifier: `${cluster.identifier}-drill` },
        }),
      ),
    ).toBeInstanceOf(RehearsalNotSupportedError);
  });
});
