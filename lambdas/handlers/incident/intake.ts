import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import * as z from 'zod';
import { awsIncidentService } from '../../adapters/aws/aws-incidents';
import { CloudWatchAlarmTags } from '../../adapters/aws/cloudwatch-alarm-tags';
import { parseAlarmSignal } from '../../core/incident/alarm-signal';
import { classifyAlarm } from '../../core/incident/classify';
import type { IncidentService } from '../../core/incident/incident-service';
import { PLAYBOOKS } from '../../core/incident/playbooks';
import type { AlarmTagReader } from '../../core/operations/ports';
import { logger, once, taskHandler } from '../../shared/task-handler';
import { workflowActor, workflowTaskSchema } from '../../shared/workflow-task';

export interface IntakeDependencies {
  readonly incidents: IncidentService;
  readonly tags: AlarmTagReader;
  readonly clock: () => Date;
}

/** The workflow's raw input (an EventBridge alarm event or a manual start) and the task context. */
const intakeInput = z.strictObject({ event: z.unknown(), task: workflowTaskSchema });

/**
 * First task of the incident workflow. An ALARM opens the incident for its playbook (or records a
 * repeat on the open one); an OK resolves the open one. A foreign or malformed event fails here,
 * before anything is written.
 */
export function createIntakeHandler(dependencies: () => Promise<IntakeDependencies> | IntakeDependencies) {
  return taskHandler(intakeInput, dependencies, async ({ event, task }, { incidents, tags, clock }) => {
    const signal = parseAlarmSignal(event, clock());
    const actor = workflowActor(task);
    if (signal.state === 'OK') {
      const resolved = await incidents.resolveOnRecovery(signal, actor);
      logger.info('alarm recovered', { alarmName: signal.alarmName, incidentId: resolved?.id });
      return { kind: 'recovery' as const, alarmName: signal.alarmName, incidentId: resolved?.id ?? null };
    }
    const classification = classifyAlarm(signal, signal.alarmArn ? await tags.tags(signal.alarmArn) : {});
    const { incident, isNew } = await incidents.openOrRepeat(signal, classification, actor);
    const playbook = PLAYBOOKS[incident.playbook];
    logger.info(isNew ? 'incident opened' : 'alarm repeated on open incident', {
      incidentId: incident.id,
      playbook: playbook.id,
    });
    return {
      kind: isNew ? ('new-incident' as const) : ('repeat' as const),
      incidentId: incident.id,
      severity: incident.severity,
      classification: classification.reason,
      playbook: {
        id: playbook.id,
        channels: playbook.channels,
        actions: playbook.actions,
        escalationSeconds: playbook.escalationSeconds,
      },
    };
  });
}

export const handler = createIntakeHandler(
  once(() => ({
    incidents: awsIncidentService(),
    tags: new CloudWatchAlarmTags(new CloudWatchClient({})),
    clock: () => new Date(),
  })),
);
