import { ResourceNotFoundException } from '@aws-sdk/client-cloudwatch';
import {
  cpuUsage,
  InvalidMetricsQueryError,
  type MetricPoint,
  memoryTrends,
  metricsInsightsString,
} from '../../lambdas/adapters/aws/cloudwatch-metrics-reader';
import type { WorkloadRef } from '../../lambdas/core/operations/cluster';
import type {
  AlarmTagReader,
  ConsensusParticipation,
  MetricsReader,
  PodCpuUsage,
  PodMemoryTrend,
} from '../../lambdas/core/operations/ports';
import type { OperationRunner } from './calls';
import { wobble } from './deterministic';
import { CLOUDWATCH_GET_METRIC_DATA_MS, CLOUDWATCH_LIST_TAGS_MS, METRIC_PERIOD_MS } from './durations';
import { type PodRecord, podActive, podPhase, podReady, type WorkloadRecord } from './kubernetes-model';
import type { KubernetesWorld } from './kubernetes-world';

/**
 * Simulated CloudWatch: Container Insights pod metrics and the platform's consensus metric, derived
 * minute by minute from the simulated cluster (a pod that is not running publishes nothing, a
 * workload's CPU demand is shared by its ready pods), and the tags of the platform's alarms.
 */

/** Metrics Insights limits the real reader enforces. */
const MAX_WINDOW_MINUTES = 14 * 24 * 60;
const MAX_SERIES = 500;
const HOUR_MS = 3_600_000;

/** A consensus metric, and the validators whose participation it measures. */
export interface ConsensusMetricDefinition {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly validators: WorkloadRef;
  /** Participation with every validator up: short of 100 by missed slots. */
  readonly healthyPercent: number;
}

interface Series {
  readonly label: string;
  readonly points: MetricPoint[];
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function checkWindow(windowMinutes: number): void {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || windowMinutes > MAX_WINDOW_MINUTES) {
    throw new InvalidMetricsQueryError(
      `windowMinutes must be an integer from 1 to ${MAX_WINDOW_MINUTES}, not ${windowMinutes}`,
    );
  }
}

/**
 * The one-minute periods of a window ending at `t` whose datapoints exist: CloudWatch rounds the
 * start down to the minute, and a period's datapoint is published once the period is over.
 */
export function metricPeriods(windowMs: number, t: number): number[] {
  const periods: number[] = [];
  for (
    let period = Math.floor((t - windowMs) / METRIC_PERIOD_MS) * METRIC_PERIOD_MS;
    period + METRIC_PERIOD_MS <= t;
    period += METRIC_PERIOD_MS
  ) {
    periods.push(period);
  }
  return periods;
}

/**
 * The `PodName` dimension Container Insights gives a pod: the CloudWatch agent names a pod after
 * its Deployment (all replicas in one series), but a StatefulSet's pods by their own names.
 */
export function containerInsightsPodName(pod: PodRecord): string {
  return pod.workload.kind === 'StatefulSet' ? pod.name : pod.workload.name;
}

function loadFactor(workload: WorkloadRecord, t: number): number {
  return workload.load.filter((change) => change.from <= t).at(-1)?.factor ?? 1;
}

export class SimulatedMetricsReader implements MetricsReader {
  constructor(
    private readonly kubernetes: KubernetesWorld,
    private readonly clusterName: string,
    private readonly consensus: readonly ConsensusMetricDefinition[],
    private readonly run: OperationRunner,
  ) {}

