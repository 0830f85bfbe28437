import * as z from 'zod';
import { awsIncidentService } from '../../adapters/aws/aws-incidents';
import { INCIDENT_STATUSES } from '../../core/incident/incident';
import type { IncidentService } from '../../core/incident/incident-service';
import { once, taskHandler } from '../../shared/task-handler';
import { workflowActor, workflowTaskSchema } from '../../shared/workflow-task';

export interface StatusDependencies {
  readonly incidents: IncidentService;
}

const statusInput = z.strictObject({
  incidentId: z.string().min(1),
  to: z.enum(INCIDENT_STATUSES),
  /** Change only from these statuses: the automation never reopens what a person resolved. */
  onlyFrom: z.array(z.enum(INCIDENT_STATUSES)).min(1),
  task: workflowTaskSchema,
});

/** Moves the incident along its lifecycle on the workflow's behalf. */
export function createStatusHandler(dependencies: () => Promise<StatusDependencies> | StatusDependencies) {
  return taskHandler(statusInput, dependencies, async ({ incidentId, to, onlyFrom, task }, { incidents }) => {
    const current = await incidents.requireIncident(incidentId);
    if (!onlyFrom.includes(current.status)) return { incidentId, status: current.status, changed: false };
    const changed = await incidents.changeStatus(incidentId, to, workflowActor(task));
    return { incidentId, status: changed.status, changed: true };
  });
}

export const handler = createStatusHandler(once(() => ({ incidents: awsIncidentService() })));
