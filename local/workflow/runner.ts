import './promise-with-resolvers';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type StateMachineDefinition as LibraryDefinition,
  type RunOptions,
  StateMachine,
} from 'aws-local-stepfunctions';
import {
  type AslState,
  allStates,
  assertSupportedFeatures,
  InvalidStateMachineDefinitionError,
  type JsonObject,
  type JsonValue,
  nestedDefinitions,
  numberField,
  type StateMachineDefinition,
} from './asl';
import { SimulatedClock, wallClock } from './clock';
import {
  asLocalTask,
  LOCAL_RESOURCE,
  LONGEST_TASK_SECONDS,
  MAP_ITERATION_FIELDS,
  pick,
  rebaseExecutionPaths,
  waitAsTask,
  waitDuration,
  withLibraryQuirksAvoided,
} from './local-states';
import {
  type BoundTask,
  bindTask,
  TaskFailedError,
  type TaskHandlers,
  type UnboundTask,
  UnboundTaskError,
} from './task-bindings';

/**
 * Runs a real (synthesized) state machine definition on aws-local-stepfunctions with local task
 * handlers, and reports what happened step by step on a wall or simulated clock.
 *
 * How: each sequential thread of the workflow — the top level, every Parallel branch, every Map
 * item — runs as its own aws-local-stepfunctions execution (a "scope") whose event log records its
 * steps. Parallel and Map states are run by the runner itself (the library sees a Task in their
 * place, with the same InputPath/Parameters/ResultSelector/ResultPath/OutputPath/Retry/Catch), so
 * each branch or item gets its own simulated clock forked at the state's start, and the state ends at
 * the latest branch end: the critical path, not the sum. Wait states also become local handlers, so
 * on a simulated clock they move time by their duration without really waiting.
 */

export type WorkflowStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** RETRIED and CAUGHT are failed attempts that Retry re-ran or Catch handled. */
export type StepStatus = 'SUCCEEDED' | 'FAILED' | 'RETRIED' | 'CAUGHT' | 'ABORTED';

export interface WorkflowError {
  readonly error: string;
  readonly cause: string;
}

/** One attempt at one state. */
export interface WorkflowStep {
  readonly state: string;
  readonly type: string;
  /** The enclosing Parallel branches and Map items, e.g. `['Restore data: branch 1']`; top level: `[]`. */
  readonly scope: readonly string[];
  readonly status: StepStatus;
  readonly attempt: number;
  /** Epoch milliseconds on the run's clock. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly error?: WorkflowError;
}

export interface WorkflowRun {
  readonly status: WorkflowStatus;
  readonly output?: JsonValue;
  readonly error?: WorkflowError;
  /** Every attempt at every state, Parallel branches and Map items included, in the order they started. */
  readonly steps: readonly WorkflowStep[];
  /**
   * State transitions as Step Functions Standard bills them: one per state entered, counting each
   * retry attempt, the Parallel or Map state itself and every state run inside its branches or items.
   */
  readonly transitions: number;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface RunWorkflowOptions {
  readonly definition: StateMachineDefinition;
  readonly input?: JsonValue;
  /** Handlers keyed by state name, Lambda function ARN, or resource ARN (most specific wins). */
  readonly taskHandlers: TaskHandlers;
  /** Real milliseconds every Wait state pauses, whatever its duration. */
  readonly waitTimeOverride?: number;
  /** Real milliseconds before every retry, whatever the retrier's interval. */
  readonly retryIntervalOverride?: number;
  /**
   * Run on simulated time: handlers declare their duration on it, Waits and retry back-offs advance
   * it instead of pausing (unless the overrides above ask for real pauses), and Task `TimeoutSeconds`
   * and the definition's `TimeoutSeconds` apply to it. The clock ends at the run's end.
   */
  readonly clock?: SimulatedClock;
  /** Context object fields (`$$.…`), merged over local defaults for `Execution` and `Task.Token`. */
  readonly context?: JsonObject;
  readonly signal?: AbortSignal;
}

export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const { definition } = options;
  assertSupportedFeatures(definition);
  validate(definition);
  const run = new Run(options, bindTasks(definition, options.taskHandlers));
  return run.execute();
}

