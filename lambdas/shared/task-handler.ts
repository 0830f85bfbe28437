import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';

export const logger = new Logger();
// Through the logger, the "no metrics this invocation" notice is a structured WARN line that
// follows the log level, not a bare console line on every invocation of a task without metrics.
export const metrics = new Metrics({ logger });
export const tracer = new Tracer();

/** The event did not match the task's input contract; nothing was done. */
export class InvalidTaskInputError extends Error {
  override name = 'InvalidTaskInputError';
}

export function parseTaskInput<Schema extends z.ZodType>(schema: Schema, event: unknown): z.infer<Schema> {
  const result = schema.safeParse(event);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
    );
    throw new InvalidTaskInputError(`invalid task input: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * Every AOR Lambda task: input validated against its schema before anything runs, structured
 * logs with the Lambda context, metrics flushed at the end, an X-Ray segment. `dependencies`
 * builds the task's adapters on first use (from the environment in Lambda, local ones in drills
 * and tests), so importing a handler never needs AWS configuration.
 */
export function taskHandler<Schema extends z.ZodType, Dependencies, Output>(
  schema: Schema,
  dependencies: () => Dependencies | Promise<Dependencies>,
  run: (input: z.infer<Schema>, dependencies: Dependencies, context: Context) => Promise<Output>,
) {
  let resolved: Promise<Dependencies> | undefined;
  return middy(async (event: unknown, context: Context): Promise<Output> => {
    const input = parseTaskInput(schema, event);
    resolved ??= Promise.resolve(dependencies());
    let ready: Dependencies;
    try {
      ready = await resolved;
    } catch (error) {
      // A failed start (a KMS or configuration error) is retried on the next invocation.
      resolved = undefined;
      throw error;
    }
    return run(input, ready, context);
  })
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

/** Memoises a dependency factory, so a warm Lambda reuses its clients. */
export function once<T>(factory: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: factory() };
    return value.v;
  };
}
