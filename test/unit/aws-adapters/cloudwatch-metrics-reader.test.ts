import { CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchMetricsReader,
  CloudWatchQueryFailedError,
  CloudWatchThrottledError,
  InvalidMetricsQueryError,
  leastSquaresSlopePerHour,
  metricsInsightsString,
} from '../../../lambdas/adapters/aws/cloudwatch-metrics-reader';

const NOW = new Date('2026-11-05T10:00:00Z');
const MINUTE = 60_000;
// CloudWatch's dynamic-label syntax, not JavaScript's
const POD_NAME_LABEL = "${PROP('Dim.PodName')}";

const cloudWatch = mockClient(CloudWatchClient);
const reader = new CloudWatchMetricsReader(new CloudWatchClient({ region: 'us-gov-west-1' }), () => NOW);

/** A pod series with one value a minute, starting `startMinutesAgo` before NOW. */
function pod(label: string, values: number[], startMinutesAgo = values.length): MetricDataResult {
  return {
    Id: 'pods',
    Label: label,
    StatusCode: 'Complete',
    Timestamps: values.map((_, index) => new Date(NOW.getTime() - (startMinutesAgo - index) * MINUTE)),
    Values: values,
  };
}

function sentInputs() {
  return cloudWatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  cloudWatch.reset();
});

describe('topCpuConsumers', () => {
  it('sends one ranked Metrics Insights query over the window', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await reader.topCpuConsumers({
      clusterName: 'phoenix-rooivalk',
      namespace: 'blockchain',
      windowMinutes: 15,
      limit: 3,
    });

    expect(sentInputs()).toEqual([
      {
        MetricDataQueries: [
          {
            Id: 'pods',
            Expression:
              'SELECT AVG("pod_cpu_utilization") FROM SCHEMA("ContainerInsights", "ClusterName", "Namespace", "PodName") ' +
              `WHERE "ClusterName" = 'phoenix-rooivalk' AND "Namespace" = 'blockchain' ` +
              'GROUP BY "PodName" ORDER BY AVG() DESC LIMIT 3',
            Period: 60,
            Label: POD_NAME_LABEL,
          },
        ],
        StartTime: new Date('2026-11-05T09:45:00Z'),
        EndTime: NOW,
        ScanBy: 'TimestampAscending',
      },
    ]);
  });

  it('averages and peaks each pod, highest average first', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        pod('validator-1', [50, 70, 90]),
        pod('api-gateway', [95, 85, 90, 90]),
        pod('idle', []),
      ],
    });

    const usage = await reader.topCpuConsumers({
      clusterName: 'phoenix-rooivalk',
      namespace: 'blockchain',
      windowMinutes: 15,
      limit: 3,
    });

    expect(usage).toEqual([
      { podName: 'api-gateway', namespace: 'blockchain', averageCpuPercent: 90, maximumCpuPercent: 95 },
      { podName: 'validator-1', namespace: 'blockchain', averageCpuPercent: 70, maximumCpuPercent: 90 },
    ]);
  });

  it('returns an empty list when no pod reported', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await expect(
      reader.topCpuConsumers({
        clusterName: 'phoenix-rooivalk',
        namespace: 'quiet',
        windowMinutes: 5,
        limit: 5,
      }),
    ).resolves.toEqual([]);
  });

  it('follows NextToken and joins the pages of each pod', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [pod('validator-1', [10, 20], 4)], NextToken: 'page-2' })
      .resolvesOnce({ MetricDataResults: [pod('validator-1', [30, 40], 2), pod('validator-2', [5], 1)] });

    const usage = await reader.topCpuConsumers({
      clusterName: 'phoenix-rooivalk',
      namespace: 'blockchain',
      windowMinutes: 5,
      limit: 2,
    });

    expect(sentInputs().map((input) => input.NextToken)).toEqual([undefined, 'page-2']);
    expect(sentInputs()[1]?.MetricDataQueries).toEqual(sentInputs()[0]?.MetricDataQueries);
    expect(usage).toEqual([
      { podName: 'validator-1', namespace: 'blockchain', averageCpuPercent: 25, maximumCpuPercent: 40 },
      { podName: 'validator-2', namespace: 'blockchain', averageCpuPercent: 5, maximumCpuPercent: 5 },
    ]);
  });

  it('escapes a hostile label value so it cannot leave its string literal', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await reader.topCpuConsumers({
      clusterName: `x' OR "ClusterName" != '`,
      namespace: 'blockchain',
      windowMinutes: 5,
      limit: 1,
    });

    expect(sentInputs()[0]?.MetricDataQueries?.[0]?.Expression).toContain(
      `WHERE "ClusterName" = 'x\\' OR "ClusterName" != \\'' AND "Namespace" = 'blockchain'`,
    );
  });

  it.each([
    ['a trailing backslash, which would escape the closing quote', 'phoenix\\'],
    ['a line break', 'phoenix\nrooivalk'],
    ['a NUL', 'phoenix\u0000'],
  ])('refuses a label value with %s, sending nothing', async (_, clusterName) => {
    await expect(
      reader.topCpuConsumers({ clusterName, namespace: 'blockchain', windowMinutes: 5, limit: 1 }),
    ).rejects.toThrow(InvalidMetricsQueryError);
    expect(cloudWatch).not.toHaveReceivedAnyCommand();
  });

  it.each([
    { windowMinutes: 0, limit: 5 },
    { windowMinutes: 2.5, limit: 5 },
    { windowMinutes: 14 * 24 * 60 + 1, limit: 5 },
    { windowMinutes: 5, limit: 0 },
    { windowMinutes: 5, limit: 501 },
  ])('refuses window $windowMinutes min / limit $limit outside CloudWatch limits', async (query) => {
    await expect(
      reader.topCpuConsumers({ clusterName: 'phoenix-rooivalk', namespace: 'blockchain', ...query }),
    ).rejects.toThrow(InvalidMetricsQueryError);
    expect(cloudWatch).not.toHaveReceivedAnyCommand();
  });
});

