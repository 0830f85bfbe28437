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
    await incidents.settleOwedRecords(incidentId, workflowActor(task));
    // A retry of its own change is that change again (and completes its record), not a refusal.
    const { incident, changed } = await incidents.changeStatusFrom(
      incidentId,
      to,
      onlyFrom,
      workflowActor(task),
    );
    return { incidentId, status: incident.status, changed };
  });
}

export const handler = createStatusHandler(once(() => ({ incidents: awsIncidentService() })));
