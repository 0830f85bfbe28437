import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { DynamoDbIncidentRepository } from '../../lambdas/adapters/aws/dynamodb-incident-repository';
import type { ActionSettings } from '../../lambdas/core/incident/actions';
import { IncidentService } from '../../lambdas/core/incident/incident-service';
import { WORKFLOW_WRITERS } from '../../lambdas/core/ledger/ledger-contract';
import type { ClusterOperations } from '../../lambdas/core/operations/cluster';
import type {
  AlarmTagReader,
  DatabaseOperations,
  EvidenceStore,
  MetricsReader,
  Notifier,
} from '../../lambdas/core/operations/ports';
import { createActionHandler } from '../../lambdas/handlers/incident/action';
import { createIntakeHandler } from '../../lambdas/handlers/incident/intake';
import { createNotifyHandler } from '../../lambdas/handlers/incident/notify';
import { createStatusHandler } from '../../lambdas/handlers/incident/status';
import type { AorFunction } from '../../lib/constructs/aor-function';
import type { WorkflowClock } from '../workflow/clock';
import type { TaskContext, TaskHandler, TaskHandlers } from '../workflow/task-bindings';
import type { LocalState } from './local-state';
import type { SynthesizedWorkflow } from './synthesized-app';

/** The platform the tasks act on, seen through the ports, on the clock of the calling branch. */
export interface PlatformPorts {
  readonly cluster: ClusterOperations;
  readonly database: DatabaseOperations;
  readonly metrics: MetricsReader;
  readonly notifier: Notifier;
  readonly evidence: EvidenceStore;
  readonly tags: AlarmTagReader;
}

export interface IncidentTaskEnvironment {
  readonly workflow: SynthesizedWorkflow;
  readonly functions: Record<'intake' | 'notify' | 'action' | 'status', AorFunction>;
  readonly state: LocalState;
  readonly platform: (clock: WorkflowClock) => PlatformPorts;
  readonly settings: ActionSettings;
  readonly consoleUrl: string;
}

/** A Lambda context as the runtime passes it; every invocation gets its own request id. */
export function lambdaContext(functionName: string, clock: WorkflowClock, timeoutMs: number): Context {
  const deadline = clock.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionName,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/**
 * Binds every Task of the synthesized incident workflow to the real handler code, built per
 * invocation over local adapters: DynamoDB in process, the primary region's local ledger (as the
 * incident workflow's writer), and the simulated
 * platform on the clock of the branch that calls it (Parallel branches have clocks of their own).
 */
export function incidentTaskHandlers(env: IncidentTaskEnvironment): TaskHandlers {
  const services = (clock: WorkflowClock) =>
    new IncidentService(
      new DynamoDbIncidentRepository(env.state.dynamo.documentClient, env.state.incidentsTable),
      env.state.ledgers.primary.appender(WORKFLOW_WRITERS.incidentResponse),
      () => new Date(clock.now()),
    );
  const bind = (
    fn: AorFunction,
    create: (clock: WorkflowClock) => (event: unknown, context: Context) => Promise<unknown>,
  ): [string, TaskHandler] => [
    env.workflow.functionArn(fn),
    (input: unknown, task: TaskContext) =>
      create(task.clock)(
        input,
        lambdaContext(fn.node.path, task.clock, fn.function.timeout?.toMilliseconds() ?? 60_000),
      ),
  ];
  return Object.fromEntries([
    bind(env.functions.intake, (clock) =>
      createIntakeHandler(() => ({
        incidents: services(clock),
        tags: env.platform(clock).tags,
        clock: () => new Date(clock.now()),
      })),
    ),
    bind(env.functions.notify, (clock) =>
      createNotifyHandler(() => ({
        incidents: services(clock),
        notifier: env.platform(clock).notifier,
        executionUrl: (arn) =>
          `${env.consoleUrl}/states/home#/v2/executions/details/${encodeURIComponent(arn)}`,
      })),
    ),
    bind(env.functions.action, (clock) =>
      createActionHandler(() => {
        const ports = env.platform(clock);
        return {
          incidents: services(clock),
          settings: env.settings,
          ports: { ...ports, clock: () => new Date(clock.now()) },
        };
      }),
    ),
    bind(env.functions.status, (clock) => createStatusHandler(() => ({ incidents: services(clock) }))),
  ]);
}
