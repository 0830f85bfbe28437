import { setTimeout as delay } from 'node:timers/promises';
import type { ClusterOperations } from '../../lambdas/core/operations/cluster';
import type {
  AlarmTagReader,
  DatabaseOperations,
  EvidenceStore,
  MetricsReader,
  Notifier,
} from '../../lambdas/core/operations/ports';
import type {
  BackupCatalog,
  DatabaseRecovery,
  SiteIdentity,
  TrafficRouting,
} from '../../lambdas/core/recovery/ports';
import type { WorkflowClock } from '../workflow/clock';
import { FAILED_CALL_MS } from './durations';

/**
 * How a simulated port call happens: it may be failed by an injected fault, it spends simulated
 * time on the caller's clock, and it is logged. Adapters get one `OperationRunner` per clock.
 */

/** Every operation of every port the simulation implements; their names do not collide. */
export type PortOperation =
  | keyof ClusterOperations
  | keyof DatabaseOperations
  | keyof MetricsReader
  | keyof Notifier
  | keyof EvidenceStore
  | keyof AlarmTagReader
  | keyof DatabaseRecovery
  | keyof BackupCatalog
  | keyof TrafficRouting
  | keyof SiteIdentity;

type Port = ClusterOperations &
  DatabaseOperations &
  MetricsReader &
  Notifier &
  EvidenceStore &
  AlarmTagReader &
  DatabaseRecovery &
  BackupCatalog &
  TrafficRouting &
  SiteIdentity;

/** The arguments an operation is called with. */
export type OperationArgs<O extends PortOperation> = Parameters<Port[O]>;

export interface FaultSpec<O extends PortOperation = PortOperation> {
  readonly operation: O;
  /** The error the call throws; it gets the call's arguments, to name what failed. */
  readonly error: (...args: OperationArgs<O>) => Error;
  /** How many calls fail (then the fault is spent); every call while unset. */
  readonly times?: number;
  /** Only calls this accepts fail, e.g. a publish to one channel. */
  readonly when?: (...args: OperationArgs<O>) => boolean;
  /** How long the failing call takes (a timeout takes long); FAILED_CALL_MS by default. */
  readonly delayMs?: number;
}

export interface InjectedFault {
  readonly operation: PortOperation;
  /** Calls failed so far. */
  readonly triggered: number;
  remove(): void;
}

interface ActiveFault {
  readonly operation: PortOperation;
  // Erased to unknown[]: the registry only ever passes a call's own arguments to its own fault.
  readonly error: (...args: unknown[]) => Error;
  readonly when: ((...args: unknown[]) => boolean) | undefined;
  readonly delayMs: number;
  remaining: number;
  triggered: number;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];

  add<O extends PortOperation>(spec: FaultSpec<O>): InjectedFault {
    const times = spec.times ?? Number.POSITIVE_INFINITY;
    if (!(times >= 1)) throw new RangeError(`a fault must fail at least one call, not ${spec.times}`);
    const fault: ActiveFault = {
      operation: spec.operation,
      error: spec.error as unknown as ActiveFault['error'],
      when: spec.when as unknown as ActiveFault['when'],
      delayMs: spec.delayMs ?? FAILED_CALL_MS,
      remaining: times,
      triggered: 0,
    };
    this.faults.push(fault);
    return {
      operation: spec.operation,
      get triggered() {
        return fault.triggered;
      },
      remove: () => {
        this.faults = this.faults.filter((each) => each !== fault);
      },
    };
  }

  clear(): void {
    this.faults = [];
  }

  /** The first armed fault for this call, spent by one; undefined when the call may proceed. */
  take(operation: PortOperation, args: readonly unknown[]): { error: Error; delayMs: number } | undefined {
    const fault = this.faults.find(
      (each) => each.operation === operation && each.remaining > 0 && (each.when?.(...args) ?? true),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    fault.triggered += 1;
    return { error: fault.error(...args), delayMs: fault.delayMs };
  }
}

export interface CallRecord {
  readonly operation: PortOperation;
  /** Simulated epoch milliseconds on the caller's clock. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** The thrown error's name, for a failed call. */
  readonly error?: string;
}

/**
 * Lets `ms` pass on the clock. A simulated clock jumps; a wall clock ignores `advance`, so the
 * remainder is really waited for, and the simulation then also works on wall time.
 */
export async function elapse(clock: WorkflowClock, ms: number): Promise<void> {
  const target = clock.now() + ms;
  clock.advance(ms);
  const behind = target - clock.now();
  if (behind > 0) await delay(behind);
}

/** One call in progress: its clock, and the time it spends. */
export interface SimulatedCall {
  readonly clock: WorkflowClock;
  now(): number;
  spend(ms: number): Promise<void>;
}

export type OperationRunner = <T>(
  operation: PortOperation,
  args: readonly unknown[],
  body: (call: SimulatedCall) => Promise<T>,
) => Promise<T>;

export function operationRunner(
  clock: WorkflowClock,
  faults: FaultRegistry,
  log: CallRecord[],
): OperationRunner {
  const call: SimulatedCall = { clock, now: () => clock.now(), spend: (ms) => elapse(clock, ms) };
  return async (operation, args, body) => {
    const startedAt = clock.now();
    const fault = faults.take(operation, args);
    if (fault) {
      await elapse(clock, fault.delayMs);
      log.push({ operation, startedAt, endedAt: clock.now(), error: fault.error.name });
      throw fault.error;
    }
    try {
      const result = await body(call);
      log.push({ operation, startedAt, endedAt: clock.now() });
      return result;
    } catch (error) {
      log.push({
        operation,
        startedAt,
        endedAt: clock.now(),
        error: error instanceof Error ? error.name : 'Error',
      });
      throw error;
    }
  };
}