/** Definitions already validated, by their JSON: asl-validator compiles its schemas anew on every call. */
const validDefinitions = new Set<string>();

/** Validates as the library's constructor does (ASL schema, JSONPaths, ARNs, reachability). */
function validate(definition: StateMachineDefinition): void {
  const text = JSON.stringify(definition);
  if (validDefinitions.has(text)) return;
  try {
    // asl-validator writes a QueryLanguage into every state: it gets a copy.
    new StateMachine(JSON.parse(text));
  } catch (error) {
    throw new InvalidStateMachineDefinitionError(error instanceof Error ? error.message : String(error));
  }
  validDefinitions.add(text);
}

function bindTasks(definition: StateMachineDefinition, handlers: TaskHandlers): Map<AslState, BoundTask> {
  const bound = new Map<AslState, BoundTask>();
  const unbound: UnboundTask[] = [];
  for (const { name, state } of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const binding = bindTask(name, state, handlers);
    if ('invoke' in binding) bound.set(state, binding);
    else unbound.push(binding);
  }
  if (unbound.length > 0) throw new UnboundTaskError(unbound);
  return bound;
}

type Execution = ReturnType<StateMachine['run']>;
type ExecutionEvent = Execution['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;
type LocalHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];

/** The first state of every scope: unwraps the scope's input from the envelope described at `Envelope`. */
const SCOPE_ENTRY = 'aor-local: scope entry';
const MAP_ITEM = 'aor-local: map item';

/**
 * What every scope execution is started with. Each scope is a separate library execution, so its
 * `$$.Execution.Input` would be the branch's input; paths to `$$.Execution.Input` and
 * `$$.Execution.StartTime` are rewritten to read the workflow's from here instead.
 */
interface Envelope extends JsonObject {
  executionInput: JsonValue;
  executionStartTime: string;
  scopeInput: JsonValue;
}

interface StepRecord {
  readonly state: string;
  readonly type: string;
  readonly scope: readonly string[];
  status: StepStatus | 'RUNNING';
  readonly attempt: number;
  readonly startedAt: number;
  endedAt?: number;
  error?: WorkflowError;
}

interface ScopeOutcome {
  readonly status: WorkflowStatus;
  readonly output?: JsonValue;
  readonly error?: WorkflowError;
}

const EXECUTION_TIMED_OUT: WorkflowError = {
  error: 'States.Timeout',
  cause: 'the execution ran longer than its TimeoutSeconds',
};

class Run {
  readonly steps: StepRecord[] = [];
  readonly pending = new Set<Promise<ScopeOutcome>>();
  readonly context: JsonObject;
  readonly startedAt: number;
  readonly deadline?: number;
  private readonly root: Scope;
  private timedOut = false;

  constructor(
    readonly options: RunWorkflowOptions,
    readonly bindings: ReadonlyMap<AslState, BoundTask>,
  ) {
    this.startedAt = options.clock?.now() ?? Date.now();
    const executionName = randomUUID();
    this.context = {
      Execution: { Id: `local-execution:${executionName}`, Name: executionName },
      Task: { Token: `local-task-token:${randomUUID()}` },
      ...options.context,
    };
    const timeoutSeconds = numberField(options.definition, 'TimeoutSeconds');
    if (options.clock && timeoutSeconds !== undefined) this.deadline = this.startedAt + timeoutSeconds * 1000;
    this.root = new Scope(this, [], options.clock);
  }

  get simulated(): boolean {
    return this.options.clock !== undefined;
  }

  envelope(scopeInput: JsonValue): Envelope {
    return {
      executionInput: this.options.input ?? {},
      executionStartTime: new Date(this.startedAt).toISOString(),
      scopeInput,
    };
  }

