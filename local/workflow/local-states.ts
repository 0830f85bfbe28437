import {
  type AslState,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  numberField,
  stringField,
} from './asl';
import { TaskFailedError } from './task-bindings';

/**
 * How the states of a definition are rewritten for the runner: Wait, Parallel and Map become Tasks
 * whose local handlers the runner provides, `$$.Execution` paths are pointed at the scope envelope,
 * and two aws-local-stepfunctions bugs are avoided.
 */

/** aws-local-stepfunctions times Tasks out after 60 s by default; the service after 99999999 s, which
 * setTimeout cannot hold. Its largest delay is used instead. */
export const LONGEST_TASK_SECONDS = 2_147_483;
export const LOCAL_RESOURCE = 'aor-local';
/** Replaces `States.TaskFailed` on Parallel and Map states run as Tasks: it matches only real Tasks. */
const MATCHES_NO_ERROR = 'aor-local: States.TaskFailed does not apply';

export const MAP_ITERATION_FIELDS = [
  'ItemsPath',
  'ItemSelector',
  'Parameters',
  'ItemProcessor',
  'Iterator',
  'MaxConcurrency',
  'MaxConcurrencyPath',
];

export function pick(state: JsonObject, fields: readonly string[]): JsonObject {
  return Object.fromEntries(
    fields.flatMap((field) => (state[field] === undefined ? [] : [[field, state[field]]])),
  );
}

function omit(state: JsonObject, fields: readonly string[]): JsonObject {
  return Object.fromEntries(Object.entries(state).filter(([field]) => !fields.includes(field)));
}

/** A Parallel or Map state as a Task the runner handles; the fields the library applies around it stay. */
export function asLocalTask(state: JsonObject, runnerFields: readonly string[]): JsonObject {
  const task: JsonObject = {
    ...omit(state, runnerFields),
    Type: 'Task',
    Resource: LOCAL_RESOURCE,
    TimeoutSeconds: LONGEST_TASK_SECONDS,
  };
  for (const field of ['Retry', 'Catch']) {
    const handlers = task[field];
    if (Array.isArray(handlers)) task[field] = handlers.map(withoutTaskWildcard);
  }
  return task;
}

function withoutTaskWildcard(handler: JsonValue): JsonValue {
  if (!isJsonObject(handler) || !Array.isArray(handler.ErrorEquals)) return handler;
  const errorEquals = handler.ErrorEquals.map((name) =>
    name === 'States.TaskFailed' ? MATCHES_NO_ERROR : name,
  );
  return { ...handler, ErrorEquals: errorEquals };
}

/** A Wait state as a Task the runner handles; a path-based duration is read into the handler's input. */
export function waitAsTask(state: JsonObject): JsonObject {
  const durationPath = ['SecondsPath', 'TimestampPath'].find((field) => typeof state[field] === 'string');
  return {
    ...pick(state, ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']),
    Type: 'Task',
    Resource: LOCAL_RESOURCE,
    TimeoutSeconds: LONGEST_TASK_SECONDS,
    ...(durationPath === undefined
      ? {}
      : { Parameters: { 'input.$': '$', [`${durationPath}.$`]: state[durationPath] ?? '$' } }),
  };
}

export function waitDuration(
  stateName: string,
  state: AslState,
  input: JsonValue,
  now: number,
): { output: JsonValue; durationMs: number } {
  const seconds = numberField(state, 'Seconds');
  if (seconds !== undefined) return { output: input, durationMs: seconds * 1000 };
  const timestamp = stringField(state, 'Timestamp');
  if (timestamp !== undefined) return { output: input, durationMs: untilMs(stateName, timestamp, now) };
  if (!isJsonObject(input))
    throw new TaskFailedError('States.Runtime', `Wait "${stateName}" has no duration`);
  const output = input.input ?? null;
  if (input.SecondsPath !== undefined) {
    const value = input.SecondsPath;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new TaskFailedError(
        'States.Runtime',
        `Wait "${stateName}": SecondsPath gave ${JSON.stringify(value)}`,
      );
    }
    return { output, durationMs: value * 1000 };
  }
  const value = input.TimestampPath;
  if (typeof value !== 'string') {
    throw new TaskFailedError(
      'States.Runtime',
      `Wait "${stateName}": TimestampPath gave ${JSON.stringify(value)}`,
    );
  }
  return { output, durationMs: untilMs(stateName, value, now) };
}

function untilMs(stateName: string, timestamp: string, now: number): number {
  const at = Date.parse(timestamp);
  if (Number.isNaN(at))
    throw new TaskFailedError('States.Runtime', `Wait "${stateName}": bad timestamp ${timestamp}`);
  return Math.max(0, at - now);
}

const EXECUTION_FIELD = /\$\$\.Execution\.(Input|StartTime)\b/g;
const ENVELOPE_FIELD: Record<string, string> = { Input: 'executionInput', StartTime: 'executionStartTime' };

/**
 * Points `$$.Execution.Input`/`StartTime` paths at the scope envelope (see `Envelope` in runner.ts).
 * Nested scopes are rewritten when they run, literals (`Result`) never.
 */
export function rebaseExecutionPaths(state: AslState): AslState {
  const rebase = (value: JsonValue, isPath: boolean): JsonValue => {
    if (typeof value === 'string') {
      return isPath
        ? value.replace(EXECUTION_FIELD, (_, field: string) => `$$.Execution.Input.${ENVELOPE_FIELD[field]}`)
        : value;
    }
    if (Array.isArray(value)) return value.map((item) => rebase(item, isPath));
    if (!isJsonObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        if (key === 'Result' || key === 'Branches' || key === 'ItemProcessor' || key === 'Iterator')
          return [key, item];
        return [key, rebase(item, key.endsWith('.$') || key.endsWith('Path') || key === 'Variable')];
      }),
    );
  };
  return rebase(state, false) as AslState;
}

/**
 * Works around two aws-local-stepfunctions 3.0.0 bugs: `ResultPath: "$"` adds a field named `$`
 * instead of replacing the input, and a Pass state's falsy `Result` (0, false, "", null) is ignored.
 */
export function withLibraryQuirksAvoided(state: AslState): AslState {
  const fixed: JsonObject = { ...state };
  if (fixed.ResultPath === '$') delete fixed.ResultPath;
  if (Array.isArray(fixed.Catch)) {
    fixed.Catch = fixed.Catch.map((catcher) =>
      isJsonObject(catcher) && catcher.ResultPath === '$' ? omit(catcher, ['ResultPath']) : catcher,
    );
  }
  if (state.Type === 'Pass' && 'Result' in fixed && !fixed.Result) {
    // Parameters that are a plain value become the state's effective input, which Pass then outputs.
    fixed.Parameters = fixed.Result ?? null;
    delete fixed.Result;
  }
  return fixed as AslState;
}
