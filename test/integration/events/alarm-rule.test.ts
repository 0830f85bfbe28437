import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, expect, it } from 'vitest';
import { alarmStateChangeEvent } from '../../../local/harness/alarm-events';
import { synthAor } from '../../support/app';
import { clientConfig, describeOverTheWire, PRIMARY_REGION, uniqueName } from '../support/aws-backend';

/**
 * The incident workflow's EventBridge rule, as synthesized, judged by an EventBridge that is not our
 * code: the emulator's matcher delivers what the pattern matches to a queue. The events are
 * CloudWatch's documented "Alarm State Change" shapes: a metric alarm, a metric math alarm, a
 * composite alarm; ALARM, OK and INSUFFICIENT_DATA; names around the prefix.
 */

const PREFIX = 'phoenix-rooivalk-';
const TIME = new Date('2026-11-23T04:00:00.000Z');

/** A metric math alarm's configuration: the expression returns data, its inputs do not. */
function metricMathEvent(alarmName: string, state: 'ALARM' | 'OK') {
  const event = alarmStateChangeEvent({ alarmName, state, time: TIME });
  const detail = event.detail as Record<string, unknown>;
  detail.configuration = {
    description: 'error rate above 5 %',
    metrics: [
      { id: 'e1', expression: '100 * errors / requests', label: 'error rate', returnData: true },
      {
        id: 'errors',
        metricStat: {
          metric: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', dimensions: {} },
          period: 60,
          stat: 'Sum',
        },
        returnData: false,
      },
    ],
  };
  return event;
}

/** A composite alarm's configuration: a rule over other alarms, no metrics. */
function compositeEvent(alarmName: string, state: 'ALARM' | 'OK') {
  const event = alarmStateChangeEvent({ alarmName, state, time: TIME });
  const detail = event.detail as Record<string, unknown>;
  detail.configuration = {
    alarmRule: `ALARM("${PREFIX}blockchain-node-down") OR ALARM("${PREFIX}consensus-low")`,
    actionsSuppressor: '',
    actionsSuppressorWaitPeriod: 0,
    actionsSuppressorExtensionPeriod: 0,
    description: 'platform degraded',
  };
  return event;
}

const metric = (alarmName: string, state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA') =>
  alarmStateChangeEvent({ alarmName, state, time: TIME, namespace: 'AWS/EC2', metricName: 'CPUUtilization' });

/** Each event, and whether the rule must start the workflow for it. */
const CASES: readonly [string, Record<string, unknown>, boolean][] = [
  ['a metric alarm going to ALARM', metric(`${PREFIX}high-cpu`, 'ALARM'), true],
  ['a metric alarm back to OK', metric(`${PREFIX}high-cpu`, 'OK'), true],
  ['a metric alarm with INSUFFICIENT_DATA', metric(`${PREFIX}high-cpu`, 'INSUFFICIENT_DATA'), false],
  ['a metric math alarm going to ALARM', metricMathEvent(`${PREFIX}error-rate`, 'ALARM'), true],
  ['a composite alarm going to ALARM', compositeEvent(`${PREFIX}platform-degraded`, 'ALARM'), true],
  ['a composite alarm back to OK', compositeEvent(`${PREFIX}platform-degraded`, 'OK'), true],
  ['an alarm named the prefix alone', metric(PREFIX, 'ALARM'), true],
  ['an alarm whose name only contains the prefix', metric(`staging-${PREFIX}high-cpu`, 'ALARM'), false],
  ['an alarm whose name differs in case', metric(`Phoenix-Rooivalk-high-cpu`, 'ALARM'), false],
  ['an alarm of another system', metric('billing-estimated-charges', 'ALARM'), false],
  [
    'another detail type from CloudWatch',
    { ...metric(`${PREFIX}high-cpu`, 'ALARM'), 'detail-type': 'CloudWatch Alarm Configuration Change' },
    false,
  ],
];

/** An event as one line: which change of which alarm, and whether it is a composite's. */
function summary(event: Record<string, unknown>): string {
  const detail = event.detail as { alarmName: string; state: { value: string }; configuration?: object };
  const composite = detail.configuration !== undefined && 'alarmRule' in detail.configuration;
  return `${String(event['detail-type'])} ${detail.alarmName} ${detail.state.value}${composite ? ' (composite)' : ''}`;
}

describeOverTheWire('the alarm rule, matched by EventBridge', () => {
  let events: EventBridgeClient;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    const rules = synthAor().templates.incidentResponse.findResources('AWS::Events::Rule');
    const [rule] = Object.values(rules) as { Properties: { EventPattern: unknown } }[];
    if (!rule) throw new Error('the incident stack has an alarm rule');
    events = new EventBridgeClient(clientConfig(PRIMARY_REGION));
    sqs = new SQSClient(clientConfig(PRIMARY_REGION));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('alarm-rule-target') }));
    queueUrl = queue.QueueUrl ?? '';
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const name = uniqueName('aor-alarm-state-change');
    await events.send(
      new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(rule.Properties.EventPattern) }),
    );
    await events.send(
      new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }] }),
    );
  });

  it('starts the workflow for the documented ALARM and OK changes of its alarms, and for nothing else', async () => {
    // The emulator lets a test publish as aws.cloudwatch; EventBridge itself reserves `aws.` sources.
    for (const [, event] of CASES) {
      const { FailedEntryCount } = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: String(event.source),
              DetailType: String(event['detail-type']),
              Detail: JSON.stringify(event.detail),
              Resources: event.resources as string[],
              Time: TIME,
            },
          ],
        }),
      );
      expect(FailedEntryCount).toBe(0);
    }
    const delivered: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of Messages) delivered.push(summary(JSON.parse(message.Body ?? '{}')));
    }
    const expected = CASES.filter(([, , matches]) => matches).map(([, event]) => summary(event));
    expect(delivered.sort()).toEqual(expected.sort());
  });
});
