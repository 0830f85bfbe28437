import { beforeAll, describe, expect, it } from 'vitest';
import { findCommercialPartitionArns } from '../../../lib/partition-check';
import { InvalidStateMachineDefinitionError, UnsupportedAslFeatureError } from '../../../local/workflow/asl';
import { SimulatedClock } from '../../../local/workflow/clock';
import { runWorkflow, type WorkflowStep } from '../../../local/workflow/runner';
import { type TaskContext, UnboundTaskError } from '../../../local/workflow/task-bindings';
import { synthWorkflowFixture, type WorkflowFixture } from './workflow-stack';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

class RdsRestoreTimeoutError extends Error {
  override name = 'RdsRestoreTimeoutError';
}

class KubernetesNotFoundError extends Error {
  override name = 'KubernetesNotFoundError';
}

let fixture: WorkflowFixture;

beforeAll(() => {
  fixture = synthWorkflowFixture();
});

const summary = (steps: readonly WorkflowStep[]) => steps.map((step) => `${step.state}:${step.status}`);
const stepOf = (steps: readonly WorkflowStep[], state: string) => {
  const step = steps.find((candidate) => candidate.state === state);
  if (!step) throw new Error(`no step ${state}`);
  return step;
};

/** A handler that declares it took `ms` of simulated time and echoes what it was given. */
const takes =
  (ms: number, result: (input: unknown) => unknown = (input) => input) =>
  async (input: unknown, { clock }: TaskContext) => {
    clock.advance(ms);
    return result(input);
  };

describe('synthesized definitions', () => {
  it('resolve to GovCloud ARNs, with each LambdaInvoke naming its function', () => {
    const definition = fixture.definition('Sequential');

    expect(findCommercialPartitionArns(definition)).toEqual([]);
    expect(definition.States.Classify).toMatchObject({
      Resource: 'arn:aws-us-gov:states:::lambda:invoke',
      Parameters: { FunctionName: fixture.functionArns.Classify },
    });
    expect(fixture.functionArns.Classify).toMatch(
      /^arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:Classify/,
    );
  });
});

describe('sequential tasks', () => {
  it('binds handlers by function ARN (shared by steps calling it), state name or resource ARN', async () => {
    const classified: unknown[] = [];
    const published: unknown[] = [];
    const callbacks: unknown[] = [];
    const run = await runWorkflow({
      definition: fixture.definition('Sequential'),
      input: { alarm: 'rds-cpu' },
      taskHandlers: {
        [fixture.functionArns.Classify]: async (event) => {
          classified.push(event);
          return { alarm: 'rds-cpu', playbook: 'database' };
        },
        [fixture.functionArns.Record]: async () => ({ incidentId: 'INC-1' }),
        'arn:aws-us-gov:states:::sns:publish': async (request) => {
          published.push(request);
          return { MessageId: 'm-1' };
        },
        Put: async () => ({}),
        // A callback task's handler returns what SendTaskSuccess would send back.
        'arn:aws-us-gov:states:::lambda:invoke.waitForTaskToken': async (request) => {
          callbacks.push(request);
          return { acknowledgedBy: 'on-call' };
        },
      },
      context: { Task: { Token: 'token-1' } },
    });

    expect(run.status).toBe('SUCCEEDED');
    expect(summary(run.steps)).toEqual([
      'Classify:SUCCEEDED',
      'Record:SUCCEEDED',
      'Reclassify:SUCCEEDED',
      'Notify:SUCCEEDED',
      'Put:SUCCEEDED',
      'Await acknowledgement:SUCCEEDED',
      'Done:SUCCEEDED',
    ]);
    expect(run.transitions).toBe(7);
    expect(callbacks).toEqual([
      { FunctionName: fixture.functionArns.Record, Payload: { token: 'token-1', playbook: 'database' } },
    ]);
    // lambda:invoke hands the function its Payload; payloadResponseOnly hands it the state input.
    expect(classified[0]).toEqual({ alarm: 'rds-cpu' });
    expect(classified[1]).toMatchObject({
      playbook: 'database',
      record: { Payload: { incidentId: 'INC-1' } },
    });
    // Without outputPath, LambdaInvoke's result is the Invoke API response, as on the service.
    expect(classified[1]).toMatchObject({ record: { StatusCode: 200, ExecutedVersion: '$LATEST' } });
    expect(published).toEqual([
      {
        TopicArn: expect.stringMatching(/^arn:aws-us-gov:sns:us-gov-west-1:111122223333:Alerts[0-9A-F]{8}$/),
        Message: 'database',
      },
    ]);
    expect(run.output).toEqual({
      alarm: 'rds-cpu',
      playbook: 'database',
      acknowledgement: { acknowledgedBy: 'on-call' },
    });
  });

  it('fails fast, before running anything, when a Task has no handler', async () => {
    let called = false;
    const running = runWorkflow({
      definition: fixture.definition('Sequential'),
      taskHandlers: {
        [fixture.functionArns.Classify]: async () => {
          called = true;
          return {};
        },
        [fixture.functionArns.Record]: async () => ({}),
        Put: async () => ({}),
      },
    });

    await expect(running).rejects.toThrow(UnboundTaskError);
    await expect(running).rejects.toMatchObject({ stateNames: ['Notify', 'Await acknowledgement'] });
    await expect(running).rejects.toThrow(
      /"Notify" \(bind one of: Notify, arn:aws-us-gov:states:::sns:publish\)/,
    );
    // A callback task is not its function: the Record handler does not stand in for it.
    await expect(running).rejects.toThrow(
      '"Await acknowledgement" (bind one of: Await acknowledgement, ' +
        'arn:aws-us-gov:states:::lambda:invoke.waitForTaskToken)',
    );
    expect(called).toBe(false);
  });

  it('aborts when the signal fires, leaving the running step ABORTED', async () => {
    const controller = new AbortController();
    const run = await runWorkflow({
      definition: fixture.definition('Sequential'),
      taskHandlers: {
        [fixture.functionArns.Classify]: async () => ({ playbook: 'p' }),
        [fixture.functionArns.Record]: () => {
          controller.abort();
          return new Promise(() => {});
        },
        Notify: async () => ({}),
        Put: async () => ({}),
        'Await acknowledgement': async () => ({}),
      },
      signal: controller.signal,
    });

    expect(run.status).toBe('ABORTED');
    expect(summary(run.steps)).toEqual(['Classify:SUCCEEDED', 'Record:ABORTED']);
  });
});

