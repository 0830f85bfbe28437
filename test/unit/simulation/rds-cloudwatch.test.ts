import { ResourceNotFoundException } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { InvalidMetricsQueryError } from '../../../lambdas/adapters/aws/cloudwatch-metrics-reader';
import {
  DatabaseNotFoundError,
  DatabaseStateConflictError,
  FailoverNotPossibleError,
} from '../../../lambdas/adapters/aws/rds-database-operations';
import {
  AURORA_FAILOVER_MAX_MS,
  AURORA_FAILOVER_MIN_MS,
  CLOUDWATCH_GET_METRIC_DATA_MS,
  CLOUDWATCH_LIST_TAGS_MS,
  RDS_API_MS,
  RDS_MULTI_AZ_FAILOVER_MAX_MS,
  RDS_MULTI_AZ_FAILOVER_MIN_MS,
} from '../../../local/simulation/durations';
import {
  API,
  CLUSTER,
  CONSENSUS,
  DATABASE,
  MINUTE,
  NAMESPACE,
  POOLER,
  phoenixRooivalk,
  thrown,
} from './fixtures';

const POLL = { deadlineMs: 600_000, pollMs: 1_000 };

describe('simulated RDS', () => {
  it('reports the Multi-AZ instance available with ~120 connections, in the RDS adapter’s shape', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const health = await ports.database.health(DATABASE);
    expect(Object.keys(health).sort()).toEqual([
      'available',
      'connections',
      'identifier',
      'kind',
      'multiAz',
      'status',
    ]);
    expect(health).toMatchObject({
      identifier: DATABASE.identifier,
      status: 'available',
      available: true,
      multiAz: true,
    });
    expect(health.connections).toBeGreaterThan(110);
    expect(health.connections).toBeLessThan(130);
    expect(clock.now() - platform.epoch).toBe(RDS_API_MS);
  });

  it('fails a Multi-AZ instance over: rebooting for 60-120 s, then available again', async () => {
    const { ports, clock } = phoenixRooivalk();
    expect(await ports.database.failover(DATABASE)).toEqual({
      identifier: DATABASE.identifier,
      kind: 'instance',
      method: 'reboot-with-failover',
    });
    const startedAt = clock.now();
    expect(await ports.database.health(DATABASE)).toMatchObject({ status: 'rebooting', available: false });
    const busy = await thrown(ports.database.failover(DATABASE));
    expect(busy).toBeInstanceOf(DatabaseStateConflictError);
    expect(busy.name).toBe('DatabaseStateConflictError');
    let health = await ports.database.health(DATABASE);
    while (!health.available) {
      clock.advance(1_000);
      health = await ports.database.health(DATABASE);
    }
    const took = clock.now() - startedAt;
    expect(took).toBeGreaterThanOrEqual(RDS_MULTI_AZ_FAILOVER_MIN_MS);
    expect(took).toBeLessThanOrEqual(RDS_MULTI_AZ_FAILOVER_MAX_MS + 2_000);
    expect(health.status).toBe('available');
  });

  it('refuses what the RDS adapter refuses, with its error names', async () => {
    const { platform, ports } = phoenixRooivalk();
    platform.rds.addInstance({ identifier: 'reporting', multiAz: false, connections: 4 });
    expect(
      await thrown(ports.database.failover({ kind: 'instance', identifier: 'reporting' })),
    ).toBeInstanceOf(FailoverNotPossibleError);
    const missing = await thrown(ports.database.health({ kind: 'instance', identifier: 'nope' }));
    expect(missing).toBeInstanceOf(DatabaseNotFoundError);
    expect(missing.message).toBe('nope: DBInstance nope not found.');
    platform.rds.setStatus(DATABASE, 'modifying');
    expect(await thrown(ports.database.failover(DATABASE))).toBeInstanceOf(DatabaseStateConflictError);
    expect(await ports.database.health(DATABASE)).toMatchObject({ status: 'modifying', available: false });
  });

  it('fails an Aurora cluster over to the reader of the lowest promotion tier', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const cluster = { kind: 'aurora-cluster', identifier: 'ledger' } as const;
    platform.rds.addAuroraCluster({
      identifier: 'ledger',
      connections: 40,
      members: [
        { instance: 'ledger-a', writer: true, promotionTier: 0 },
        { instance: 'ledger-b', writer: false, promotionTier: 2 },
        { instance: 'ledger-c', writer: false, promotionTier: 1 },
      ],
    });
    expect(await ports.database.health(cluster)).toMatchObject({ writer: 'ledger-a', available: true });
    expect(await ports.database.failover(cluster)).toEqual({
      identifier: 'ledger',
      kind: 'aurora-cluster',
      method: 'aurora-failover',
      previousWriter: 'ledger-a',
      targetWriter: 'ledger-c',
    });
    expect(await ports.database.health(cluster)).toMatchObject({ status: 'failing-over', available: false });
    clock.advance(AURORA_FAILOVER_MAX_MS);
    expect(await ports.database.health(cluster)).toMatchObject({ status: 'available', writer: 'ledger-c' });
    expect(AURORA_FAILOVER_MIN_MS).toBeLessThan(AURORA_FAILOVER_MAX_MS);
    expect(
      await thrown(ports.database.failover({ kind: 'instance', identifier: 'ledger-b' })),
    ).toBeInstanceOf(FailoverNotPossibleError);
  });

  it('loses connections until the pooler’s restart completes, the 5-minute average then recovering', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    platform.dropDatabaseConnections({ at: platform.epoch - 10 * MINUTE });
    expect((await ports.database.health(DATABASE)).connections).toBe(0);
    await ports.cluster.restartWorkload(POOLER);
    await ports.cluster.waitForRollout({ ...POOLER, ...POLL });
    clock.advance(2 * MINUTE);
    const recovering = (await ports.database.health(DATABASE)).connections ?? 0;
    expect(recovering).toBeGreaterThan(0);
    expect(recovering).toBeLessThan(100);
    clock.advance(5 * MINUTE);
    expect((await ports.database.health(DATABASE)).connections).toBeGreaterThan(110);
  });

  it('loses connections until a failover completes, when nobody restarts the pooler', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    platform.dropDatabaseConnections();
    clock.advance(10 * MINUTE);
    expect((await ports.database.health(DATABASE)).connections).toBe(0);
    await ports.database.failover(DATABASE);
    clock.advance(RDS_MULTI_AZ_FAILOVER_MAX_MS + 6 * MINUTE);
    expect((await ports.database.health(DATABASE)).connections).toBeGreaterThan(110);
  });
});

