import { createHash } from 'node:crypto';

export interface AlarmEventFields {
  readonly alarmName: string;
  readonly state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
  readonly description?: string;
  readonly namespace?: string;
  readonly metricName?: string;
  readonly dimensions?: Record<string, string>;
  readonly time: Date;
  readonly account?: string;
  readonly region?: string;
}

/**
 * A CloudWatch "Alarm State Change" event exactly as EventBridge delivers it (the shape documented
 * in the CloudWatch user guide, including CloudWatch's `+0000` state timestamps), for drills and
 * tests. The event id is derived from its content, as a redelivery of one event keeps its id.
 */
export function alarmStateChangeEvent(fields: AlarmEventFields): Record<string, unknown> {
  const account = fields.account ?? '111122223333';
  const region = fields.region ?? 'us-gov-west-1';
  const timestamp = fields.time.toISOString().replace('Z', '+0000');
  const previous = fields.state === 'ALARM' ? 'OK' : 'ALARM';
  const body = {
    version: '0',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    time: fields.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws-us-gov:cloudwatch:${region}:${account}:alarm:${fields.alarmName}`],
    detail: {
      alarmName: fields.alarmName,
      state: {
        value: fields.state,
        reason:
          fields.reason ??
          `Threshold Crossed: 1 datapoint was ${fields.state === 'ALARM' ? 'beyond' : 'within'} the threshold.`,
        timestamp,
      },
      previousState: { value: previous, reason: 'previous evaluation', timestamp },
      configuration: {
        description: fields.description ?? '',
        metrics: fields.metricName
          ? [
              {
                id: 'm1',
                metricStat: {
                  metric: {
                    namespace: fields.namespace ?? 'AWS/EC2',
                    name: fields.metricName,
                    dimensions: fields.dimensions ?? {},
                  },
                  period: 60,
                  stat: 'Average',
                },
                returnData: true,
              },
            ]
          : [],
      },
    },
  };
  const id = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  return {
    id: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
    ...body,
  };
}