describe('Retry and Catch', () => {
  it('retries a handler error by its name, then succeeds; back-offs advance simulated time', async () => {
    const attempts: number[] = [];
    const clock = new SimulatedClock(0);
    const run = await runWorkflow({
      definition: fixture.definition('RetryCatch'),
      input: { snapshot: 's-1' },
      clock,
      taskHandlers: {
        [fixture.functionArns.Restore]: async (_, { attempt, clock: taskClock }) => {
          attempts.push(attempt);
          taskClock.advance(MINUTE);
          if (attempt < 3) throw new RdsRestoreTimeoutError('snapshot still restoring');
          return { restored: true };
        },
      },
    });

    expect(run.status).toBe('SUCCEEDED');
    expect(attempts).toEqual([1, 2, 3]);
    expect(summary(run.steps)).toEqual([
      'Restore:RETRIED',
      'Restore:RETRIED',
      'Restore:SUCCEEDED',
      'Restored:SUCCEEDED',
    ]);
    expect(run.steps[0]?.error?.error).toBe('RdsRestoreTimeoutError');
    expect(run.transitions).toBe(4);
    // Three 1-minute attempts plus back-offs of 2 s and 4 s (IntervalSeconds 2, BackoffRate 2).
    expect(run.durationMs).toBe(3 * MINUTE + 6_000);
    expect(clock.now()).toBe(3 * MINUTE + 6_000);
    expect(run.steps[2]?.startedAt).toBe(2 * MINUTE + 6_000);
  });

  it('fails the execution with the error name once the retries are spent', async () => {
    const run = await runWorkflow({
      definition: fixture.definition('RetryCatch'),
      clock: new SimulatedClock(),
      taskHandlers: {
        [fixture.functionArns.Restore]: async () => {
          throw new RdsRestoreTimeoutError('never restores');
        },
      },
    });

    expect(run.status).toBe('FAILED');
    expect(run.error?.error).toBe('RdsRestoreTimeoutError');
    expect(JSON.parse(run.error?.cause ?? '{}')).toMatchObject({
      errorType: 'RdsRestoreTimeoutError',
      errorMessage: 'never restores',
    });
    expect(summary(run.steps)).toEqual([
      'Restore:RETRIED',
      'Restore:RETRIED',
      'Restore:RETRIED',
      'Restore:FAILED',
    ]);
  });

  it('catches a named error into the fallback state with a Lambda-shaped cause', async () => {
    const run = await runWorkflow({
      definition: fixture.definition('RetryCatch'),
      input: { snapshot: 's-1' },
      taskHandlers: {
        [fixture.functionArns.Restore]: async () => {
          throw new KubernetesNotFoundError('deployment api not found');
        },
      },
    });

    expect(run.status).toBe('SUCCEEDED');
    expect(summary(run.steps)).toEqual(['Restore:CAUGHT', 'Fallback:SUCCEEDED']);
    expect(run.output).toMatchObject({ snapshot: 's-1', error: { Error: 'KubernetesNotFoundError' } });
    const cause = JSON.parse((run.output as { error: { Cause: string } }).error.Cause);
    expect(cause).toMatchObject({
      errorType: 'KubernetesNotFoundError',
      errorMessage: 'deployment api not found',
    });
    expect(run.transitions).toBe(2);
  });
});

