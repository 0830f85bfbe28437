import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  KubernetesForbiddenError,
  KubernetesUnavailableError,
} from '../../../lambdas/adapters/kubernetes/errors';
import { type ActionSettings, runAction } from '../../../lambdas/core/incident/actions';
import type { Incident } from '../../../lambdas/core/incident/incident';
import { ACTIONS, type ActionName } from '../../../lambdas/core/incident/playbooks';
import { parseAorConfig } from '../../../lib/config';
import { FAILED_CALL_MS, KUBERNETES_READ_MS, KUBERNETES_WRITE_MS } from '../../../local/simulation/durations';
import { ScenarioSetupError, SimulatedPlatform } from '../../../local/simulation/platform';
import { SimulatedClock, wallClock } from '../../../local/workflow/clock';
import { API, BLOCKCHAIN, CONSENSUS, MINUTE, NAMESPACE, phoenixRooivalk, thrown } from './fixtures';

const config = parseAorConfig(JSON.parse(readFileSync('cdk.json', 'utf8')).context.aor);

/** What the incident actions are configured with, from the example deployment configuration. */
const settings: ActionSettings = {
  clusterName: config.primary.eksClusterName,
  namespace: config.kubernetesNamespace,
  database: config.primary.database,
  ...config.incidentResponse,
};

function incident(affectedSystems: string[] = []): Incident {
  return {
    id: 'INC-20261102-0001',
    title: 'Drill',
    description: '',
    playbook: 'blockchain_node_down',
    severity: 'HIGH',
    status: 'mitigating',
    assignee: 'blockchain-team',
    alarmName: 'phoenix-rooivalk-blockchain-node-down',
    affectedSystems,
    runbookUrl: 'https://runbooks.phoenixrooivalk.mil/blockchain-node-down',
    createdAt: '2026-11-02T14:00:00.000Z',
    updatedAt: '2026-11-02T14:00:00.000Z',
    escalationLevel: 0,
    repeatCount: 0,
    version: 1,
  };
}

function actionPorts(platform: SimulatedPlatform, clock: SimulatedClock) {
  return { ...platform.ports(clock), clock: () => new Date(clock.now()) };
}

describe('the simulated Phoenix Rooivalk world', () => {
  it('is the world the deployment configuration describes', async () => {
    const { platform, ports } = phoenixRooivalk();
    const { layout } = platform;
    const ir = config.incidentResponse;
    expect(layout.clusterName).toBe(config.primary.eksClusterName);
    expect(layout.database).toEqual(config.primary.database);
    expect(layout.namespace).toBe(config.kubernetesNamespace);
    expect(layout.blockchainWorkload).toEqual({ namespace: NAMESPACE, ...ir.blockchainWorkload });
    expect(layout.scaleTarget).toEqual({
      namespace: NAMESPACE,
      kind: ir.scaleTarget.kind,
      name: ir.scaleTarget.name,
    });
    expect(layout.connectionPooler).toEqual({ namespace: NAMESPACE, ...ir.connectionPooler });
    expect(layout.consensusMetric).toEqual({
      namespace: ir.consensusMetric.namespace,
      metricName: ir.consensusMetric.metricName,
      dimensions: ir.consensusMetric.dimensions,
    });
    const peers = await ports.cluster.readyPeerEndpoints({ namespace: NAMESPACE, service: ir.peerService });
    expect(peers.ready).toBe(ir.minReadyPeers);
    expect(
      (await ports.cluster.currentReplicas(layout.scaleTarget)) + ir.scaleTarget.step,
    ).toBeLessThanOrEqual(ir.scaleTarget.maxReplicas);
    expect(await ports.cluster.currentReplicas(layout.connectionPooler)).toBe(2);
  });

  it('replays identically for a seed, and differs for another', async () => {
    const run = async (seed: string) => {
      const { platform, ports, clock } = phoenixRooivalk({ seed });
      platform.breakBlockchainNode();
      await ports.cluster.restartWorkload(BLOCKCHAIN);
      await ports.cluster.waitForRollout({ ...BLOCKCHAIN, deadlineMs: 600_000, pollMs: 5_000 });
      const bundle = await ports.cluster.captureForensics({
        namespace: NAMESPACE,
        podNames: ['blockchain-node-1'],
        tailLines: 20,
      });
      await ports.notifier.publish('ops-team', { subject: 's', message: 'm', attributes: {} });
      return JSON.stringify({ bundle, at: clock.now(), outbox: platform.outbox(), calls: platform.calls });
    };
    expect(await run('drill')).toBe(await run('drill'));
    expect(await run('drill')).not.toBe(await run('another'));
  });

  it('refuses a scenario about a pod it does not have', () => {
    const { platform } = phoenixRooivalk();
    expect(() => platform.breachPods(['phoenix-api-0'])).toThrow(ScenarioSetupError);
  });
});

