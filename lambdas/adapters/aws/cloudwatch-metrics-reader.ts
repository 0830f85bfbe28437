import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type {
  ConsensusParticipation,
  MetricsReader,
  PodCpuUsage,
  PodMemoryTrend,
} from '../../core/operations/ports';
import { AwsThrottledError, awsErrorMessage, isThrottling, translatingErrors } from './aws-errors';

/** Container Insights and RDS publish once a minute; a finer period would only repeat their datapoints. */
const PERIOD_SECONDS = 60;
/** Metrics Insights queries look back at most two weeks. */
const MAX_WINDOW_MINUTES = 14 * 24 * 60;
/** A Metrics Insights query returns at most 500 time series (its LIMIT maximum). */
const MAX_SERIES = 500;
const HOUR_MS = 3_600_000;
/** A CloudWatch dynamic label: each series a grouped query returns is named after its pod. */
// CloudWatch's placeholder syntax, not JavaScript's
const POD_NAME_LABEL = "${PROP('Dim.PodName')}";

export class CloudWatchThrottledError extends AwsThrottledError {
  override name = 'CloudWatchThrottledError';
}

/** CloudWatch answered, but reported the query itself as failed (`InternalError`, `Forbidden`). */
export class CloudWatchQueryFailedError extends Error {
  override name = 'CloudWatchQueryFailedError';
}

/** The query cannot be expressed safely or within CloudWatch's limits; retrying will not help. */
export class InvalidMetricsQueryError extends Error {
  override name = 'InvalidMetricsQueryError';
}

export interface MetricPoint {
  readonly timestamp: Date;
  readonly value: number;
}

export interface MetricSeries {
  readonly label: string;
  /** Oldest first. */
  readonly points: readonly MetricPoint[];
}

/**
 * Runs one metric query (a Metrics Insights query is allowed only alone in a request) over a window,
 * following `NextToken` and joining each series' pages by its label.
 */