  async execute(): Promise<WorkflowRun> {
    const { signal } = this.options;
    const abort = () => this.root.abort();
    signal?.addEventListener('abort', abort, { once: true });
    if (signal?.aborted) abort();
    let outcome: ScopeOutcome;
    try {
      outcome = await this.root.run(this.options.definition, this.options.input ?? {});
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    // Stops what the library abandoned (a Task it timed out keeps running) and lets every scope log its end.
    this.root.abort();
    await Promise.allSettled(this.pending);
    if (this.timedOut) outcome = { status: 'TIMED_OUT', error: EXECUTION_TIMED_OUT };
    const steps = this.steps.map(finishedStep);
    return {
      ...outcome,
      steps,
      transitions: steps.length,
      startedAt: this.startedAt,
      durationMs: this.root.now() - this.startedAt,
    };
  }

  timeOut(): void {
    if (this.timedOut) return;
    this.timedOut = true;
    this.root.abort();
  }
}

function finishedStep(record: StepRecord): WorkflowStep {
  const { endedAt = record.startedAt, status, error, ...step } = record;
  return {
    ...step,
    status: status === 'RUNNING' ? 'ABORTED' : status,
    durationMs: endedAt - record.startedAt,
    ...(error ? { error } : {}),
  };
}

/** Yields one macrotask; see `Scope.record` for why handlers start with it. */
const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One sequential thread of the workflow: the top level, a Parallel branch or a Map item. */
class Scope {
  private readonly controller = new AbortController();
  private readonly children = new Set<Scope>();
  private execution?: Execution;
  private current?: StepRecord;
  private lastEnded?: StepRecord;

  constructor(
    private readonly workflow: Run,
    readonly path: readonly string[],
    private readonly clock: SimulatedClock | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get simulated(): boolean {
    return this.clock !== undefined;
  }

  now(): number {
    return this.clock?.now() ?? Date.now();
  }

  /** Moves this scope's simulated time forward, up to the execution's deadline, which ends the run. */
  advanceTo(time: number): void {
    if (!this.clock) return;
    const { deadline } = this.workflow;
    this.clock.advanceTo(deadline === undefined ? time : Math.min(time, deadline));
    if (deadline !== undefined && time > deadline) this.workflow.timeOut();
  }

  child(label: string, clock: SimulatedClock | undefined): Scope {
    const child = new Scope(this.workflow, [...this.path, label], clock);
    this.children.add(child);
    if (this.signal.aborted) child.abort();
    return child;
  }

  abort(): void {
    this.controller.abort();
    this.execution?.abort();
    for (const child of this.children) child.abort();
  }

  run(definition: StateMachineDefinition, input: JsonValue): Promise<ScopeOutcome> {
    const outcome = this.execute(definition, input);
    this.workflow.pending.add(outcome);
    return outcome;
  }

  private async execute(definition: StateMachineDefinition, input: JsonValue): Promise<ScopeOutcome> {
    const { TimeoutSeconds, StartAt, States: _states, ...top } = definition;
    const { states, handlers, retryIntervals } = this.localStates(definition);
    const local = {
      ...top,
      // On simulated time the execution deadline is enforced by `advanceTo`, not by a real timer.
      ...(TimeoutSeconds !== undefined && !this.clock ? { TimeoutSeconds } : {}),
      StartAt: SCOPE_ENTRY,
      States: { [SCOPE_ENTRY]: { Type: 'Pass', InputPath: '$.scopeInput', Next: StartAt }, ...states },
    };
    const machine = new StateMachine(local as unknown as LibraryDefinition, {
      validationOptions: { noValidate: true },
    });
    const execution = machine.run(this.workflow.envelope(input), {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryIntervals },
      context: this.workflow.context,
    });
    this.execution = execution;
    if (this.signal.aborted) execution.abort();
    const logged = this.consume(execution.eventLogs, definition);
    try {
      return { status: 'SUCCEEDED', output: await execution.result };
    } catch (error) {
      return outcomeOfFailure(error);
    } finally {
      await logged;
    }
  }