describe('fault injection', () => {
  it('fails the named operation the given number of times, then lets it through', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const fault = platform.injectFault({
      operation: 'restartWorkload',
      error: (workload) =>
        new KubernetesForbiddenError(`restart ${workload.name}: forbidden`, {
          statusCode: 403,
          reason: 'Forbidden',
        }),
      times: 2,
    });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await thrown(ports.cluster.restartWorkload(BLOCKCHAIN));
      expect(error.name).toBe('KubernetesForbiddenError');
      expect(error.message).toBe('restart blockchain-node: forbidden');
    }
    expect(clock.now() - platform.epoch).toBe(2 * FAILED_CALL_MS);
    expect((await ports.cluster.restartWorkload(BLOCKCHAIN)).generation).toBe(2);
    expect(fault.triggered).toBe(2);
    expect(platform.calls.map((call) => [call.operation, call.error])).toEqual([
      ['restartWorkload', 'KubernetesForbiddenError'],
      ['restartWorkload', 'KubernetesForbiddenError'],
      ['restartWorkload', undefined],
    ]);
  });

  it('fails only the calls `when` picks, taking `delayMs` to do so, until removed', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const fault = platform.injectFault({
      operation: 'publish',
      when: (channel) => channel === 'security-team',
      delayMs: 5_000,
      error: (channel) => new Error(`${channel} is down`),
    });
    const note = { subject: 's', message: 'm', attributes: {} };
    await ports.notifier.publish('ops-team', note);
    const before = clock.now();
    expect((await thrown(ports.notifier.publish('security-team', note))).message).toBe(
      'security-team is down',
    );
    expect(clock.now() - before).toBe(5_000);
    fault.remove();
    await ports.notifier.publish('security-team', note);
    expect(platform.outbox().map((message) => message.channel)).toEqual(['ops-team', 'security-team']);
  });

  it('reaches the calls an operation makes itself, as the real adapter’s polls are its own reads', async () => {
    const { platform, ports } = phoenixRooivalk();
    await ports.cluster.restartWorkload(API);
    const unavailable = () =>
      new KubernetesUnavailableError('read: the server is currently unable to handle the request', {
        statusCode: 503,
      });
    // A retryable failure is one missed poll...
    platform.injectFault({ operation: 'workloadStatus', error: unavailable, times: 3 });
    expect(await ports.cluster.waitForRollout({ ...API, deadlineMs: 600_000, pollMs: 5_000 })).toMatchObject({
      rolledOut: true,
    });
    // ...anything else ends the wait.
    platform.injectFault({
      operation: 'workloadStatus',
      error: () => new KubernetesForbiddenError('read: forbidden', { statusCode: 403 }),
    });
    expect(
      await thrown(ports.cluster.waitForRollout({ ...API, deadlineMs: 600_000, pollMs: 5_000 })),
    ).toBeInstanceOf(KubernetesForbiddenError);
    platform.clearFaults();
    expect((await ports.cluster.workloadStatus(API)).rolledOut).toBe(true);
  });

  const failures: Record<ActionName, string> = {
    restart_blockchain_node: 'KubernetesForbiddenError',
    check_peer_connectivity: 'KubernetesUnavailableError',
    verify_consensus_participation: 'CloudWatchThrottledError',
    scale_up_resources: 'KubernetesConflictError',
    analyze_resource_usage: 'CloudWatchQueryFailedError',
    check_for_resource_leaks: 'CloudWatchThrottledError',
    isolate_affected_systems: 'KubernetesForbiddenError',
    capture_forensic_evidence: 'KubernetesTimeoutError',
    notify_security_team: 'SnsThrottledError',
    restart_database_connections: 'KubernetesForbiddenError',
    check_database_health: 'RdsThrottledError',
    failover_to_secondary: 'DatabaseStateConflictError',
  };

  it.each(ACTIONS)('fails %s with the error its port call would throw', async (action) => {
    const { platform, clock } = phoenixRooivalk();
    platform.failAction(action);
    const error = await thrown(
      runAction(action, incident(['PodName=blockchain-node-1']), settings, actionPorts(platform, clock)),
    );
    expect(error.name).toBe(failures[action]);
  });
});

