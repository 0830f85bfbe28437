import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  type DeploymentEnvironment,
  extractStateMachineDefinition,
  resolveLambdaFunctions,
} from '../../../local/workflow/definition';

/**
 * One synthesized GovCloud stack holding a small state machine per behaviour under test, built with
 * the same CDK constructs AOR's workflows use. Synthesized once per test file: it is the slow part.
 */

export const GOV_WEST: DeploymentEnvironment = {
  partition: 'aws-us-gov',
  region: 'us-gov-west-1',
  account: '111122223333',
};

const FUNCTION_NAMES = [
  'Classify',
  'Record',
  'Restore',
  'Switch',
  'RestoreDb',
  'RestoreLedger',
  'RestoreApp',
] as const;
type FunctionName = (typeof FUNCTION_NAMES)[number];

const MACHINE_NAMES = [
  'Sequential',
  'RetryCatch',
  'ChoiceWait',
  'ParallelRestore',
  'MapApps',
  'Deadline',
] as const;
type MachineName = (typeof MACHINE_NAMES)[number];

const invoke = (
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  props: Partial<tasks.LambdaInvokeProps> = {},
) => new tasks.LambdaInvoke(scope, id, { lambdaFunction: fn, outputPath: '$.Payload', ...props });

function buildMachines(
  stack: Stack,
  fn: Record<FunctionName, lambda.IFunction>,
): Record<MachineName, sfn.IChainable> {
  const topic = new sns.Topic(stack, 'Alerts');
  const table = new dynamodb.Table(stack, 'Incidents', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const scope = (id: MachineName) => new Construct(stack, `${id}States`);

  const sequential = scope('Sequential');
  const sequentialDefinition = invoke(sequential, 'Classify', fn.Classify)
    .next(invoke(sequential, 'Record', fn.Record, { outputPath: undefined, resultPath: '$.record' }))
    .next(invoke(sequential, 'Reclassify', fn.Classify, { outputPath: undefined, payloadResponseOnly: true }))
    .next(
      new tasks.SnsPublish(sequential, 'Notify', {
        topic,
        message: sfn.TaskInput.fromJsonPathAt('$.playbook'),
        resultPath: sfn.JsonPath.DISCARD,
      }),
    )
    .next(
      new tasks.DynamoPutItem(sequential, 'Put', {
        table,
        item: { pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.playbook')) },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    )
    .next(
      invoke(sequential, 'Await acknowledgement', fn.Record, {
        outputPath: undefined,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: sfn.TaskInput.fromObject({
          token: sfn.JsonPath.taskToken,
          playbook: sfn.JsonPath.stringAt('$.playbook'),
        }),
        resultPath: '$.acknowledgement',
      }),
    )
    .next(new sfn.Succeed(sequential, 'Done'));

  const retryCatch = scope('RetryCatch');
  const restore = invoke(retryCatch, 'Restore', fn.Restore)
    .addRetry({
      errors: ['RdsRestoreTimeoutError'],
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
    })
    .addCatch(new sfn.Pass(retryCatch, 'Fallback'), {
      errors: ['KubernetesNotFoundError'],
      resultPath: '$.error',
    });
  const retryCatchDefinition = restore.next(new sfn.Succeed(retryCatch, 'Restored'));

  const choiceWait = scope('ChoiceWait');
  const choiceWaitDefinition = new sfn.Choice(choiceWait, 'Is dry run?')
    .when(sfn.Condition.booleanEquals('$.dryRun', true), new sfn.Pass(choiceWait, 'Report only'))
    .otherwise(
      new sfn.Wait(choiceWait, 'Wait for quiet period', {
        time: sfn.WaitTime.duration(Duration.hours(1)),
      }).next(invoke(choiceWait, 'Switch traffic', fn.Switch)),
    );

  const parallel = scope('ParallelRestore');
  const parallelDefinition = new sfn.Parallel(parallel, 'Restore data', { resultPath: '$.restored' })
    .branch(invoke(parallel, 'Restore database', fn.RestoreDb))
    .branch(
      invoke(parallel, 'Restore ledger', fn.RestoreLedger, {
        payload: sfn.TaskInput.fromObject({ site: sfn.JsonPath.stringAt('$$.Execution.Input.drSite') }),
      }),
    )
    .next(
      invoke(parallel, 'Switch DNS', fn.Switch, {
        outputPath: undefined,
        resultSelector: { 'switched.$': '$.Payload' },
      }),
    );

  const map = scope('MapApps');
  const mapDefinition = new sfn.Map(map, 'Restore each app', {
    itemsPath: '$.apps',
    maxConcurrency: 2,
    itemSelector: { 'app.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'site.$': '$.drSite' },
  }).itemProcessor(
    invoke(map, 'Restore app', fn.RestoreApp).next(
      new sfn.Wait(map, 'Wait for readiness', { time: sfn.WaitTime.duration(Duration.minutes(1)) }),
    ),
  );

  const deadline = scope('Deadline');
  const coolDown = new sfn.Wait(deadline, 'Cool down', { time: sfn.WaitTime.duration(Duration.hours(2)) });
  const deadlineDefinition = invoke(deadline, 'Long restore', fn.Restore, {
    taskTimeout: sfn.Timeout.duration(Duration.minutes(30)),
  })
    .addCatch(new sfn.Pass(deadline, 'Give up').next(coolDown), {
      errors: ['States.Timeout'],
      resultPath: '$.timeout',
    })
    .next(coolDown);

  return {
    Sequential: sequentialDefinition,
    RetryCatch: retryCatchDefinition,
    ChoiceWait: choiceWaitDefinition,
    ParallelRestore: parallelDefinition,
    MapApps: mapDefinition,
    Deadline: deadlineDefinition,
  };
}

export interface WorkflowFixture {
  readonly template: Record<string, unknown>;
  /** The logical id of each state machine. */
  readonly machineIds: Record<MachineName, string>;
  /** The ARN the resolved definitions use for each function. */
  readonly functionArns: Record<FunctionName, string>;
  definition(machine: MachineName): ReturnType<typeof extractStateMachineDefinition>;
}

export function synthWorkflowFixture(): WorkflowFixture {
  const stack = new Stack(new App(), 'LocalWorkflow', {
    env: { account: GOV_WEST.account, region: GOV_WEST.region },
  });
  const functions = Object.fromEntries(
    FUNCTION_NAMES.map((name) => [
      name,
      new lambda.Function(stack, name, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler=async()=>{}'),
      }),
    ]),
  ) as Record<FunctionName, lambda.Function>;
  const chains = buildMachines(stack, functions);
  const machineIds = Object.fromEntries(
    MACHINE_NAMES.map((name) => {
      const machine = new sfn.StateMachine(stack, name, {
        definitionBody: sfn.DefinitionBody.fromChainable(chains[name]),
        ...(name === 'Deadline' ? { timeout: Duration.hours(1) } : {}),
      });
      return [name, stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine)];
    }),
  ) as Record<MachineName, string>;
  const template = Template.fromStack(stack).toJSON();
  const byLogicalId = new Map(
    [...resolveLambdaFunctions(template, GOV_WEST).values()].map((identity) => [
      identity.logicalId,
      identity.arn,
    ]),
  );
  const functionArns = Object.fromEntries(
    FUNCTION_NAMES.map((name) => [
      name,
      byLogicalId.get(stack.getLogicalId(functions[name].node.defaultChild as lambda.CfnFunction)),
    ]),
  ) as Record<FunctionName, string>;
  return {
    template,
    machineIds,
    functionArns,
    definition: (machine) =>
      extractStateMachineDefinition(template, { ...GOV_WEST, logicalId: machineIds[machine] }),
  };
}