describe('Choice and Wait', () => {
  const switchTraffic = (fixtureArns: WorkflowFixture['functionArns']) => ({
    [fixtureArns.Switch]: async () => ({ switched: true }),
  });

  it('takes the branch the input selects', async () => {
    const run = await runWorkflow({
      definition: fixture.definition('ChoiceWait'),
      input: { dryRun: true },
      taskHandlers: switchTraffic(fixture.functionArns),
    });

    expect(summary(run.steps)).toEqual(['Is dry run?:SUCCEEDED', 'Report only:SUCCEEDED']);
    expect(run.output).toEqual({ dryRun: true });
    expect(run.transitions).toBe(2);
  });

  it('shortens every Wait to the override on wall time', async () => {
    const started = Date.now();
    const run = await runWorkflow({
      definition: fixture.definition('ChoiceWait'),
      input: { dryRun: false },
      waitTimeOverride: 5,
      taskHandlers: switchTraffic(fixture.functionArns),
    });

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(run.output).toEqual({ switched: true });
    expect(summary(run.steps)).toEqual([
      'Is dry run?:SUCCEEDED',
      'Wait for quiet period:SUCCEEDED',
      'Switch traffic:SUCCEEDED',
    ]);
    expect(stepOf(run.steps, 'Wait for quiet period').type).toBe('Wait');
    expect(stepOf(run.steps, 'Wait for quiet period').durationMs).toBeGreaterThanOrEqual(4);
  });

  it('moves simulated time by the Wait duration without waiting', async () => {
    const started = Date.now();
    const run = await runWorkflow({
      definition: fixture.definition('ChoiceWait'),
      input: { dryRun: false },
      clock: new SimulatedClock(Date.UTC(2026, 10, 1)),
      taskHandlers: switchTraffic(fixture.functionArns),
    });

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stepOf(run.steps, 'Wait for quiet period').durationMs).toBe(HOUR);
    expect(stepOf(run.steps, 'Switch traffic').startedAt).toBe(Date.UTC(2026, 10, 1) + HOUR);
    expect(run.durationMs).toBe(HOUR);
  });
});

describe('Parallel', () => {
  it('ends on simulated time with its slowest branch: the critical path, not the sum', async () => {
    const ledgerEvents: unknown[] = [];
    const switchEvents: unknown[] = [];
    const run = await runWorkflow({
      definition: fixture.definition('ParallelRestore'),
      input: { drSite: 'us-gov-east-1' },
      clock: new SimulatedClock(0),
      taskHandlers: {
        [fixture.functionArns.RestoreDb]: takes(45 * MINUTE, () => 'db'),
        [fixture.functionArns.RestoreLedger]: takes(20 * MINUTE, (event) => {
          ledgerEvents.push(event);
          return 'ledger';
        }),
        [fixture.functionArns.Switch]: takes(MINUTE, (event) => {
          switchEvents.push(event);
          return 'switched';
        }),
      },
    });

    expect(run.status).toBe('SUCCEEDED');
    expect(stepOf(run.steps, 'Restore data').durationMs).toBe(45 * MINUTE);
    expect(stepOf(run.steps, 'Restore data').type).toBe('Parallel');
    expect(stepOf(run.steps, 'Restore ledger')).toMatchObject({
      startedAt: 0,
      durationMs: 20 * MINUTE,
      scope: ['Restore data: branch 1'],
    });
    expect(stepOf(run.steps, 'Switch DNS').startedAt).toBe(45 * MINUTE);
    expect(run.durationMs).toBe(46 * MINUTE);
    // `$$.Execution.Input` inside a branch is the execution's input, as on the service.
    expect(ledgerEvents).toEqual([{ site: 'us-gov-east-1' }]);
    expect(switchEvents).toEqual([{ drSite: 'us-gov-east-1', restored: ['db', 'ledger'] }]);
    expect(run.output).toEqual({ switched: 'switched' });
    // The Parallel state, one state in each branch, then Switch DNS.
    expect(run.transitions).toBe(4);
  });

  it('fails with the failing branch’s error and aborts the other branch', async () => {
    const run = await runWorkflow({
      definition: fixture.definition('ParallelRestore'),
      input: { drSite: 'us-gov-east-1' },
      taskHandlers: {
        [fixture.functionArns.RestoreDb]: () => new Promise(() => {}),
        [fixture.functionArns.RestoreLedger]: async () => {
          throw new KubernetesNotFoundError('no ledger pod');
        },
        [fixture.functionArns.Switch]: async () => 'switched',
      },
    });

    expect(run.status).toBe('FAILED');
    expect(run.error?.error).toBe('KubernetesNotFoundError');
    expect(stepOf(run.steps, 'Restore database').status).toBe('ABORTED');
    expect(stepOf(run.steps, 'Restore data').status).toBe('FAILED');
  });
});