describe('forked clocks on one platform', () => {
  it('lets each clock see the shared world as of its own time, and spend only its own time', async () => {
    const platform = SimulatedPlatform.phoenixRooivalk();
    const first = new SimulatedClock(platform.epoch);
    const second = new SimulatedClock(platform.epoch);
    await platform.ports(first).cluster.restartWorkload(BLOCKCHAIN);
    expect(first.now() - platform.epoch).toBe(KUBERNETES_WRITE_MS);

    second.advance(20_000);
    const midway = await platform.ports(second).cluster.workloadStatus(BLOCKCHAIN);
    expect(midway).toMatchObject({
      generation: 2,
      observedGeneration: 2,
      readyReplicas: 2,
      rolledOut: false,
    });
    expect(first.now() - platform.epoch).toBe(KUBERNETES_WRITE_MS);

    await platform.ports(first).cluster.waitForRollout({ ...BLOCKCHAIN, deadlineMs: 600_000, pollMs: 5_000 });
    // The second clock is still at 20 s: the rollout the first has seen finish is half done for it.
    expect((await platform.ports(second).cluster.workloadStatus(BLOCKCHAIN)).rolledOut).toBe(false);
    expect(second.now() - platform.epoch).toBe(20_000 + 2 * KUBERNETES_READ_MS);
  });

  it('runs parallel branches each on its own fork: a state lasts as long as its slowest branch', async () => {
    const platform = SimulatedPlatform.phoenixRooivalk();
    const fork = () => new SimulatedClock(platform.epoch);
    const branches = [fork(), fork()] as const;
    await Promise.all([
      (async () => {
        const { cluster } = platform.ports(branches[0]);
        await cluster.restartWorkload(BLOCKCHAIN);
        await cluster.waitForRollout({ ...BLOCKCHAIN, deadlineMs: 600_000, pollMs: 5_000 });
      })(),
      (async () => {
        const { cluster } = platform.ports(branches[1]);
        await cluster.scaleWorkload({ ...API, replicas: 6 });
        await cluster.waitForRollout({ ...API, deadlineMs: 600_000, pollMs: 5_000 });
      })(),
    ]);
    const [blockchain, api] = branches.map((clock) => clock.now() - platform.epoch);
    expect(blockchain).toBeGreaterThan(45_000);
    expect(api).toBeGreaterThan(18_000);
    expect(api).toBeLessThan(30_000);
  });

  it('also runs on wall time, really waiting out what a call costs', async () => {
    const { cluster } = SimulatedPlatform.phoenixRooivalk({ epoch: Date.now() }).ports(wallClock);
    const startedAt = performance.now();
    await cluster.workloadStatus(BLOCKCHAIN);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(KUBERNETES_READ_MS - 5);
  });
});