  topCpuConsumers(query: {
    clusterName: string;
    namespace: string;
    windowMinutes: number;
    limit: number;
  }): Promise<PodCpuUsage[]> {
    return this.run('topCpuConsumers', [query], async (call) => {
      if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_SERIES) {
        throw new InvalidMetricsQueryError(
          `limit must be an integer from 1 to ${MAX_SERIES}, not ${query.limit}`,
        );
      }
      const t = call.now();
      const series = this.podSeries((pod, at) => this.cpuPercent(pod, at), query, t);
      await call.spend(CLOUDWATCH_GET_METRIC_DATA_MS);
      return cpuUsage(series, query.namespace).slice(0, query.limit);
    });
  }

  memoryTrends(query: {
    clusterName: string;
    namespace: string;
    windowMinutes: number;
  }): Promise<PodMemoryTrend[]> {
    return this.run('memoryTrends', [query], async (call) => {
      const t = call.now();
      const series = this.podSeries((pod, at) => this.memoryPercent(pod, at), query, t);
      await call.spend(CLOUDWATCH_GET_METRIC_DATA_MS);
      return memoryTrends(series, query.namespace);
    });
  }

  consensusParticipation(query: {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    windowMinutes: number;
  }): Promise<ConsensusParticipation> {
    return this.run('consensusParticipation', [query], async (call) => {
      checkWindow(query.windowMinutes);
      const t = call.now();
      await call.spend(CLOUDWATCH_GET_METRIC_DATA_MS);
      const metric = this.consensus.find(
        (each) =>
          each.namespace === query.namespace &&
          each.metricName === query.metricName &&
          JSON.stringify(Object.entries(each.dimensions).sort()) ===
            JSON.stringify(Object.entries(query.dimensions).sort()),
      );
      const validators = metric && this.kubernetes.workload(metric.validators);
      if (!metric || !validators) return { participationPercent: 0, datapoints: 0 };
      const values = metricPeriods(query.windowMinutes * 60_000, t).flatMap((minute) => {
        const value = this.participation(metric, validators, minute);
        return value === undefined ? [] : [value];
      });
      return { participationPercent: values.length === 0 ? 0 : mean(values), datapoints: values.length };
    });
  }

  /** One series per Container Insights `PodName`, each point the average of its pods that minute. */
  private podSeries(
    value: (pod: PodRecord, at: number) => number,
    query: { clusterName: string; namespace: string; windowMinutes: number },
    t: number,
  ): Series[] {
    // Validates as the real reader does before it builds its Metrics Insights query.
    metricsInsightsString(query.clusterName);
    metricsInsightsString(query.namespace);
    checkWindow(query.windowMinutes);
    if (query.clusterName !== this.clusterName) return [];
    const series = new Map<string, MetricPoint[]>();
    for (const minute of metricPeriods(query.windowMinutes * 60_000, t)) {
      const sampledAt = minute + METRIC_PERIOD_MS / 2;
      const reporting = this.kubernetes
        .podsAt(query.namespace, sampledAt)
        .filter((pod) => podActive(pod, sampledAt) && podPhase(pod, sampledAt) === 'Running');
      const byName = new Map<string, PodRecord[]>();
      for (const pod of reporting) {
        const label = containerInsightsPodName(pod);
        byName.set(label, [...(byName.get(label) ?? []), pod]);
      }
      for (const [label, pods] of byName) {
        const points = series.get(label) ?? [];
        series.set(label, points);
        points.push({ timestamp: new Date(minute), value: mean(pods.map((pod) => value(pod, sampledAt))) });
      }
    }
    return [...series].map(([label, points]) => ({ label, points }));
  }

  /** A ready pod's share of its workload's CPU demand; a crashing or starting one uses little or a burst. */
  private cpuPercent(pod: PodRecord, at: number): number {
    const seed = this.kubernetes.seed;
    if (pod.crash !== null && at >= pod.crash.at) return 1 + Math.abs(wobble(0.5, seed, 'cpu', pod.uid, at));
    if (!podReady(pod, at)) return 25 + wobble(5, seed, 'cpu', pod.uid, at);
    const { workload } = pod;
    const demand = workload.profile.cpuPercent * workload.normalReplicas * loadFactor(workload, at);
    const share = demand / Math.max(1, this.kubernetes.readyReplicas(workload, at));
    return Math.min(99.5, Math.max(0, share + wobble(2.5, seed, 'cpu', pod.uid, at)));
  }

  private memoryPercent(pod: PodRecord, at: number): number {
    const growth = (pod.memoryGrowthPerHour * (at - pod.createdAt)) / HOUR_MS;
    const level =
      pod.workload.profile.memoryPercent + growth + wobble(0.6, this.kubernetes.seed, 'memory', pod.uid, at);
    return Math.min(99, level);
  }

  /** Validators ready and not cut off by a quarantine policy, as a share of those the spec asks for. */
  private participation(
    metric: ConsensusMetricDefinition,
    validators: WorkloadRecord,
    minute: number,
  ): number | undefined {
    if (validators.replicas === 0) return undefined;
    const sampledAt = minute + METRIC_PERIOD_MS / 2;
    const participating = this.kubernetes.pods.filter(
      (pod) =>
        pod.workload === validators &&
        podReady(pod, sampledAt) &&
        (pod.quarantinedAt === null || pod.quarantinedAt > sampledAt),
    ).length;
    const level =
      (metric.healthyPercent * Math.min(participating, validators.replicas)) / validators.replicas;
    return Math.min(100, Math.max(0, level + wobble(0.4, this.kubernetes.seed, 'consensus', minute)));
  }
}

/** CloudWatch alarm tags by alarm ARN; an unknown alarm fails as ListTagsForResource does. */
export class SimulatedAlarmTags implements AlarmTagReader {
  constructor(
    private readonly tagsByAlarmArn: ReadonlyMap<string, Readonly<Record<string, string>>>,
    private readonly run: OperationRunner,
  ) {}

  tags(alarmArn: string): Promise<Record<string, string>> {
    return this.run('tags', [alarmArn], async (call) => {
      await call.spend(CLOUDWATCH_LIST_TAGS_MS);
      const tags = this.tagsByAlarmArn.get(alarmArn);
      if (!tags) {
        throw new ResourceNotFoundException({ message: `Alarm ${alarmArn} does not exist.`, $metadata: {} });
      }
      return { ...tags };
    });
  }
}