export async function readMetricSeries(
  client: CloudWatchClient,
  query: MetricDataQuery,
  window: { readonly start: Date; readonly end: Date },
): Promise<MetricSeries[]> {
  const series = new Map<string, MetricPoint[]>();
  let nextToken: string | undefined;
  do {
    const page = await translatingErrors(
      () =>
        client.send(
          new GetMetricDataCommand({
            MetricDataQueries: [query],
            StartTime: window.start,
            EndTime: window.end,
            ScanBy: 'TimestampAscending',
            NextToken: nextToken,
          }),
        ),
      translateCloudWatchError,
    );
    for (const result of page.MetricDataResults ?? []) {
      if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
        const details = (result.Messages ?? [])
          .map((message) => `${message.Code}: ${message.Value}`)
          .join('; ');
        throw new CloudWatchQueryFailedError(
          `metric query ${query.Id} ended ${result.StatusCode}: ${details}`,
        );
      }
      const label = result.Label ?? query.Id ?? '';
      const points = series.get(label) ?? [];
      series.set(label, points);
      (result.Timestamps ?? []).forEach((timestamp, index) => {
        const value = result.Values?.[index];
        if (value !== undefined) points.push({ timestamp, value });
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return [...series].map(([label, points]) => ({
    label,
    points: points.sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime()),
  }));
}

function translateCloudWatchError(error: unknown): unknown {
  if (isThrottling(error)) {
    return new CloudWatchThrottledError(`CloudWatch GetMetricData throttled: ${awsErrorMessage(error)}`, {
      cause: error,
    });
  }
  return error;
}

/**
 * A label value as a Metrics Insights string literal: single-quoted, inner quotes backslash-escaped. The
 * documentation defines no escape for the backslash itself, so a value ending in one could swallow the
 * closing quote; values with backslashes or control characters are refused rather than guessed at.
 */
export function metricsInsightsString(value: string): string {
  if (/[\\\p{Cc}]/u.test(value)) {
    throw new InvalidMetricsQueryError(
      `${JSON.stringify(value)} contains a backslash or control character and cannot be quoted safely`,
    );
  }
  return `'${value.replace(/'/g, "\\'")}'`;
}

/** Slope of the least-squares line through the points, in value units per hour. */
export function leastSquaresSlopePerHour(points: readonly MetricPoint[]): number {
  if (points.length < 2) return 0;
  const origin = points[0]?.timestamp.getTime() ?? 0;
  const xs = points.map((point) => (point.timestamp.getTime() - origin) / HOUR_MS);
  const ys = points.map((point) => point.value);
  const meanX = mean(xs);
  const meanY = mean(ys);
  let covariance = 0;
  let variance = 0;
  xs.forEach((x, index) => {
    covariance += (x - meanX) * ((ys[index] ?? meanY) - meanY);
    variance += (x - meanX) ** 2;
  });
  return variance === 0 ? 0 : covariance / variance;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Reads Container Insights pod metrics with Metrics Insights (one query returns every pod of a namespace,
 * grouped and ranked server-side) and the consensus metric with a plain metric query (its exact dimensions
 * are configured, so no query language is needed).
 */
/** Each pod's CPU use from its series, highest average first. */
export function cpuUsage(
  series: readonly { label: string; points: readonly MetricPoint[] }[],
  namespace: string,
): PodCpuUsage[] {
  return series
    .filter((pod) => pod.points.length > 0)
    .map((pod) => {
      const values = pod.points.map((point) => point.value);
      return {
        podName: pod.label,
        namespace,
        averageCpuPercent: mean(values),
        maximumCpuPercent: Math.max(...values),
      };
    })
    .sort((a, b) => b.averageCpuPercent - a.averageCpuPercent);
}

/** Each pod's memory trend from its series, steepest first. */
export function memoryTrends(
  series: readonly { label: string; points: readonly MetricPoint[] }[],
  namespace: string,
): PodMemoryTrend[] {
  // A trend needs two points; a pod seen once (just started, or just gone) has none yet.
  return series
    .filter((pod) => pod.points.length >= 2)
    .map((pod) => ({
      podName: pod.label,
      namespace,
      firstPercent: pod.points[0]?.value ?? 0,
      lastPercent: pod.points[pod.points.length - 1]?.value ?? 0,
      slopePerHour: leastSquaresSlopePerHour(pod.points),
    }))
    .sort((a, b) => b.slopePerHour - a.slopePerHour);
}

export class CloudWatchMetricsReader implements MetricsReader {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async topCpuConsumers(query: {
    clusterName: string;
    namespace: string;
    windowMinutes: number;
    limit: number;
  }): Promise<PodCpuUsage[]> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_SERIES) {
      throw new InvalidMetricsQueryError(
        `limit must be an integer from 1 to ${MAX_SERIES}, not ${query.limit}`,
      );
    }
    const series = await this.podSeries(
      'pod_cpu_utilization',
      query,
      `ORDER BY AVG() DESC LIMIT ${query.limit}`,
    );
    // Container Insights reports each pod once a minute, so the highest one-minute average is the
    // highest observation of the window.
    return cpuUsage(series, query.namespace);
  }

  async memoryTrends(query: {
    clusterName: string;
    namespace: string;
    windowMinutes: number;
  }): Promise<PodMemoryTrend[]> {
    // Past 500 pods CloudWatch truncates; ordering by peak keeps the pods most likely to be leaking.
    const series = await this.podSeries('pod_memory_utilization', query, 'ORDER BY MAX() DESC');
    return memoryTrends(series, query.namespace);
  }

  async consensusParticipation(query: {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    windowMinutes: number;
  }): Promise<ConsensusParticipation> {
    const series = await readMetricSeries(
      this.client,
      {
        Id: 'participation',
        MetricStat: {
          Metric: {
            Namespace: query.namespace,
            MetricName: query.metricName,
            Dimensions: Object.entries(query.dimensions).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: PERIOD_SECONDS,
          Stat: 'Average',
        },
      },
      this.window(query.windowMinutes),
    );
    const values = series.flatMap((each) => each.points.map((point) => point.value));
    return {
      participationPercent: values.length === 0 ? 0 : mean(values),
      datapoints: values.length,
    };
  }

  private podSeries(
    metricName: 'pod_cpu_utilization' | 'pod_memory_utilization',
    query: { clusterName: string; namespace: string; windowMinutes: number },
    ordering: string,
  ): Promise<MetricSeries[]> {
    // Identifiers are double-quoted: always valid, and immune to Metrics Insights' reserved keywords.
    const expression = [
      `SELECT AVG("${metricName}")`,
      'FROM SCHEMA("ContainerInsights", "ClusterName", "Namespace", "PodName")',
      `WHERE "ClusterName" = ${metricsInsightsString(query.clusterName)}`,
      `AND "Namespace" = ${metricsInsightsString(query.namespace)}`,
      'GROUP BY "PodName"',
      ordering,
    ].join(' ');
    return readMetricSeries(
      this.client,
      { Id: 'pods', Expression: expression, Period: PERIOD_SECONDS, Label: POD_NAME_LABEL },
      this.window(query.windowMinutes),
    );
  }

  private window(windowMinutes: number): { start: Date; end: Date } {
    if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || windowMinutes > MAX_WINDOW_MINUTES) {
      throw new InvalidMetricsQueryError(
        `windowMinutes must be an integer from 1 to ${MAX_WINDOW_MINUTES}, not ${windowMinutes}`,
      );
    }
    const end = this.now();
    return { start: new Date(end.getTime() - windowMinutes * 60_000), end };
  }
}
