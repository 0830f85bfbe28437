import { type CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmTagReader } from '../../core/operations/ports';

export class CloudWatchAlarmTags implements AlarmTagReader {
  constructor(private readonly client: CloudWatchClient) {}

  async tags(alarmArn: string): Promise<Record<string, string>> {
    const { Tags } = await this.client.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn }));
    return Object.fromEntries((Tags ?? []).flatMap((tag) => (tag.Key ? [[tag.Key, tag.Value ?? '']] : [])));
  }
}
