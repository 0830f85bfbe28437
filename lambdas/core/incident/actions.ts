/**
 * The automated actions of the playbooks, each done for real through a port: Kubernetes on EKS,
 * RDS, CloudWatch, SNS and the evidence bucket. An action either returns what it did and found,
 * or throws: a named adapter error (retried or caught by the state machine) or an
 * ActionCheckFailedError when it worked but found the platform unhealthy.
 */
import { createHash } from 'node:crypto';
import type { ClusterOperations, WorkloadKind } from '../operations/cluster';
import type {
  DatabaseOperations,
  DatabaseRef,
  EvidenceStore,
  MetricsReader,
  Notifier,
  StoredEvidence,
} from '../operations/ports';
import type { Incident } from './incident';
import type { ActionName } from './playbooks';

/** Where the actions act: the platform's workloads and thresholds, from the deployment config. */
export interface ActionSettings {
  readonly clusterName: string;
  readonly namespace: string;
  readonly blockchainWorkload: { readonly kind: WorkloadKind; readonly name: string };
  readonly peerService: string;
  readonly minReadyPeers: number;
  readonly rolloutDeadlineSeconds: number;
  readonly scaleTarget: {
    readonly kind: WorkloadKind;
    readonly name: string;
    readonly step: number;
    readonly maxReplicas: number;
  };
  readonly connectionPooler: { readonly kind: WorkloadKind; readonly name: string };
  readonly database: DatabaseRef;
  readonly consensusMetric: {
    readonly namespace: string;
    readonly metricName: string;
    readonly dimensions: Record<string, string>;
    readonly minimumPercent: number;
  };
  readonly analysisWindowMinutes: number;
  /** Memory growth (percentage points per hour) that marks a pod as leaking. */
  readonly leakSlopePerHour: number;
  readonly forensicLogLines: number;
}

export interface ActionPorts {
  readonly cluster: ClusterOperations;
  readonly database: DatabaseOperations;
  readonly metrics: MetricsReader;
  readonly notifier: Notifier;
  readonly evidence: EvidenceStore;
  readonly clock: () => Date;
}

export type ActionDetails = Record<string, string | number | boolean | string[] | null>;

export interface ActionOutcome {
  readonly summary: string;
  readonly details: ActionDetails;
  /** Artifacts stored as evidence; their hashes go into the ledger record of the action. */
  readonly evidence?: readonly StoredEvidence[];
}

/** The action ran, and what it found is itself the problem (not enough peers, no standby, …). */
export class ActionCheckFailedError extends Error {
  override name = 'ActionCheckFailedError';
}

type ActionImplementation = (
  incident: Incident,
  settings: ActionSettings,
  ports: ActionPorts,
) => Promise<ActionOutcome>;

const POLL_MS = 5_000;

/** Pods named by the alarm's dimensions (`PodName=…`): what isolation and forensics act on. */
function affectedPods(incident: Incident): string[] {
  return incident.affectedSystems.flatMap((system) => {
    const [key, value] = system.split('=', 2);
    return key === 'PodName' && value ? [value] : [];
  });
}

async function restartAndWait(
  workload: { kind: WorkloadKind; name: string },
  settings: ActionSettings,
  ports: ActionPorts,
): Promise<ActionOutcome> {
  const ref = { namespace: settings.namespace, ...workload };
  const restart = await ports.cluster.restartWorkload(ref);
  const status = await ports.cluster.waitForRollout({
    ...ref,
    deadlineMs: settings.rolloutDeadlineSeconds * 1000,
    pollMs: POLL_MS,
  });
  return {
    summary: `${workload.kind} ${workload.name} restarted and rolled out (${status.readyReplicas} ready)`,
    details: {
      workload: `${workload.kind}/${workload.name}`,
      generation: restart.generation,
      restartedAt: restart.restartedAt,
      readyReplicas: status.readyReplicas,
    },
  };
}

