import { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { awsIncidentService, channelTopicArns, executionConsoleUrl } from '../../adapters/aws/aws-incidents';
import { SnsNotifier } from '../../adapters/aws/sns-notifier';
import type { IncidentService } from '../../core/incident/incident-service';
import { incidentNotification } from '../../core/incident/notifications';
import { CHANNELS, ESCALATION_TIERS } from '../../core/incident/playbooks';
import type { Notifier } from '../../core/operations/ports';
import { once, taskHandler } from '../../shared/task-handler';
import { stepKey, workflowActor, workflowTaskSchema } from '../../shared/workflow-task';

export interface NotifyDependencies {
  readonly incidents: IncidentService;
  readonly notifier: Notifier;
  /** Link to this execution in the Step Functions console. */
  readonly executionUrl: (executionArn: string) => string;
}

/** A channel could not be notified; the others were, and the failure is on the timeline. */
export class NotificationFailedError extends Error {
  override name = 'NotificationFailedError';
}

const notifyInput = z.discriminatedUnion('operation', [
  z.strictObject({
    operation: z.literal('notify-channels'),
    incidentId: z.string().min(1),
    channels: z.array(z.enum(CHANNELS)).min(1),
    task: workflowTaskSchema,
  }),
  z.strictObject({
    operation: z.literal('escalate-if-unacknowledged'),
    incidentId: z.string().min(1),
    task: workflowTaskSchema,
  }),
]);

/**
 * Notifications of the incident workflow: the playbook's channels when an incident opens, and
 * the next escalation tier when nobody has acknowledged it in time.
 */
export function createNotifyHandler(dependencies: () => Promise<NotifyDependencies> | NotifyDependencies) {
  return taskHandler(notifyInput, dependencies, async (input, { incidents, notifier, executionUrl }) => {
    const actor = workflowActor(input.task);
    const incident = await incidents.requireIncident(input.incidentId);
    await incidents.settleOwedRecords(incident.id, actor);
    if (input.operation === 'notify-channels') {
      const failures: string[] = [];
      const delivered: string[] = [];
      for (const channel of input.channels) {
        const key = stepKey(input.task, 'notified', channel);
        // Paged by an earlier attempt of this step: a retry pages only the channels that failed.
        if (await incidents.recordedEvent(incident.id, key)) {
          delivered.push(channel);
          continue;
        }
        let messageId: string;
        try {
          messageId = await notifier.publish(
            channel,
            incidentNotification(incident, 'opened', executionUrl(input.task.execution)),
          );
        } catch (error) {
          failures.push(`${channel}: ${(error as Error).name}: ${(error as Error).message}`);
          continue;
        }
        delivered.push(channel);
        // Outside the try: a throttled ledger is not an unreachable channel.
        await incidents.note(
          incident.id,
          actor,
          { type: 'notified', message: `notified ${channel}`, details: { channel, messageId } },
          key,
          'succeeded',
        );
      }
      if (failures.length > 0) {
        throw new NotificationFailedError(
          `could not notify ${failures.join('; ')} (delivered: ${delivered.join(', ') || 'none'})`,
        );
      }
      return { delivered };
    }
    const state = await incidents.escalationState(incident.id);
    if (state.acknowledged || !state.active) {
      return { escalated: false, done: true, escalationLevel: state.escalationLevel };
    }
    const tier = ESCALATION_TIERS[state.escalationLevel];
    if (tier === undefined) return { escalated: false, done: true, escalationLevel: state.escalationLevel };
    const level = state.escalationLevel + 1;
    // A retry after the page went out and its record was stored completes it without paging again.
    if (!(await incidents.escalationPaged(incident.id, level))) {
      await notifier.publish(
        tier,
        incidentNotification(incident, 'escalated', executionUrl(input.task.execution), tier),
      );
    }
    await incidents.recordEscalation(incident.id, tier, level, actor);
    return { escalated: true, tier, escalationLevel: level, done: level >= ESCALATION_TIERS.length };
  });
}

export const handler = createNotifyHandler(
  once(() => ({
    incidents: awsIncidentService(),
    notifier: new SnsNotifier(new SNSClient({}), channelTopicArns()),
    executionUrl: executionConsoleUrl,
  })),
);