  private async consume(
    events: AsyncGenerator<ExecutionEvent>,
    definition: StateMachineDefinition,
  ): Promise<void> {
    for await (const event of events) this.record(event, definition);
  }

  /**
   * Turns the scope's event log into steps. The log is read a few microtasks after each event, while
   * the library calls a Task's handler in the very tick it logs StateEntered; every local handler
   * therefore first yields a macrotask, so the step is open (attempt, start time) before the handler
   * reads it or moves the clock. Only handlers and this method move a scope's clock.
   */
  private record(event: ExecutionEvent, definition: StateMachineDefinition): void {
    const at = this.clock ? this.clock.now() : event.timestamp;
    if (event.type === 'ExecutionAborted' || event.type === 'ExecutionTimeout') {
      this.end('ABORTED', at);
      return;
    }
    if (!('state' in event) || event.state.name === SCOPE_ENTRY) return;
    const name = event.state.name;
    switch (event.type) {
      case 'StateEntered':
        this.open(name, definition.States[name]?.Type ?? event.state.type, 1, at);
        break;
      case 'StateExited':
        this.end('SUCCEEDED', at);
        break;
      case 'StateFailed':
        this.end('FAILED', at, { error: event.Error, cause: describe(event.Cause) });
        break;
      case 'StateRetried': {
        const failed = this.lastEnded;
        if (!failed) break;
        failed.status = 'RETRIED';
        if (this.clock)
          this.advanceTo(this.clock.now() + backoffMs(event.retry.retrier, event.retry.attempt));
        this.open(name, failed.type, failed.attempt + 1, this.clock ? this.clock.now() : event.timestamp);
        break;
      }
      case 'StateCaught':
        if (this.lastEnded) this.lastEnded.status = 'CAUGHT';
        break;
    }
  }

  private open(state: string, type: string, attempt: number, startedAt: number): void {
    this.current = { state, type, scope: this.path, status: 'RUNNING', attempt, startedAt };
    this.workflow.steps.push(this.current);
  }

  private end(status: StepStatus, at: number, error?: WorkflowError): void {
    const step = this.current;
    if (!step) return;
    step.status = status;
    step.endedAt = at;
    if (error) step.error = error;
    this.lastEnded = step;
    this.current = undefined;
  }

  /** The definition's states as the library runs them in this scope, and the local handlers they call. */
  private localStates(definition: StateMachineDefinition) {
    const states: Record<string, JsonObject> = {};
    const handlers: Record<string, LocalHandler> = {};
    const retryIntervals: Record<string, number> = {};
    const { retryIntervalOverride } = this.workflow.options;
    const realRetryMs = retryIntervalOverride ?? (this.workflow.simulated ? 0 : undefined);
    for (const [name, original] of Object.entries(definition.States)) {
      const state = withLibraryQuirksAvoided(rebaseExecutionPaths(original));
      if (realRetryMs !== undefined && Array.isArray(state.Retry)) retryIntervals[name] = realRetryMs;
      switch (original.Type) {
        case 'Task': {
          const bound = this.workflow.bindings.get(original);
          if (!bound) throw new UnboundTaskError([{ stateName: name, keys: [name] }]);
          const timeoutSeconds = numberField(original, 'TimeoutSeconds');
          // On simulated time a static TimeoutSeconds is enforced by the handler, on that time.
          const longest =
            this.simulated || (timeoutSeconds === undefined && !('TimeoutSecondsPath' in original));
          states[name] = longest ? { ...state, TimeoutSeconds: LONGEST_TASK_SECONDS } : state;
          handlers[name] = this.taskHandler(name, bound, timeoutSeconds);
          break;
        }
        case 'Wait':
          states[name] = waitAsTask(state);
          handlers[name] = this.waitHandler(name, original);
          break;
        case 'Parallel':
          states[name] = asLocalTask(state, ['Branches']);
          handlers[name] = this.parallelHandler(name, nestedDefinitions(original));
          break;
        case 'Map':
          states[name] = asLocalTask(state, MAP_ITERATION_FIELDS);
          handlers[name] = this.mapHandler(name, state, nestedDefinitions(original));
          break;
        default:
          states[name] = state;
      }
    }
    return { states, handlers, retryIntervals };
  }

