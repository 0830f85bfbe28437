import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

export interface IncidentResponseFunctions {
  readonly intake: lambda.IFunction;
  readonly notify: lambda.IFunction;
  readonly action: lambda.IFunction;
  readonly status: lambda.IFunction;
}

/** Errors a retry can cure: throttling, a busy or unreachable API, a concurrent writer. */
const TRANSIENT_ERRORS = [
  'KubernetesUnavailableError',
  'KubernetesTimeoutError',
  'KubernetesConflictError',
  'RdsThrottledError',
  'CloudWatchThrottledError',
  'SnsThrottledError',
  'IncidentVersionConflictError',
  'DynamoDbBatchIncompleteError',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
];

/** Errors that mean the event is not one to act on: the run stops before writing anything. */
const REJECTED_INPUT_ERRORS = ['ForeignEventError', 'MalformedAlarmEventError', 'InvalidTaskInputError'];

function invoke(
  scope: Construct,
  stateName: string,
  fn: lambda.IFunction,
  payload: Record<string, unknown>,
  resultPath: string | typeof sfn.JsonPath.DISCARD,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, stateName, {
    lambdaFunction: fn,
    // Where the task is in its workflow: the actor and idempotency scope of what it records.
    payload: sfn.TaskInput.fromObject({
      ...payload,
      task: { 'execution.$': '$$.Execution.Id', state: stateName },
    }),
    // The function's return value is the result; the Task's Resource is the function itself.
    payloadResponseOnly: true,
    resultPath,
  });
  task.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
  return task;
}

/**
 * The incident response workflow (see README.md beside this file):
 * take in the alarm → (repeat or recovery: done) → notify the playbook's channels → start
 * mitigation → in parallel: run each automated action (a failed one is recorded and the rest
 * still run) then hand over to responders, and escalate tier by tier until someone acknowledges.
 */
export function buildIncidentResponseDefinition(
  scope: Construct,
  fns: IncidentResponseFunctions,
): sfn.IChainable {
  const intake = invoke(scope, 'Take in alarm', fns.intake, { 'event.$': '$' }, '$.intake');
  intake.addRetry({
    errors: ['IncidentOpeningInProgressError'],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: 6,
  });
  intake.addCatch(
    new sfn.Fail(scope, 'Reject event', { causePath: '$.rejection.Cause', errorPath: '$.rejection.Error' }),
    {
      errors: REJECTED_INPUT_ERRORS,
      resultPath: '$.rejection',
    },
  );

  const notifyChannels = invoke(
    scope,
    'Notify channels',
    fns.notify,
    {
      operation: 'notify-channels',
      'incidentId.$': '$.intake.incidentId',
      'channels.$': '$.intake.playbook.channels',
    },
    '$.notified',
  );
  notifyChannels.addRetry({
    errors: ['NotificationFailedError'],
    interval: Duration.seconds(5),
    maxAttempts: 2,
  });

  const startMitigation = invoke(
    scope,
    'Start mitigation',
    fns.status,
    { 'incidentId.$': '$.intake.incidentId', to: 'mitigating', onlyFrom: ['open', 'investigating'] },
    sfn.JsonPath.DISCARD,
  );
  // Responders must hear of the incident even when one channel could not be reached.
  notifyChannels.addCatch(startMitigation, { resultPath: '$.notifyError' });

  const response = new sfn.Parallel(scope, 'Respond', { resultPath: sfn.JsonPath.DISCARD });
  response.branch(remediation(scope, fns), escalation(scope, fns));

  return intake.next(
    new sfn.Choice(scope, 'New incident?')
      .when(
        sfn.Condition.stringEquals('$.intake.kind', 'recovery'),
        new sfn.Succeed(scope, 'Recovery recorded'),
      )
      .when(sfn.Condition.stringEquals('$.intake.kind', 'repeat'), new sfn.Succeed(scope, 'Repeat recorded'))
      .otherwise(
        notifyChannels.next(startMitigation).next(response).next(new sfn.Succeed(scope, 'Response complete')),
      ),
  );
}

/** The playbook's actions one after another, each isolated: a failure is recorded and the next runs. */
function remediation(scope: Construct, fns: IncidentResponseFunctions): sfn.IChainable {
  const runAction = invoke(
    scope,
    'Run action',
    fns.action,
    { 'incidentId.$': '$.incidentId', 'action.$': '$.action' },
    '$.result',
  );
  runAction.addCatch(new sfn.Pass(scope, 'Action failed'), { resultPath: '$.failure' });
  const actions = new sfn.Map(scope, 'Run automated actions', {
    itemsPath: '$.intake.playbook.actions',
    // In order: the playbooks list them so (restart, then check what the restart should have fixed).
    maxConcurrency: 1,
    itemSelector: { 'incidentId.$': '$.intake.incidentId', 'action.$': '$$.Map.Item.Value' },
    resultPath: sfn.JsonPath.DISCARD,
  });
  actions.itemProcessor(runAction);
  return actions.next(
    invoke(
      scope,
      'Hand over to responders',
      fns.status,
      { 'incidentId.$': '$.intake.incidentId', to: 'investigating', onlyFrom: ['mitigating'] },
      sfn.JsonPath.DISCARD,
    ),
  );
}

/** Waits the playbook's escalation time, then escalates one tier if nobody acknowledged; repeats. */
function escalation(scope: Construct, fns: IncidentResponseFunctions): sfn.IChainable {
  const wait = new sfn.Wait(scope, 'Wait for acknowledgement', {
    time: sfn.WaitTime.secondsPath('$.intake.playbook.escalationSeconds'),
  });
  const escalate = invoke(
    scope,
    'Escalate if unacknowledged',
    fns.notify,
    { operation: 'escalate-if-unacknowledged', 'incidentId.$': '$.intake.incidentId' },
    '$.escalation',
  );
  return wait
    .next(escalate)
    .next(
      new sfn.Choice(scope, 'Escalation settled?')
        .when(
          sfn.Condition.booleanEquals('$.escalation.done', true),
          new sfn.Succeed(scope, 'Escalation settled'),
        )
        .otherwise(wait),
    );
}
