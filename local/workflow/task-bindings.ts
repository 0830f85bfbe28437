import { randomUUID } from 'node:crypto';
import { type AslState, isJsonObject, type JsonValue, stringField } from './asl';
import type { WorkflowClock } from './clock';

/**
 * How a Task state's resource maps to a local handler, and how the handler's result and errors are
 * shaped so the state machine sees what the real service integration would give it.
 */

export interface TaskContext {
  /** The clock the handler declares simulated work on (`clock.advance(ms)`); a wall clock ignores it. */
  readonly clock: WorkflowClock;
  readonly stateName: string;
  /** 1 for the first try, 2 for the first retry, … */
  readonly attempt: number;
  readonly resource: string;
  /** The enclosing Parallel branches and Map items, outermost first; empty at the top level. */
  readonly scope: readonly string[];
  /** Aborted when the run is aborted or times out, or a sibling branch or item fails. */
  readonly signal: AbortSignal;
}

/**
 * A local stand-in for what a Task invokes. For a Lambda function it receives the function's event
 * and returns its result; for any other integration it receives the request (`Parameters`) and
 * returns the service response, or for `.waitForTaskToken` the output `SendTaskSuccess` would send.
 * A thrown error's `name` is the error name Retry and Catch match.
 */
export type TaskHandler = (input: JsonValue, context: TaskContext) => unknown;

export type TaskHandlers = Readonly<Record<string, TaskHandler>>;

/** A failure as Step Functions reports it: `name` is the error name, `message` the cause. */
export class TaskFailedError extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    // Set per instance: the name is whatever the failed task reported, and it is what Retry/Catch match.
    this.name = errorName;
  }

  /** Read by aws-local-stepfunctions: like the service, Retry and Catch never match `States.Runtime`. */
  get isRetryable(): boolean {
    return this.name !== 'States.Runtime';
  }

  get isCatchable(): boolean {
    return this.name !== 'States.Runtime';
  }
}

export interface UnboundTask {
  readonly stateName: string;
  /** The keys a handler could have been bound under. */
  readonly keys: readonly string[];
}

export class UnboundTaskError extends Error {
  override name = 'UnboundTaskError';
  readonly stateNames: readonly string[];

  constructor(readonly unbound: readonly UnboundTask[]) {
    const described = unbound.map(
      ({ stateName, keys }) => `"${stateName}" (bind one of: ${keys.join(', ')})`,
    );
    super(`no local handler for Task state ${described.join('; ')}`);
    this.stateNames = unbound.map(({ stateName }) => stateName);
  }
}

type Integration =
  /** `Resource` is the function ARN: the state's input is the event, the result is the output. */
  | { readonly kind: 'lambda-function'; readonly functionName: string }
  /** `arn:<partition>:states:::lambda:invoke`: the request carries the event as `Payload`. */
  | { readonly kind: 'lambda-invoke'; readonly functionName?: string }
  | { readonly kind: 'service' };

const LAMBDA_FUNCTION_ARN = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+/;
const LAMBDA_INVOKE_RESOURCE = /^arn:[^:]+:states:::lambda:invoke$/;

function integrationOf(state: AslState, resource: string): Integration {
  if (LAMBDA_FUNCTION_ARN.test(resource)) return { kind: 'lambda-function', functionName: resource };
  if (LAMBDA_INVOKE_RESOURCE.test(resource)) {
    const functionName = isJsonObject(state.Parameters)
      ? stringField(state.Parameters, 'FunctionName')
      : undefined;
    return functionName === undefined ? { kind: 'lambda-invoke' } : { kind: 'lambda-invoke', functionName };
  }
  return { kind: 'service' };
}

/** `arn:…:function:name:qualifier` without its version or alias, as handlers are bound to functions. */
function unqualified(functionName: string): string {
  const match = LAMBDA_FUNCTION_ARN.exec(functionName);
  return match ? match[0] : functionName;
}

/**
 * The keys a Task's handler may be bound under, most specific first: the state name (to stand in
 * for one particular step), then the Lambda function it invokes (so every step calling a function
 * shares one handler), then its resource ARN (e.g. every `sns:publish`).
 */
function bindingKeys(stateName: string, resource: string, integration: Integration): string[] {
  const functionName = integration.kind === 'service' ? undefined : integration.functionName;
  const functionKeys = functionName === undefined ? [] : [functionName, unqualified(functionName)];
  return [...new Set([stateName, ...functionKeys, resource])];
}

export interface BoundTask {
  readonly resource: string;
  invoke(input: JsonValue, context: TaskContext): Promise<JsonValue>;
}

/** The handler a Task state runs, or, when none is bound, what it could have been bound under. */
export function bindTask(
  stateName: string,
  state: AslState,
  handlers: TaskHandlers,
): BoundTask | UnboundTask {
  const resource = stringField(state, 'Resource') ?? '';
  const integration = integrationOf(state, resource);
  const keys = bindingKeys(stateName, resource, integration);
  const key = keys.find((candidate) => Object.hasOwn(handlers, candidate));
  const handler = key === undefined ? undefined : handlers[key];
  if (!handler) return { stateName, keys };
  return {
    resource,
    invoke: (input, context) => invokeAs(integration, handler, input, context),
  };
}

async function invokeAs(
  integration: Integration,
  handler: TaskHandler,
  input: JsonValue,
  context: TaskContext,
): Promise<JsonValue> {
  if (integration.kind === 'service') {
    try {
      return toJson(await handler(structuredClone(input), context));
    } catch (error) {
      throw serviceError(error);
    }
  }
  const event = integration.kind === 'lambda-invoke' && isJsonObject(input) ? (input.Payload ?? {}) : input;
  let result: JsonValue;
  try {
    result = toJson(await handler(structuredClone(event), context));
  } catch (error) {
    throw lambdaFunctionError(error);
  }
  if (integration.kind === 'lambda-function') return result;
  // The optimized integration returns the Invoke API response; CDK's LambdaInvoke reads `$.Payload`.
  return {
    ExecutedVersion: '$LATEST',
    Payload: result,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: randomUUID() },
    StatusCode: 200,
  };
}

/** Results cross a service boundary as JSON: dates become strings, `undefined` becomes null. */
function toJson(value: unknown): JsonValue {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

function errorParts(error: unknown): { name: string; message: string; trace: string[] } {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { name: 'Error', message: String(error), trace: [] };
}

/** The Lambda runtime reports a thrown error as its name plus a JSON cause, which Step Functions relays. */
function lambdaFunctionError(error: unknown): TaskFailedError {
  const { name, message, trace } = errorParts(error);
  return new TaskFailedError(name, JSON.stringify({ errorType: name, errorMessage: message, trace }));
}

function serviceError(error: unknown): TaskFailedError {
  const { name, message } = errorParts(error);
  return new TaskFailedError(name, message);
}
