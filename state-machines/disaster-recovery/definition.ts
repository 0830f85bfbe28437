import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** Errors a retry can cure: throttling, a busy API, a lost connection. */
const TRANSIENT_ERRORS = [
  'RdsThrottledError',
  'Route53ThrottledError',
  'CloudWatchThrottledError',
  'DnsResolverUnavailableError',
  'AwsThrottledError',
  'KubernetesUnavailableError',
  'KubernetesTimeoutError',
  'KubernetesConflictError',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
];

/** Errors that refuse the run before it changed anything: no compensation is due. */
const REFUSALS = ['InvalidRecoveryRequestError', 'RecoveryAlreadyRunningError', 'InvalidTaskInputError'];
/** Errors that refuse an abandonment before it removed anything. */
const ABANDON_REFUSALS = ['RunNotAbandonableError', 'RecoveryAlreadyRunningError', 'InvalidTaskInputError'];

interface Builder {
  readonly scope: Construct;
  readonly fn: lambda.IFunction;
  /** Where every failed step goes: record which step, then compensate. */
  readonly compensation: sfn.IChainable;
  /** One "Failed: <step>" state per step, shared by the tasks of that step. */
  readonly failureMarks: Map<string, sfn.Pass>;
}

/**
 * RDS refuses a promotion while the replica backs up, and changes to a database still being created
 * or modified: minutes, not seconds. Every task that promotes, protects or deletes a database waits
 * them out, clean-ups included (a dry run that fails early removes a database RDS is still creating).
 */
function retryDatabaseStateConflicts(task: tasks.LambdaInvoke): void {
  task.addRetry({
    errors: ['DatabaseStateConflictError'],
    interval: Duration.minutes(1),
    backoffRate: 2,
    maxAttempts: 5,
  });
}

/**
 * Where a start (or an abandonment) that failed for good goes, after its refusals are caught: it has
 * no run to compensate, but it may hold the one-run lock, which it frees before it fails with its
 * own error (the next run would otherwise wait hours for the lock to expire).
 */
function releaseThenFail(scope: Construct, fn: lambda.IFunction, what: string): sfn.IChainable {
  const release = new tasks.LambdaInvoke(scope, `Release the lock of the failed ${what}`, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({
      operation: 'release-failed-start',
      'execution.$': '$$.Execution.Id',
    }),
    payloadResponseOnly: true,
    resultPath: sfn.JsonPath.DISCARD,
  });
  release.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 6,
  });
  return release.next(
    new sfn.Fail(scope, `${what[0]?.toUpperCase()}${what.slice(1)} failed`, {
      errorPath: '$.startFailure.Error',
      causePath: '$.startFailure.Cause',
    }),
  );
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
  retryDatabaseStateConflicts(compensate);
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
  begin.addCatch(releaseThenFail(scope, fn, 'start'), {
    errors: ['States.ALL'],
    resultPath: '$.startFailure',
  });

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
    'Start database recovery',
    'start-database',
    { 'run.$': '$.run', 'site.$': '$.site' },
    '$.db',
  );
  const checkDatabase = step(
    b,
    'Check database recovery',
    'check-database',
    { 'run.$': '$.run', 'progress.$': '$.db' },
    '$.db',
  );
  retryDatabaseStateConflicts(database);
  retryDatabaseStateConflicts(checkDatabase);
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
    { 'run.$': '$.run', 'progress.$': '$.chain' },
    '$.chain',
  );
  const restoreData = new sfn.Parallel(scope, 'Restore data', {
    resultSelector: { 'database.$': '$[0]', 'blockchain.$': '$[1]' },
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
        new sfn.Pass(scope, 'Database recovered', { outputPath: '$.db' }),
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
    { 'run.$': '$.run', 'switchedAt.$': '$.routing.switchedAt' },
    '$.routing',
    'switch-routing',
  );
  const finishTask = step(
    b,
    'Finish recovery',
    'finish',
    { 'run.$': '$.run', 'restores.$': '$.restores' },
    '$.result',
    'finish',
  );
  retryDatabaseStateConflicts(finishTask);
  const finish = finishTask.next(new sfn.Succeed(scope, 'Recovered'));

  switchRouting.next(
    pollUntil(
      b,
      'routing change',
      checkRouting,
      '$.routing',
      sfn.Condition.booleanEquals('$.routing.onDrSite', true),
      finish,
    ),
  );
  // The gate of a real run: the ops channel is asked, then the run looks every half minute for
  // decisions people wrote under their own user ids (no task token exists to leak or replay). A
  // rejection or no approval in time stops the run, which keeps what it restored.
  const requestApproval = step(
    b,
    'Request routing approval',
    'request-approval',
    { 'run.$': '$.run' },
    '$.approval',
    'approve-routing',
  );
  const checkApproval = step(
    b,
    'Check routing approval',
    'check-approval',
    { 'run.$': '$.run', 'requestedAt.$': '$.approval.requestedAt' },
    '$.approval.check',
    'approve-routing',
  );
  const waitForApproval = new sfn.Wait(scope, 'Wait for routing approval', {
    time: sfn.WaitTime.secondsPath('$.approval.nextPollSeconds'),
  });
  const approval = requestApproval.next(waitForApproval);
  waitForApproval
    .next(checkApproval)
    .next(
      new sfn.Choice(scope, 'Routing approved?')
        .when(sfn.Condition.booleanEquals('$.approval.check.approved', true), switchRouting)
        .otherwise(waitForApproval),
    );
  const routing = new sfn.Choice(scope, 'Switch routing?')
    .when(
      sfn.Condition.booleanEquals('$.run.plan.switchesRouting', true),
      new sfn.Choice(scope, 'Approval required?')
        .when(sfn.Condition.booleanEquals('$.run.plan.requiresApproval', true), approval)
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

  // `aor dr abandon <run>`: the same workflow, so that removal runs with the task's narrow
  // grants and takes the one-run lock, never a person's credentials.
  const abandon = new tasks.LambdaInvoke(scope, 'Abandon run', {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({
      operation: 'abandon',
      'runId.$': '$.abandon',
      'execution.$': '$$.Execution.Id',
    }),
    payloadResponseOnly: true,
    resultPath: '$.abandoned',
  });
  abandon.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 4,
  });
  retryDatabaseStateConflicts(abandon);
  abandon.addCatch(
    new sfn.Fail(scope, 'Refuse abandon', { errorPath: '$.refusal.Error', causePath: '$.refusal.Cause' }),
    { errors: ABANDON_REFUSALS, resultPath: '$.refusal' },
  );
  abandon.addCatch(releaseThenFail(scope, fn, 'abandonment'), {
    errors: ['States.ALL'],
    resultPath: '$.startFailure',
  });
  return new sfn.Choice(scope, 'Abandon a run?')
    .when(sfn.Condition.isPresent('$.abandon'), abandon.next(new sfn.Succeed(scope, 'Abandoned')))
    .otherwise(begin.next(validateSite).next(data));
}
