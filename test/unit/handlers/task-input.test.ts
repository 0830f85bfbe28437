import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createActionHandler } from '../../../lambdas/handlers/incident/action';
import { createStatusHandler } from '../../../lambdas/handlers/incident/status';
import { createRecoveryStepHandler } from '../../../lambdas/handlers/recovery/step';
import { InvalidTaskInputError } from '../../../lambdas/shared/task-handler';

const context = {
  awsRequestId: 'req-1',
  functionName: 'test',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
const unused = () => {
  throw new Error('no dependency may be built for input that is refused');
};
const task = {
  execution: 'arn:aws-us-gov:states:us-gov-west-1:111122223333:execution:aor-incident-response:x',
  state: 'Run action',
};

describe('every task refuses bad input with InvalidTaskInputError, naming the field, before doing anything', () => {
  it.each([
    [
      'an unknown action',
      createActionHandler(unused),
      { incidentId: 'INC-1', action: 'reboot_everything', task },
      'action',
    ],
    [
      'a status outside the lifecycle',
      createStatusHandler(unused),
      { incidentId: 'INC-1', to: 'archived', onlyFrom: ['open'], task },
      'to',
    ],
    [
      'a recovery step with an unknown operation',
      createRecoveryStepHandler(unused),
      { operation: 'failover-everything' },
      'operation',
    ],
  ])('%s', async (_case, handler, input, field) => {
    const failure = await handler(input as never, context).then(
      () => expect.unreachable('the input must be refused'),
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(InvalidTaskInputError);
    expect(failure.message).toContain(field);
  });
});