describe('metricsInsightsString', () => {
  it('single-quotes a value and backslash-escapes its single quotes', () => {
    expect(metricsInsightsString('blockchain')).toBe(`'blockchain'`);
    expect(metricsInsightsString(`o'brien's`)).toBe(`'o\\'brien\\'s'`);
  });
});

describe('memoryTrends', () => {
  it('queries every pod of the namespace, largest peak first, without a LIMIT', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await reader.memoryTrends({
      clusterName: 'phoenix-rooivalk',
      namespace: 'blockchain',
      windowMinutes: 120,
    });

    expect(sentInputs()[0]).toEqual({
      MetricDataQueries: [
        {
          Id: 'pods',
          Expression:
            'SELECT AVG("pod_memory_utilization") FROM SCHEMA("ContainerInsights", "ClusterName", "Namespace", "PodName") ' +
            `WHERE "ClusterName" = 'phoenix-rooivalk' AND "Namespace" = 'blockchain' ` +
            'GROUP BY "PodName" ORDER BY MAX() DESC',
          Period: 60,
          Label: POD_NAME_LABEL,
        },
      ],
      StartTime: new Date('2026-11-05T08:00:00Z'),
      EndTime: NOW,
      ScanBy: 'TimestampAscending',
    });
  });

  it('fits a least-squares slope per hour, steepest first, skipping pods seen once', async () => {
    const hourly = (values: number[]): MetricDataResult => ({
      Id: 'pods',
      Label: 'validator-1',
      StatusCode: 'Complete',
      Timestamps: values.map((_, index) => new Date(NOW.getTime() - (values.length - index) * 60 * MINUTE)),
      Values: values,
    });
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        pod('api-gateway', [40, 40.5, 41, 41.5]), // +0.5 a minute = 30 points an hour
        hourly([10, 12, 11, 15]),
        pod('just-started', [12]),
      ],
    });

    const trends = await reader.memoryTrends({
      clusterName: 'phoenix-rooivalk',
      namespace: 'blockchain',
      windowMinutes: 300,
    });

    expect(trends.map((trend) => trend.podName)).toEqual(['api-gateway', 'validator-1']);
    expect(trends[0]).toMatchObject({ firstPercent: 40, lastPercent: 41.5 });
    expect(trends[0]?.slopePerHour).toBeCloseTo(30, 10);
    // x̄ = 1.5 h, ȳ = 12: Σ(x−x̄)(y−ȳ) = 3 + 0 − 0.5 + 4.5 = 7, Σ(x−x̄)² = 5, slope = 1.4 per hour.
    expect(trends[1]).toMatchObject({ namespace: 'blockchain', firstPercent: 10, lastPercent: 15 });
    expect(trends[1]?.slopePerHour).toBeCloseTo(1.4, 10);
  });

  it('orders points by time even when pages arrive newest first', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [pod('validator-1', [60, 70], 2)], NextToken: 'older' })
      .resolvesOnce({ MetricDataResults: [pod('validator-1', [40, 50], 4)] });

    const [trend] = await reader.memoryTrends({
      clusterName: 'phoenix-rooivalk',
      namespace: 'blockchain',
      windowMinutes: 5,
    });

    expect(trend).toMatchObject({ firstPercent: 40, lastPercent: 70 });
    expect(trend?.slopePerHour).toBeCloseTo(600, 10);
  });
});

