import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { awsIncidentService } from '../../adapters/aws/aws-incidents';
import { CloudWatchMetricsReader } from '../../adapters/aws/cloudwatch-metrics-reader';
import { requiredEnv } from '../../adapters/aws/environment';
import { RdsDatabaseOperations } from '../../adapters/aws/rds-database-operations';
import { S3EvidenceStore } from '../../adapters/aws/s3-evidence-store';
import { SnsNotifier } from '../../adapters/aws/sns-notifier';
import { KubernetesClusterOperations } from '../../adapters/kubernetes/cluster-operations';
import { EksConnectionFactory } from '../../adapters/kubernetes/eks-auth';
import { type ActionPorts, type ActionSettings, runAction } from '../../core/incident/actions';
import type { IncidentService } from '../../core/incident/incident-service';
import { ACTIONS } from '../../core/incident/playbooks';
import { logger, once, taskHandler } from '../../shared/task-handler';
import { stepKey, taskKey, workflowActor, workflowTaskSchema } from '../../shared/workflow-task';

export interface ActionDependencies {
  readonly incidents: IncidentService;
  readonly ports: ActionPorts;
  readonly settings: ActionSettings;
}

const actionInput = z.strictObject({
  incidentId: z.string().min(1),
  action: z.enum(ACTIONS),
  task: workflowTaskSchema,
});

/**
 * Runs one automated action of the playbook and records its result, success or failure, on the
 * incident's timeline and in the ledger. A failure is rethrown with its own name so the state
 * machine can retry what is worth retrying and catch the rest, and the other actions still run.
 */
export function createActionHandler(dependencies: () => Promise<ActionDependencies> | ActionDependencies) {
  return taskHandler(
    actionInput,
    dependencies,
    async ({ incidentId, action, task }, { incidents, ports, settings }, context) => {
      const actor = workflowActor(task);
      await incidents.settleOwedRecords(incidentId, actor);
      const succeededKey = stepKey(task, action, 'succeeded');
      const earlier = await incidents.recordedEvent(incidentId, succeededKey);
      if (earlier) {
        // An earlier attempt did the action and stored its record (settled above): never twice.
        const details = earlier.event.details ?? {};
        return {
          action,
          status: 'succeeded' as const,
          summary: earlier.event.message.slice(`${action}: `.length),
          durationMs: Number(details.durationMs ?? 0),
        };
      }
      const incident = await incidents.requireIncident(incidentId);
      const started = ports.clock().getTime();
      let outcome: Awaited<ReturnType<typeof runAction>>;
      try {
        outcome = await runAction(action, incident, settings, ports);
      } catch (error) {
        const { name, message } = error as Error;
        logger.warn('automated action failed', { incidentId, action, error: name, message });
        // Each failed attempt is a fact of its own: keyed by the invocation.
        await incidents.note(
          incidentId,
          actor,
          {
            type: 'action-failed',
            message: `${action} failed: ${name}: ${message}`,
            details: { action, error: name },
          },
          taskKey(task, context.awsRequestId, action, 'failed'),
          'failed',
        );
        throw error;
      }
      const durationMs = ports.clock().getTime() - started;
      // Outside the try: a throttled ledger is not a failed action, and its retry finds this record.
      await incidents.note(
        incidentId,
        actor,
        {
          type: 'action-succeeded',
          message: `${action}: ${outcome.summary}`,
          details: { action, durationMs, ...outcome.details },
        },
        succeededKey,
        'succeeded',
        outcome.evidence?.map((e) => ({ sha256: e.sha256, uri: e.uri, bytes: e.bytes })),
      );
      return { action, status: 'succeeded' as const, summary: outcome.summary, durationMs };
    },
  );
}

export const handler = createActionHandler(
  once(async () => {
    const region = requiredEnv('AWS_REGION');
    const eks = new EksConnectionFactory({
      region,
      useFipsEndpoint: process.env.AWS_USE_FIPS_ENDPOINT === 'true',
    });
    const cloudWatch = new CloudWatchClient({});
    return {
      incidents: awsIncidentService(),
      settings: JSON.parse(requiredEnv('ACTION_SETTINGS')) as ActionSettings,
      ports: {
        cluster: new KubernetesClusterOperations(await eks.connection(requiredEnv('EKS_CLUSTER_NAME'))),
        database: new RdsDatabaseOperations(new RDSClient({}), cloudWatch),
        metrics: new CloudWatchMetricsReader(cloudWatch),
        notifier: new SnsNotifier(new SNSClient({}), { 'security-team': requiredEnv('SECURITY_TOPIC_ARN') }),
        evidence: new S3EvidenceStore(new S3Client({}), requiredEnv('EVIDENCE_BUCKET')),
        clock: () => new Date(),
      },
    };
  }),
);