describe('playbook scenarios, acted on by the real incident actions', () => {
  it('blockchain node down: the restart heals the node; the 15-minute consensus average recovers later', async () => {
    const { platform, clock } = phoenixRooivalk();
    const ports = actionPorts(platform, clock);
    const alarm = platform.breakBlockchainNode();
    expect(alarm.metrics[0]?.dimensions).toEqual({ Namespace: NAMESPACE, PodName: 'blockchain-node-1' });
    expect(await thrown(runAction('check_peer_connectivity', incident(), settings, ports))).toMatchObject({
      name: 'ActionCheckFailedError',
      message: expect.stringContaining('only 2 ready peers'),
    });
    const restart = await runAction('restart_blockchain_node', incident(), settings, ports);
    expect(restart.details.readyReplicas).toBe(3);
    expect((await runAction('check_peer_connectivity', incident(), settings, ports)).details.ready).toBe(3);
    // The window still holds the minutes the node was down.
    expect(
      await thrown(runAction('verify_consensus_participation', incident(), settings, ports)),
    ).toMatchObject({
      name: 'ActionCheckFailedError',
    });
    // Once the window has moved past the outage and the rollout, participation reads normal again.
    clock.advance(16 * MINUTE);
    const verified = await runAction('verify_consensus_participation', incident(), settings, ports);
    expect(verified.details.participationPercent).toBeGreaterThan(97);
  });

  it('high CPU: scales the API by its step, names it the top consumer, and finds the leaking node', async () => {
    const { platform, clock } = phoenixRooivalk();
    const ports = actionPorts(platform, clock);
    platform.saturateCpu({ at: platform.epoch - 15 * MINUTE });
    const scaled = await runAction('scale_up_resources', incident(), settings, ports);
    expect(scaled.details).toMatchObject({ previousReplicas: 4, replicas: 6 });
    const usage = await runAction('analyze_resource_usage', incident(), settings, ports);
    expect(usage.summary).toMatch(/^top CPU consumers: phoenix-api 9\d\.\d% avg/);
    const leaks = await runAction('check_for_resource_leaks', incident(), settings, ports);
    expect(leaks.details.suspectedLeaks).toEqual([expect.stringMatching(/^blockchain-node-2 \+6\.\d pp\/h/)]);
  });

  it('security breach: quarantines the pods, stores their forensics, and tells the security team', async () => {
    const { platform, clock } = phoenixRooivalk();
    const ports = actionPorts(platform, clock);
    const alarm = platform.breachPods(['blockchain-node-1', 'blockchain-node-2']);
    const affected = alarm.metrics.map((metric) => `PodName=${metric.dimensions.PodName}`);
    const isolated = await runAction('isolate_affected_systems', incident(affected), settings, ports);
    expect(isolated.details.pods).toEqual(['blockchain-node-1', 'blockchain-node-2']);
    const captured = await runAction('capture_forensic_evidence', incident(affected), settings, ports);
    const [stored] = captured.evidence ?? [];
    const key = platform.evidenceKeys()[0] ?? '';
    expect(stored?.uri).toBe(`simulated://evidence/${key}`);
    expect(Buffer.from(platform.evidence(key)?.body ?? []).toString()).toContain('admin_exportKeystore');
    await runAction('notify_security_team', incident(affected), settings, ports);
    expect(platform.outbox('security-team')).toHaveLength(1);
    // Cut off by the quarantine policy, the two nodes no longer take part in consensus.
    clock.advance(3 * MINUTE);
    const participation = await ports.metrics.consensusParticipation({ ...CONSENSUS, windowMinutes: 2 });
    expect(participation.participationPercent).toBeLessThan(40);
  });

  it('database connection failure: the pooler restart and a failover both go through', async () => {
    const { platform, clock } = phoenixRooivalk();
    const ports = actionPorts(platform, clock);
    platform.dropDatabaseConnections();
    await runAction('restart_database_connections', incident(), settings, ports);
    const health = await runAction('check_database_health', incident(), settings, ports);
    expect(health.details).toMatchObject({ status: 'available', multiAz: true });
    await runAction('failover_to_secondary', incident(), settings, ports);
    expect(await thrown(runAction('check_database_health', incident(), settings, ports))).toMatchObject({
      name: 'ActionCheckFailedError',
      message: 'database phoenix-rooivalk-production is rebooting',
    });
  });
});
