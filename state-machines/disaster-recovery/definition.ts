import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** Errors a retry can cure: throttling, a busy API, a lost connection. */
const TRANSIENT_ERRORS = [
  'RdsThrottledError',
  'Route53ThrottledError',
  'KubernetesUnavailableError',
  'KubernetesTimeoutError',
  'KubernetesConflictError',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
];

/** Errors that refuse the run before it changed anything: no compensation is due. */
const REFUSALS = ['InvalidRecoveryRequestError', 'RecoveryAlreadyRunningError', 'InvalidTaskInputError'];

interface Builder {
  readonly scope: Construct;
  readonly fn: lambda.IFunction;
  /** Where every failed step goes: record which step, then compensate. */
  readonly compensation: sfn.IChainable;
  /** One "Failed: <step>" state per step, shared by the tasks of that step. */
  readonly failureMarks: Map<string, sfn.Pass>;
}

function step(
  b: Builder,
  stateName: string,
  operation: string,
  payload: Record<string, unknown>,
  resultPath: string,
  failedStep?: string,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(b.scope, stateName, {
    lambdaFunction: b.fn,
    payload: sfn.TaskInput.fromObject({ operation, ...payload }),
    payloadResponseOnly: true,
    resultPath,
  });
  task.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 4 });
  if (failedStep) catchInto(b, task, failedStep);
  return task;
}

function catchInto(b: Builder, state: sfn.TaskStateBase | sfn.Parallel, failedStep: string): void {
  let marked = b.failureMarks.get(failedStep);
  if (!marked) {
    marked = new sfn.Pass(b.scope, `Failed: ${failedStep}`, {
      result: sfn.Result.fromString(failedStep),
      resultPath: '$.failedStep',
    });
    marked.next(b.compensation);
    b.failureMarks.set(failedStep, marked);
  }
  state.addCatch(marked, { resultPath: '$.failure' });
}

/**
 * A poll loop that never spins: wait the seconds the last check asked for (doubling to four
 * minutes for a database restore), check again, until the check says done.
 */