describe('Map', () => {
  it('runs each item with its selector, at most MaxConcurrency at a time on simulated time', async () => {
    const events: unknown[] = [];
    const run = await runWorkflow({
      definition: fixture.definition('MapApps'),
      input: { drSite: 'us-gov-east-1', apps: ['radar', 'c2', 'ledger-api'] },
      clock: new SimulatedClock(0),
      taskHandlers: {
        [fixture.functionArns.RestoreApp]: takes(10 * MINUTE, (event) => {
          events.push(event);
          return { ready: (event as { app: string }).app };
        }),
      },
    });

    expect(run.status).toBe('SUCCEEDED');
    expect(events).toEqual([
      { app: 'radar', index: 0, site: 'us-gov-east-1' },
      { app: 'c2', index: 1, site: 'us-gov-east-1' },
      { app: 'ledger-api', index: 2, site: 'us-gov-east-1' },
    ]);
    expect(run.output).toEqual([{ ready: 'radar' }, { ready: 'c2' }, { ready: 'ledger-api' }]);
    // Each item takes 11 minutes (10 restoring, 1 waiting); with 2 slots the third starts at 11.
    expect(stepOf(run.steps, 'Restore each app')).toMatchObject({ type: 'Map', durationMs: 22 * MINUTE });
    const third = run.steps.filter((step) => step.scope[0] === 'Restore each app: item 2');
    expect(third.map((step) => step.startedAt)).toEqual([11 * MINUTE, 21 * MINUTE]);
    // The Map state, then two states per item.
    expect(run.transitions).toBe(1 + 3 * 2);
  });
});

describe('simulated timeouts', () => {
  it('times a Task out on simulated time (catchable), then the execution at its TimeoutSeconds', async () => {
    const run = await runWorkflow({
      definition: fixture.definition('Deadline'),
      input: {},
      clock: new SimulatedClock(0),
      taskHandlers: { [fixture.functionArns.Restore]: takes(40 * MINUTE) },
    });

    expect(summary(run.steps)).toEqual(['Long restore:CAUGHT', 'Give up:SUCCEEDED', 'Cool down:ABORTED']);
    expect(stepOf(run.steps, 'Long restore')).toMatchObject({
      durationMs: 30 * MINUTE,
      error: { error: 'States.Timeout' },
    });
    expect(run.status).toBe('TIMED_OUT');
    expect(run.error?.error).toBe('States.Timeout');
    expect(run.durationMs).toBe(HOUR);
  });
});

describe('definitions aws-local-stepfunctions would get wrong', () => {
  it('refuses JSONata rather than silently ignoring it', async () => {
    const definition = {
      StartAt: 'Remember',
      States: { Remember: { Type: 'Pass', Assign: { incidentId: 'INC-1' }, End: true } },
    };

    await expect(runWorkflow({ definition, taskHandlers: {} })).rejects.toThrow(UnsupportedAslFeatureError);
  });

  it('reports an invalid definition as such', async () => {
    const definition = { StartAt: 'Missing', States: { Present: { Type: 'Succeed' } } };

    await expect(runWorkflow({ definition, taskHandlers: {} })).rejects.toThrow(
      InvalidStateMachineDefinitionError,
    );
  });

  it('replaces the input on ResultPath "$" and outputs a falsy Pass Result', async () => {
    const definition = {
      StartAt: 'Replace',
      States: {
        Replace: { Type: 'Pass', Result: { replaced: true }, ResultPath: '$', Next: 'Zero' },
        Zero: { Type: 'Pass', Result: 0, ResultPath: '$.count', End: true },
      },
    };

    const run = await runWorkflow({ definition, input: { original: true }, taskHandlers: {} });

    expect(run.output).toEqual({ replaced: true, count: 0 });
  });
});

describe('SimulatedClock', () => {
  it('refuses to go backwards', () => {
    expect(() => new SimulatedClock().advance(-1)).toThrow(RangeError);
  });
});
