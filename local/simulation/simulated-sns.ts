import { snsSubject, UnknownChannelError } from '../../lambdas/adapters/aws/sns-notifier';
import type { Notification, Notifier } from '../../lambdas/core/operations/ports';
import type { OperationRunner } from './calls';
import { uuid } from './deterministic';
import { SNS_PUBLISH_MS } from './durations';

/** A message as the channel's subscribers would receive it. */
export interface OutboxMessage {
  readonly messageId: string;
  readonly channel: string;
  /** As SNS delivers it: printable ASCII, one line, under 100 characters. */
  readonly subject: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** ISO 8601, on the publisher's clock. */
  readonly publishedAt: string;
  /** Epoch milliseconds, on the publisher's clock. */
  readonly time: number;
}

/** Publishes into an in-memory outbox, one topic per configured channel. */
export class SimulatedNotifier implements Notifier {
  constructor(
    private readonly channels: ReadonlySet<string>,
    private readonly outbox: OutboxMessage[],
    private readonly seed: string,
    private readonly run: OperationRunner,
  ) {}

  publish(channel: string, notification: Notification): Promise<string> {
    return this.run('publish', [channel, notification], async (call) => {
      if (!this.channels.has(channel)) {
        throw new UnknownChannelError(`no SNS topic is configured for channel ${JSON.stringify(channel)}`);
      }
      await call.spend(SNS_PUBLISH_MS);
      const time = call.now();
      const messageId = uuid(this.seed, 'sns', this.outbox.length, channel, time);
      this.outbox.push({
        messageId,
        channel,
        subject: snsSubject(notification.subject),
        message: notification.message,
        // The SNS adapter leaves out empty attributes, which SNS rejects.
        attributes: Object.fromEntries(
          Object.entries(notification.attributes).filter(([, value]) => value !== ''),
        ),
        publishedAt: new Date(time).toISOString(),
        time,
      });
      return messageId;
    });
  }
}