describe('leastSquaresSlopePerHour', () => {
  const at = (minutes: number, value: number) => ({
    timestamp: new Date(NOW.getTime() + minutes * MINUTE),
    value,
  });

  it.each([
    { case: 'a flat line', points: [at(0, 7), at(30, 7), at(60, 7)], slope: 0 },
    { case: 'a single point', points: [at(0, 7)], slope: 0 },
    { case: 'no points', points: [], slope: 0 },
    {
      case: 'an exact line sampled unevenly',
      points: [at(0, 5), at(10, 5.5), at(60, 8), at(150, 12.5)],
      slope: 3,
    },
    { case: 'a falling line', points: [at(0, 90), at(120, 50)], slope: -20 },
  ])('is $slope for $case', ({ points, slope }) => {
    expect(leastSquaresSlopePerHour(points)).toBeCloseTo(slope, 10);
  });
});

describe('consensusParticipation', () => {
  const query = {
    namespace: 'PhoenixRooivalk/Blockchain',
    metricName: 'ConsensusParticipation',
    dimensions: { Network: 'mainnet', Cluster: 'phoenix-rooivalk' },
    windowMinutes: 10,
  };

  it('averages the configured metric with its exact dimensions', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ ...pod('ConsensusParticipation', [100, 90, 95, 95]), Id: 'participation' }],
    });

    const participation = await reader.consensusParticipation(query);

    expect(participation).toEqual({ participationPercent: 95, datapoints: 4 });
    expect(sentInputs()).toEqual([
      {
        MetricDataQueries: [
          {
            Id: 'participation',
            MetricStat: {
              Metric: {
                Namespace: 'PhoenixRooivalk/Blockchain',
                MetricName: 'ConsensusParticipation',
                Dimensions: [
                  { Name: 'Network', Value: 'mainnet' },
                  { Name: 'Cluster', Value: 'phoenix-rooivalk' },
                ],
              },
              Period: 60,
              Stat: 'Average',
            },
          },
        ],
        StartTime: new Date('2026-11-05T09:50:00Z'),
        EndTime: NOW,
        ScanBy: 'TimestampAscending',
      },
    ]);
  });

  it('reports zero datapoints, not a failure, when the metric is silent', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'participation', Label: 'ConsensusParticipation', Timestamps: [], Values: [] },
      ],
    });

    await expect(reader.consensusParticipation(query)).resolves.toEqual({
      participationPercent: 0,
      datapoints: 0,
    });
  });
});

describe('CloudWatch failures', () => {
  const query = { clusterName: 'phoenix-rooivalk', namespace: 'blockchain', windowMinutes: 5, limit: 1 };

  it.each([
    Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }),
    Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    Object.assign(new Error('Too Many Requests'), { name: 'Unknown', $metadata: { httpStatusCode: 429 } }),
  ])('throttling ($name) becomes a retryable CloudWatchThrottledError', async (error) => {
    cloudWatch.on(GetMetricDataCommand).rejects(error);

    const failure = await reader.topCpuConsumers(query).catch((e) => e);

    expect(failure).toBeInstanceOf(CloudWatchThrottledError);
    expect(failure).toMatchObject({ name: 'CloudWatchThrottledError', retryable: true, cause: error });
  });

  it('a query CloudWatch reports as failed becomes CloudWatchQueryFailedError', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'pods',
          StatusCode: 'InternalError',
          Messages: [{ Code: 'InternalError', Value: 'try later' }],
        },
      ],
    });

    await expect(reader.topCpuConsumers(query)).rejects.toThrow(CloudWatchQueryFailedError);
  });

  it('other errors pass through unchanged', async () => {
    const invalid = Object.assign(new Error('bad query'), { name: 'InvalidParameterValueException' });
    cloudWatch.on(GetMetricDataCommand).rejects(invalid);

    await expect(reader.topCpuConsumers(query)).rejects.toBe(invalid);
  });
});
