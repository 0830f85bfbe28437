import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from '../../core/operations/ports';
import { AwsThrottledError, awsErrorMessage, isThrottling, translatingErrors } from './aws-errors';

/** SNS requires subjects shorter than 100 characters. */
const MAX_SUBJECT_LENGTH = 99;
const FALLBACK_SUBJECT = 'AOR notification';
const MAX_MESSAGE_ATTRIBUTES = 10;
/** SNS attribute names: letters, digits, `_-.`, at most 256, not starting or ending with a period. */
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/;
/** Prefixes SNS keeps for itself. */
const RESERVED_ATTRIBUTE_PREFIX = /^(aws|amazon)\./i;

export class SnsThrottledError extends AwsThrottledError {
  override name = 'SnsThrottledError';
}

export class UnknownChannelError extends Error {
  override name = 'UnknownChannelError';
}

/** The notification cannot be published as given (attribute names SNS rejects); retrying will not help. */
export class InvalidNotificationError extends Error {
  override name = 'InvalidNotificationError';
}

/**
 * A subject SNS accepts: printable ASCII (email subjects are the strictest consumer), one line, shorter
 * than 100 characters. Accents are folded (`é` → `e`), other characters become `?`, line breaks and
 * runs of whitespace become single spaces, and an over-long subject ends in `...`.
 */
export function snsSubject(subject: string): string {
  const printable = subject
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .replace(/[^\x20-\x7e]/gu, '?')
    .trim();
  if (printable === '') return FALLBACK_SUBJECT;
  if (printable.length <= MAX_SUBJECT_LENGTH) return printable;
  return `${printable.slice(0, MAX_SUBJECT_LENGTH - 3).trimEnd()}...`;
}

function messageAttributes(attributes: Record<string, string>): Record<string, MessageAttributeValue> {
  // SNS rejects an empty String attribute; it carries nothing a subscriber could filter on anyway.
  const entries = Object.entries(attributes).filter(([, value]) => value !== '');
  if (entries.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new InvalidNotificationError(
      `${entries.length} message attributes; SNS takes at most ${MAX_MESSAGE_ATTRIBUTES}`,
    );
  }
  for (const [name] of entries) {
    if (!ATTRIBUTE_NAME.test(name) || RESERVED_ATTRIBUTE_PREFIX.test(name)) {
      throw new InvalidNotificationError(`${JSON.stringify(name)} is not a valid SNS message attribute name`);
    }
  }
  return Object.fromEntries(
    entries.map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArnByChannel: Readonly<Record<string, string>>,
  ) {}

  async publish(channel: string, notification: Notification): Promise<string> {
    // Own keys only: a channel named `constructor` must not resolve to Object.prototype's.
    const topicArn = Object.hasOwn(this.topicArnByChannel, channel)
      ? this.topicArnByChannel[channel]
      : undefined;
    if (!topicArn)
      throw new UnknownChannelError(`no SNS topic is configured for channel ${JSON.stringify(channel)}`);
    const attributes = messageAttributes(notification.attributes);
    const result = await translatingErrors(
      () =>
        this.client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: snsSubject(notification.subject),
            Message: notification.message,
            MessageAttributes: attributes,
          }),
        ),
      (error) =>
        isThrottling(error)
          ? new SnsThrottledError(`SNS throttled a publish to ${channel}: ${awsErrorMessage(error)}`, {
              cause: error,
            })
          : error,
    );
    // SNS answers every accepted publish with an id; the SDK merely types it optional.
    return result.MessageId ?? '';
  }
}