describe('simulated CloudWatch', () => {
  const cpuQuery = { clusterName: CLUSTER, namespace: NAMESPACE, windowMinutes: 15, limit: 10 };

  it('reads consensus participation ~98% over the window’s complete minutes', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const participation = await ports.metrics.consensusParticipation({ ...CONSENSUS, windowMinutes: 15 });
    expect(participation.datapoints).toBe(15);
    expect(participation.participationPercent).toBeGreaterThan(97.5);
    expect(participation.participationPercent).toBeLessThan(99);
    expect(clock.now() - platform.epoch).toBe(CLOUDWATCH_GET_METRIC_DATA_MS);
    const other = await ports.metrics.consensusParticipation({
      ...CONSENSUS,
      metricName: 'Other',
      windowMinutes: 15,
    });
    expect(other).toEqual({ participationPercent: 0, datapoints: 0 });
  });

  it('finds the one pod whose memory keeps growing', async () => {
    const { ports } = phoenixRooivalk();
    const trends = await ports.metrics.memoryTrends({
      clusterName: CLUSTER,
      namespace: NAMESPACE,
      windowMinutes: 60,
    });
    const [leaking, ...rest] = trends;
    expect(leaking?.podName).toBe('blockchain-node-2');
    expect(leaking?.slopePerHour).toBeGreaterThan(5);
    expect(leaking?.lastPercent).toBeGreaterThan(leaking?.firstPercent ?? 100);
    expect(rest.every((trend) => Math.abs(trend.slopePerHour) < 1)).toBe(true);
  });

  it('names pods as Container Insights does: a Deployment’s replicas in one series, StatefulSet pods by name', async () => {
    const { ports } = phoenixRooivalk();
    const top = await ports.metrics.topCpuConsumers(cpuQuery);
    expect(top.map((pod) => pod.podName).sort()).toEqual([
      'blockchain-node-0',
      'blockchain-node-1',
      'blockchain-node-2',
      'pgbouncer',
      'phoenix-api',
    ]);
    expect(top.map((pod) => pod.averageCpuPercent)).toEqual(
      [...top.map((pod) => pod.averageCpuPercent)].sort((a, b) => b - a),
    );
    expect(await ports.metrics.topCpuConsumers({ ...cpuQuery, clusterName: 'phoenix-rooivalk-dr' })).toEqual(
      [],
    );
    expect(await ports.metrics.topCpuConsumers({ ...cpuQuery, limit: 2 })).toHaveLength(2);
    for (const invalid of [{ limit: 0 }, { windowMinutes: 0 }, { namespace: 'bad\\name' }]) {
      expect(await thrown(ports.metrics.topCpuConsumers({ ...cpuQuery, ...invalid }))).toBeInstanceOf(
        InvalidMetricsQueryError,
      );
    }
  });

  it('shows a CPU saturation, and spreads the same demand thinner once the workload is scaled up', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    platform.saturateCpu({ at: platform.epoch - 15 * MINUTE });
    const [hottest] = await ports.metrics.topCpuConsumers({ ...cpuQuery, windowMinutes: 5 });
    expect(hottest?.podName).toBe('phoenix-api');
    expect(hottest?.averageCpuPercent).toBeGreaterThan(85);
    await ports.cluster.scaleWorkload({ ...API, replicas: 8 });
    await ports.cluster.waitForRollout({ ...API, ...POLL });
    clock.advance(6 * MINUTE);
    const after = await ports.metrics.topCpuConsumers({ ...cpuQuery, windowMinutes: 5 });
    const api = after.find((pod) => pod.podName === 'phoenix-api');
    // The same demand over twice the replicas: half the share each.
    expect(api?.averageCpuPercent).toBeGreaterThan(40);
    expect(api?.averageCpuPercent).toBeLessThan(52);
  });

  it('tags the playbook alarms, and fails for an alarm that does not exist as CloudWatch does', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const arn = platform.alarmArn('phoenix-rooivalk-blockchain-node-down');
    expect(arn).toBe(
      'arn:aws-us-gov:cloudwatch:us-gov-west-1:111122223333:alarm:phoenix-rooivalk-blockchain-node-down',
    );
    expect(await ports.tags.tags(arn)).toEqual({
      Project: 'phoenix-rooivalk',
      Environment: 'production',
      Owner: 'blockchain-team',
    });
    expect(clock.now() - platform.epoch).toBe(CLOUDWATCH_LIST_TAGS_MS);
    platform.defineAlarm('phoenix-rooivalk-odd-one', { 'aor:playbook': 'high_cpu_utilization' });
    expect(await ports.tags.tags(platform.alarmArn('phoenix-rooivalk-odd-one'))).toEqual({
      'aor:playbook': 'high_cpu_utilization',
    });
    const missing = await thrown(ports.tags.tags(platform.alarmArn('nope')));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.name).toBe('ResourceNotFoundException');
  });
});