  private taskHandler(stateName: string, bound: BoundTask, timeoutSeconds: number | undefined): LocalHandler {
    return async (input) => {
      await nextMacrotask();
      const startedAt = this.now();
      const taskClock = this.clock && new SimulatedClock(startedAt);
      const context = {
        clock: taskClock ?? wallClock,
        stateName,
        attempt: this.current?.attempt ?? 1,
        resource: bound.resource,
        scope: this.path,
        signal: this.signal,
      };
      const settled = await bound.invoke(input, context).then(
        (output) => ({ ok: true as const, output }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      if (taskClock) {
        const tookMs = taskClock.now() - startedAt;
        const timeoutMs = (timeoutSeconds ?? Number.POSITIVE_INFINITY) * 1000;
        this.advanceTo(startedAt + Math.min(tookMs, timeoutMs));
        if (tookMs > timeoutMs) {
          throw new TaskFailedError(
            'States.Timeout',
            `${stateName} ran ${tookMs} ms, over its TimeoutSeconds`,
          );
        }
      }
      if (!settled.ok) throw settled.error;
      return settled.output;
    };
  }

  private waitHandler(stateName: string, original: AslState): LocalHandler {
    return async (input) => {
      await nextMacrotask();
      const { output, durationMs } = waitDuration(stateName, original, input, this.now());
      this.advanceTo(this.now() + durationMs);
      const realMs = this.workflow.options.waitTimeOverride ?? (this.clock ? 0 : durationMs);
      if (realMs > 0) await sleep(realMs, undefined, { signal: this.signal }).catch(() => {});
      return output;
    };
  }

  private parallelHandler(stateName: string, branches: StateMachineDefinition[]): LocalHandler {
    return async (input) => {
      await nextMacrotask();
      const parallel = new Concurrent(this, stateName);
      const outputs = branches.map((branch, index) => parallel.member(`branch ${index}`, branch, input));
      return parallel.complete(Promise.all(outputs));
    };
  }

  /**
   * Items are still selected by the library (ItemsPath, ItemSelector with `$$.Map.Item`, MaxConcurrency)
   * in a one-state execution whose item processor is a local handler that runs the real one as a scope.
   */
  private mapHandler(
    stateName: string,
    state: JsonObject,
    processors: StateMachineDefinition[],
  ): LocalHandler {
    const [processor] = processors;
    if (!processor)
      throw new InvalidStateMachineDefinitionError(`Map state "${stateName}" has no ItemProcessor`);
    const itemSelector = state.ItemSelector ?? state.Parameters;
    const selection = {
      StartAt: stateName,
      States: {
        [stateName]: {
          Type: 'Map',
          InputPath: '$.scopeInput',
          ...pick(state, ['ItemsPath', 'MaxConcurrency', 'MaxConcurrencyPath']),
          ...(itemSelector === undefined ? {} : { ItemSelector: itemSelector }),
          ItemProcessor: {
            StartAt: MAP_ITEM,
            States: {
              [MAP_ITEM]: {
                Type: 'Task',
                Resource: LOCAL_RESOURCE,
                TimeoutSeconds: LONGEST_TASK_SECONDS,
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };
    const machine = new StateMachine(selection as unknown as LibraryDefinition, {
      validationOptions: { noValidate: true },
    });
    return async (input) => {
      await nextMacrotask();
      const map = new Concurrent(this, stateName);
      let nextIndex = 0;
      const execution = machine.run(this.workflow.envelope(input), {
        overrides: {
          // The library starts items in index order, so counting calls numbers them.
          taskResourceLocalHandlers: {
            [MAP_ITEM]: (item) => map.member(`item ${nextIndex++}`, processor, item),
          },
        },
        context: this.workflow.context,
      });
      const abort = () => execution.abort();
      this.signal.addEventListener('abort', abort, { once: true });
      const items = execution.result.catch((error: unknown) => {
        throw error instanceof ExecutionError ? error.cause : error;
      });
      try {
        return await map.complete(items);
      } finally {
        this.signal.removeEventListener('abort', abort);
      }
    };
  }
}

/**
 * One run of a Parallel or Map state: its branches or items as child scopes. On simulated time each
 * member starts when the state started (or, past MaxConcurrency, when an earlier member's slot frees)
 * and the state ends with its last member, or with its first failure, which aborts the others.
 */
class Concurrent {
  private readonly startedAt: number;
  private readonly slots: { freeAt: number; busy: boolean }[] = [];
  private readonly members = new Set<Scope>();
  private readonly running = new Set<Promise<JsonValue>>();
  private latestEnd: number;
  private failure?: { at: number; error: WorkflowError };

  constructor(
    private readonly scope: Scope,
    private readonly stateName: string,
  ) {
    this.startedAt = scope.now();
    this.latestEnd = this.startedAt;
  }

  member(label: string, definition: StateMachineDefinition, input: JsonValue): Promise<JsonValue> {
    const running = this.runMember(label, definition, input);
    this.running.add(running);
    return running;
  }

  async complete<T>(work: Promise<T>): Promise<T> {
    const settled = await work.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    await Promise.allSettled(this.running);
    this.scope.advanceTo(this.failure?.at ?? this.latestEnd);
    if (this.failure) throw new TaskFailedError(this.failure.error.error, this.failure.error.cause);
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  private async runMember(
    label: string,
    definition: StateMachineDefinition,
    input: JsonValue,
  ): Promise<JsonValue> {
    // A Map item the library starts after a sibling failed: the state has failed already.
    if (this.failure) throw new TaskFailedError(this.failure.error.error, this.failure.error.cause);
    const slot = this.takeSlot();
    const member = this.scope.child(
      `${this.stateName}: ${label}`,
      slot && new SimulatedClock(Math.max(this.startedAt, slot.freeAt)),
    );
    this.members.add(member);
    const outcome = await member.run(definition, input);
    this.members.delete(member);
    const endedAt = member.now();
    if (slot) Object.assign(slot, { busy: false, freeAt: endedAt });
    if (outcome.status === 'SUCCEEDED') {
      this.latestEnd = Math.max(this.latestEnd, endedAt);
      return outcome.output ?? null;
    }
    const error = outcome.error ?? { error: 'States.Runtime', cause: `${label} was aborted` };
    if (outcome.status === 'FAILED' && !this.failure) {
      this.failure = { at: endedAt, error };
      for (const sibling of this.members) sibling.abort();
    }
    throw new TaskFailedError(error.error, error.cause);
  }

  /** The free slot that frees earliest, or a new one: the library caps how many members run at once. */
  private takeSlot(): { freeAt: number; busy: boolean } | undefined {
    if (!this.scope.simulated) return undefined;
    const free = this.slots.filter((slot) => !slot.busy).sort((a, b) => a.freeAt - b.freeAt)[0];
    const slot = free ?? { freeAt: this.startedAt, busy: false };
    if (!free) this.slots.push(slot);
    slot.busy = true;
    return slot;
  }
}

function outcomeOfFailure(error: unknown): ScopeOutcome {
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: EXECUTION_TIMED_OUT };
  if (error instanceof ExecutionError && error.cause instanceof Error) {
    return { status: 'FAILED', error: { error: error.cause.name, cause: error.cause.message } };
  }
  throw error;
}

function describe(cause: unknown): string {
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
}

/** The pause before retry `attempt` (1 for the first retry), as the service computes it without jitter. */
function backoffMs(
  retrier: { IntervalSeconds?: number; BackoffRate?: number; MaxDelaySeconds?: number },
  attempt: number,
) {
  const seconds = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (attempt - 1);
  return Math.min(seconds, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000;
}
