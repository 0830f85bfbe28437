import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AorConfig, NotificationChannel } from '../config';

export interface NotificationChannelsProps {
  readonly encryptionKey: kms.IKey;
  readonly channels: Partial<AorConfig['notifications']>;
}

/**
 * One KMS-encrypted, TLS-only SNS topic per notification channel of the playbooks (ops-team,
 * security-team, …), with the configured email subscribers. Topic names are stable
 * (`aor-<channel>`) so operators can subscribe other endpoints out of band.
 */
export class NotificationChannels extends Construct {
  readonly topics: ReadonlyMap<NotificationChannel, sns.Topic>;

  constructor(scope: Construct, id: string, props: NotificationChannelsProps) {
    super(scope, id);
    const topics = new Map<NotificationChannel, sns.Topic>();
    for (const [channel, settings] of Object.entries(props.channels) as [
      NotificationChannel,
      { emails: string[] },
    ][]) {
      const topic = new sns.Topic(this, channel, {
        topicName: `aor-${channel}`,
        displayName: `AOR ${channel}`,
        masterKey: props.encryptionKey,
        enforceSSL: true,
      });
      for (const address of settings.emails) {
        topic.addSubscription(new subscriptions.EmailSubscription(address));
      }
      topics.set(channel, topic);
    }
    this.topics = topics;
  }

  topic(channel: NotificationChannel): sns.Topic {
    const topic = this.topics.get(channel);
    if (!topic) throw new Error(`No notification channel "${channel}" in this stack`);
    return topic;
  }
}
