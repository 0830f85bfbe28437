import { KMSThrottlingException, PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidNotificationError,
  SnsNotifier,
  SnsThrottledError,
  snsSubject,
  UnknownChannelError,
} from '../../../lambdas/adapters/aws/sns-notifier';

const TOPIC_ARN_PREFIX = 'arn:aws-us-gov:sns:us-gov-west-1:123456789012';
const OPS_TOPIC = `${TOPIC_ARN_PREFIX}:aor-ops-team`;

const sns = mockClient(SNSClient);
const notifier = new SnsNotifier(new SNSClient({ region: 'us-gov-west-1' }), {
  'ops-team': OPS_TOPIC,
  'database-team': `${TOPIC_ARN_PREFIX}:aor-database-team`,
});

const notification = {
  subject: '[HIGH] database_connection_failure: phoenix-ops',
  message: 'Incident INC-20261105-0001 opened.\nRunbook: database-failure',
  attributes: { severity: 'HIGH', incidentId: 'INC-20261105-0001' },
};

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: '5f1e0b8c-7d1a-4c8e-9a43-0d3a9c1b2e77' });
});

describe('SnsNotifier.publish', () => {
  it("publishes to the channel's topic and returns the message id", async () => {
    const messageId = await notifier.publish('ops-team', notification);

    expect(messageId).toBe('5f1e0b8c-7d1a-4c8e-9a43-0d3a9c1b2e77');
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      {
        TopicArn: OPS_TOPIC,
        Subject: '[HIGH] database_connection_failure: phoenix-ops',
        Message: 'Incident INC-20261105-0001 opened.\nRunbook: database-failure',
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: 'HIGH' },
          incidentId: { DataType: 'String', StringValue: 'INC-20261105-0001' },
        },
      },
    ]);
  });

  it('sends a sanitised subject', async () => {
    await notifier.publish('ops-team', { ...notification, subject: 'Database down\r\nBcc: someone' });

    expect(sns).toHaveReceivedCommandWith(PublishCommand, { Subject: 'Database down Bcc: someone' });
  });

  it.each(['security-team', 'constructor', 'toString', '__proto__'])(
    'refuses unknown channel %s without publishing',
    async (channel) => {
      await expect(notifier.publish(channel, notification)).rejects.toThrow(UnknownChannelError);
      expect(sns).not.toHaveReceivedAnyCommand();
    },
  );

  it('drops attributes with empty values, which SNS would reject', async () => {
    await notifier.publish('ops-team', { ...notification, attributes: { severity: 'HIGH', assignee: '' } });

    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'HIGH' },
    });
  });

  it.each(['AWS.severity', 'amazon.x', '.leading', 'trailing.', 'two..dots', 'with space', 'x'.repeat(257)])(
    'refuses attribute name %s without publishing',
    async (name) => {
      await expect(
        notifier.publish('ops-team', { ...notification, attributes: { [name]: 'v' } }),
      ).rejects.toThrow(InvalidNotificationError);
      expect(sns).not.toHaveReceivedAnyCommand();
    },
  );

  it('refuses more than 10 attributes', async () => {
    const attributes = Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`a${index}`, 'v']));

    await expect(notifier.publish('ops-team', { ...notification, attributes })).rejects.toThrow(
      InvalidNotificationError,
    );
  });

  it.each([
    new ThrottledException({ message: 'Rate exceeded', $metadata: {} }),
    new KMSThrottlingException({ message: 'KMS rate exceeded', $metadata: {} }),
    Object.assign(new Error('Too Many Requests'), { name: 'Unknown', $metadata: { httpStatusCode: 429 } }),
  ])('maps throttling ($name) to a retryable SnsThrottledError', async (error) => {
    sns.on(PublishCommand).rejects(error);

    const failure = await notifier.publish('ops-team', notification).catch((e) => e);

    expect(failure).toBeInstanceOf(SnsThrottledError);
    expect(failure).toMatchObject({ name: 'SnsThrottledError', retryable: true });
    expect(failure.cause).toBe(error);
  });

  it('lets other SNS errors through unchanged', async () => {
    const notFound = Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' });
    sns.on(PublishCommand).rejects(notFound);

    await expect(notifier.publish('ops-team', notification)).rejects.toBe(notFound);
  });
});

describe('snsSubject', () => {
  it.each([
    { case: 'a plain subject', input: 'Disk full on validator-3', output: 'Disk full on validator-3' },
    { case: 'line breaks and tabs', input: 'Line one\nLine two\r\n\tend', output: 'Line one Line two end' },
    { case: 'control characters', input: 'bell\u0007 and\u0000nul', output: 'bell and nul' },
    { case: 'accents', input: 'Échec de réplication à Pretoria', output: 'Echec de replication a Pretoria' },
    { case: 'other non-ASCII', input: 'CPU ≥ 95% — 🔥', output: 'CPU ? 95% ? ?' },
    { case: 'surrounding blanks', input: '   spaced   out   ', output: 'spaced out' },
    { case: 'nothing printable', input: ' \n\t ', output: 'AOR notification' },
  ])('handles $case', ({ input, output }) => {
    expect(snsSubject(input)).toBe(output);
  });

  it('truncates to fewer than 100 characters with an ellipsis', () => {
    const subject = snsSubject(`[CRITICAL] security_breach_detected: ${'x'.repeat(200)}`);

    expect(subject).toHaveLength(99);
    expect(subject.startsWith('[CRITICAL] security_breach_detected: xxx')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('keeps a 99-character subject whole', () => {
    expect(snsSubject('y'.repeat(99))).toBe('y'.repeat(99));
  });

  it.each(['a'.repeat(500), 'Überlastung\nim Cluster\u0000', '🚨'.repeat(80)])(
    'always yields printable ASCII on one line, shorter than 100',
    (input) => {
      expect(snsSubject(input)).toMatch(/^[\x20-\x7e]{1,99}$/);
    },
  );
});