function pollUntil(
  b: Builder,
  name: string,
  check: tasks.LambdaInvoke,
  resultPath: string,
  done: sfn.Condition,
  then: sfn.IChainable,
): sfn.IChainable {
  const wait = new sfn.Wait(b.scope, `Wait for ${name}`, {
    time: sfn.WaitTime.secondsPath(`${resultPath}.nextPollSeconds`),
  });
  return wait
    .next(check)
    .next(new sfn.Choice(b.scope, `${capitalise(name)} ready?`).when(done, then).otherwise(wait));
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The disaster recovery workflow (see README.md beside this file): validate the DR site, restore
 * the database and the blockchain data in parallel, restore the applications, validate, switch
 * routing (never in a dry run), measure. A failed step compensates and fails the run.
 */
export function buildDisasterRecoveryDefinition(scope: Construct, fn: lambda.IFunction): sfn.IChainable {
  const compensate = new tasks.LambdaInvoke(scope, 'Compensate', {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({
      operation: 'compensate',
      'run.$': '$.run',
      'failedStep.$': '$.failedStep',
      'error.$': '$.failure',
    }),
    payloadResponseOnly: true,
    resultPath: '$.compensation',
  });
  compensate.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 6,
  });
  const b: Builder = {
    scope,
    fn,
    compensation: compensate.next(
      new sfn.Fail(scope, 'Recovery failed', { errorPath: '$.failure.Error', causePath: '$.failure.Cause' }),
    ),
    failureMarks: new Map(),
  };

  const begin = step(
    b,
    'Begin recovery',
    'begin',
    { 'request.$': '$', 'execution.$': '$$.Execution.Id' },
    '$.run',
  );
  begin.addCatch(
    new sfn.Fail(scope, 'Refuse run', { errorPath: '$.refusal.Error', causePath: '$.refusal.Cause' }),
    {
      errors: REFUSALS,
      resultPath: '$.refusal',
    },
  );

  const validateSite = step(
    b,
    'Validate DR site',
    'validate-site',
    { 'run.$': '$.run' },
    '$.site',
    'validate-site',
  );

  const database = step(
    b,
    'Start database restore',
    'start-database-restore',
    { 'run.$': '$.run', 'site.$': '$.site' },
    '$.db',
  );
  const checkDatabase = step(
    b,
    'Check database restore',
    'check-database-restore',
    {
      'run.$': '$.run',
      'restoreStartedAt.$': '$.db.restoreStartedAt',
      'lastPollSeconds.$': '$.db.nextPollSeconds',
    },
    '$.db',
  );
  const blockchain = step(
    b,
    'Start blockchain data restore',
    'start-blockchain-restore',
    { 'run.$': '$.run', 'site.$': '$.site' },
    '$.chain',
  );
  const checkBlockchain = step(
    b,
    'Check blockchain data restore',
    'check-blockchain-restore',
    {
      'run.$': '$.run',
      'restoreStartedAt.$': '$.chain.restoreStartedAt',
      'lastPollSeconds.$': '$.chain.nextPollSeconds',
    },
    '$.chain',
  );
  const restoreData = new sfn.Parallel(scope, 'Restore data', {
    resultSelector: { 'database.$': '$[0].restoreStartedAt', 'blockchain.$': '$[1].restoreStartedAt' },
    resultPath: '$.restores',
  });
  restoreData.branch(
    database.next(
      pollUntil(
        b,
        'database',
        checkDatabase,
        '$.db',
        sfn.Condition.booleanEquals('$.db.available', true),
        new sfn.Pass(scope, 'Database restored', { outputPath: '$.db' }),
      ),
    ),
    blockchain.next(
      pollUntil(
        b,
        'blockchain data',
        checkBlockchain,
        '$.chain',
        sfn.Condition.booleanEquals('$.chain.complete', true),
        new sfn.Pass(scope, 'Blockchain data restored', { outputPath: '$.chain' }),
      ),
    ),
  );
  catchInto(b, restoreData, 'restore-data');

  const applyApplications = step(
    b,
    'Apply application manifests',
    'apply-applications',
    { 'run.$': '$.run' },
    '$.apps',
    'restore-applications',
  );
  const checkApplications = step(
    b,
    'Check applications',
    'check-applications',
    { 'run.$': '$.run', 'appliedAt.$': '$.apps.appliedAt', 'lastPollSeconds.$': '$.apps.nextPollSeconds' },
    '$.apps',
    'restore-applications',
  );
  const validateRecovery = step(
    b,
    'Validate recovery',
    'validate-recovery',
    { 'run.$': '$.run', 'site.$': '$.site' },
    '$.validation',
    'validate-recovery',
  );
  const switchRouting = step(
    b,
    'Switch routing',
    'switch-routing',
    { 'run.$': '$.run' },
    '$.routing',
    'switch-routing',
  );
  const checkRouting = step(
    b,
    'Check routing change',
    'check-routing',
    { 'run.$': '$.run', 'switchedAt.$': '$.routing.switchedAt', 'changeId.$': '$.routing.changeId' },
    '$.routing',
    'switch-routing',
  );
  const finish = step(
    b,
    'Finish recovery',
    'finish',
    { 'run.$': '$.run', 'site.$': '$.site', 'restores.$': '$.restores' },
    '$.result',
    'finish',
  ).next(new sfn.Succeed(scope, 'Recovered'));

  switchRouting.next(
    pollUntil(
      b,
      'routing change',
      checkRouting,
      '$.routing',
      sfn.Condition.booleanEquals('$.routing.inSync', true),
      finish,
    ),
  );
  // The optional gate: the task token goes to the run's record and the ops channel; an operator's
  // `aor dr approve|reject` completes it. A rejection (or no answer in time) compensates.
  const approval = new tasks.LambdaInvoke(scope, 'Wait for routing approval', {
    lambdaFunction: fn,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      operation: 'request-approval',
      'run.$': '$.run',
      taskToken: sfn.JsonPath.taskToken,
    }),
    resultPath: '$.approval',
    taskTimeout: sfn.Timeout.duration(Duration.hours(4)),
  });
  catchInto(b, approval, 'switch-routing');
  const routing = new sfn.Choice(scope, 'Switch routing?')
    .when(
      sfn.Condition.booleanEquals('$.run.plan.switchesRouting', true),
      new sfn.Choice(scope, 'Approval required?')
        .when(sfn.Condition.booleanEquals('$.run.plan.requiresApproval', true), approval.next(switchRouting))
        .otherwise(switchRouting),
    )
    .otherwise(finish);
  const validation = validateRecovery.next(routing);
  const applications = new sfn.Choice(scope, 'Restore applications?')
    .when(
      sfn.Condition.booleanEquals('$.run.plan.restoresApplications', true),
      applyApplications.next(
        pollUntil(
          b,
          'applications',
          checkApplications,
          '$.apps',
          sfn.Condition.booleanEquals('$.apps.ready', true),
          validation,
        ),
      ),
    )
    .otherwise(validation);
  const data = new sfn.Choice(scope, 'Restore data?')
    .when(sfn.Condition.booleanEquals('$.run.plan.restoresData', true), restoreData.next(applications))
    .otherwise(
      new sfn.Pass(scope, 'No data to restore', {
        result: sfn.Result.fromObject({}),
        resultPath: '$.restores',
      }).next(applications),
    );

  return begin.next(validateSite).next(data);
}