const ACTIONS: Readonly<Record<ActionName, ActionImplementation>> = {
  restart_blockchain_node: (_incident, settings, ports) =>
    restartAndWait(settings.blockchainWorkload, settings, ports),

  check_peer_connectivity: async (_incident, settings, ports) => {
    const peers = await ports.cluster.readyPeerEndpoints({
      namespace: settings.namespace,
      service: settings.peerService,
    });
    const details = {
      service: peers.service,
      ready: peers.ready,
      notReady: peers.notReady,
      notReadyPods: peers.notReadyPods,
    };
    if (peers.ready < settings.minReadyPeers) {
      throw new ActionCheckFailedError(
        `only ${peers.ready} ready peers behind ${peers.service} (need ${settings.minReadyPeers}); not ready: ${peers.notReadyPods.join(', ') || 'none'}`,
      );
    }
    return { summary: `${peers.ready} peers ready behind ${peers.service}`, details };
  },

  verify_consensus_participation: async (_incident, settings, ports) => {
    const { minimumPercent, ...metric } = settings.consensusMetric;
    const participation = await ports.metrics.consensusParticipation({
      ...metric,
      windowMinutes: settings.analysisWindowMinutes,
    });
    if (participation.datapoints === 0) {
      throw new ActionCheckFailedError(
        `no ${metric.metricName} datapoints in the last ${settings.analysisWindowMinutes} minutes`,
      );
    }
    if (participation.participationPercent < minimumPercent) {
      throw new ActionCheckFailedError(
        `consensus participation ${participation.participationPercent.toFixed(1)}% is below ${minimumPercent}%`,
      );
    }
    return {
      summary: `consensus participation ${participation.participationPercent.toFixed(1)}% (minimum ${minimumPercent}%)`,
      details: {
        participationPercent: participation.participationPercent,
        datapoints: participation.datapoints,
      },
    };
  },

  scale_up_resources: async (_incident, settings, ports) => {
    const { kind, name, step, maxReplicas } = settings.scaleTarget;
    const ref = { namespace: settings.namespace, kind, name };
    const current = await ports.cluster.currentReplicas(ref);
    if (current >= maxReplicas) {
      throw new ActionCheckFailedError(
        `${kind} ${name} already runs ${current} replicas, the configured maximum`,
      );
    }
    const replicas = Math.min(maxReplicas, current + step);
    const scaled = await ports.cluster.scaleWorkload({ ...ref, replicas });
    return {
      summary: `${kind} ${name} scaled from ${scaled.previousReplicas} to ${scaled.replicas} replicas (maximum ${maxReplicas})`,
      details: {
        workload: `${kind}/${name}`,
        previousReplicas: scaled.previousReplicas,
        replicas: scaled.replicas,
        maxReplicas,
      },
    };
  },

  analyze_resource_usage: async (_incident, settings, ports) => {
    const top = await ports.metrics.topCpuConsumers({
      clusterName: settings.clusterName,
      namespace: settings.namespace,
      windowMinutes: settings.analysisWindowMinutes,
      limit: 5,
    });
    const lines = top.map(
      (p) => `${p.podName} ${p.averageCpuPercent.toFixed(1)}% avg, ${p.maximumCpuPercent.toFixed(1)}% max`,
    );
    return {
      summary:
        top.length > 0 ? `top CPU consumers: ${lines.join('; ')}` : 'no Container Insights CPU datapoints',
      details: { topConsumers: lines },
    };
  },

  check_for_resource_leaks: async (_incident, settings, ports) => {
    const trends = await ports.metrics.memoryTrends({
      clusterName: settings.clusterName,
      namespace: settings.namespace,
      windowMinutes: Math.max(60, settings.analysisWindowMinutes),
    });
    const leaking = trends.filter((t) => t.slopePerHour >= settings.leakSlopePerHour);
    const lines = leaking.map(
      (t) =>
        `${t.podName} +${t.slopePerHour.toFixed(1)} pp/h (${t.firstPercent.toFixed(0)}% → ${t.lastPercent.toFixed(0)}%)`,
    );
    return {
      summary:
        leaking.length > 0
          ? `memory growing in ${leaking.length} pod(s): ${lines.join('; ')}`
          : `no pod's memory grows ≥ ${settings.leakSlopePerHour} pp/h`,
      details: { podsChecked: trends.length, suspectedLeaks: lines },
    };
  },

  isolate_affected_systems: async (incident, settings, ports) => {
    const podNames = affectedPods(incident);
    if (podNames.length === 0) {
      throw new ActionCheckFailedError(
        'the alarm names no pod (PodName dimension) to isolate; isolate by hand',
      );
    }
    const isolation = await ports.cluster.isolatePods({
      namespace: settings.namespace,
      podNames,
      incidentId: incident.id,
    });
    return {
      summary: `isolated ${isolation.isolatedPods.join(', ')} with NetworkPolicy ${isolation.networkPolicyName}`,
      details: {
        networkPolicy: isolation.networkPolicyName,
        created: isolation.networkPolicyCreated,
        pods: isolation.isolatedPods,
      },
    };
  },

  capture_forensic_evidence: async (incident, settings, ports) => {
    const podNames = affectedPods(incident);
    if (podNames.length === 0) {
      throw new ActionCheckFailedError('the alarm names no pod (PodName dimension) to capture evidence from');
    }
    const bundle = await ports.cluster.captureForensics({
      namespace: settings.namespace,
      podNames,
      tailLines: settings.forensicLogLines,
    });
    const body = Buffer.from(JSON.stringify(bundle));
    const key = `incidents/${incident.id}/forensics-${bundle.capturedAt.replaceAll(':', '')}.json`;
    const stored = await ports.evidence.put(key, body, 'application/json');
    const expected = createHash('sha256').update(body).digest('hex');
    if (stored.sha256 !== expected) {
      throw new ActionCheckFailedError(
        `evidence store recorded ${stored.sha256} for a bundle hashing to ${expected}`,
      );
    }
    return {
      summary: `captured specs, logs and events of ${bundle.pods.length} pod(s) to ${stored.uri} (sha256 ${stored.sha256})`,
      details: {
        uri: stored.uri,
        sha256: stored.sha256,
        bytes: stored.bytes,
        pods: bundle.pods.map((p) => p.name),
      },
      evidence: [stored],
    };
  },

  notify_security_team: async (incident, _settings, ports) => {
    const messageId = await ports.notifier.publish('security-team', {
      subject: `[${incident.severity}] ${incident.id} security response engaged`,
      message: [
        `${incident.title}`,
        `Affected: ${incident.affectedSystems.join(', ') || 'not named by the alarm'}`,
        'Automated containment (isolation, forensic capture) has run; review the incident timeline.',
        `Runbook: ${incident.runbookUrl}`,
      ].join('\n'),
      attributes: { incidentId: incident.id, severity: incident.severity, kind: 'security-engagement' },
    });
    return { summary: `security team engaged (message ${messageId})`, details: { messageId } };
  },

  restart_database_connections: (_incident, settings, ports) =>
    restartAndWait(settings.connectionPooler, settings, ports),

  check_database_health: async (_incident, settings, ports) => {
    const health = await ports.database.health(settings.database);
    const details = {
      database: health.identifier,
      status: health.status,
      multiAz: health.multiAz,
      connections: health.connections ?? null,
      writer: health.writer ?? null,
    };
    if (!health.available)
      throw new ActionCheckFailedError(`database ${health.identifier} is ${health.status}`);
    return {
      summary: `database ${health.identifier} is ${health.status} with ${health.connections ?? 'no data on'} connections`,
      details,
    };
  },

  failover_to_secondary: async (_incident, settings, ports) => {
    const result = await ports.database.failover(settings.database);
    return {
      summary: `${result.method} of ${result.identifier} started${result.targetWriter ? ` (new writer ${result.targetWriter})` : ''}`,
      details: {
        method: result.method,
        previousWriter: result.previousWriter ?? null,
        targetWriter: result.targetWriter ?? null,
      },
    };
  },
};

export function runAction(
  action: ActionName,
  incident: Incident,
  settings: ActionSettings,
  ports: ActionPorts,
): Promise<ActionOutcome> {
  return ACTIONS[action](incident, settings, ports);
}
