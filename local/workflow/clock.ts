/**
 * Time as a workflow run sees it. A drill runs on a `SimulatedClock`: task handlers declare how long
 * the real work would have taken with `advance(ms)`, Wait states and retry back-offs advance it by
 * their durations, and the run reports the resulting timeline while taking almost no real time.
 */
export interface WorkflowClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Declares that `ms` milliseconds pass. A wall clock ignores it: real time passes by itself. */
  advance(ms: number): void;
}

export const wallClock: WorkflowClock = {
  now: () => Date.now(),
  advance: () => {},
};

export class SimulatedClock implements WorkflowClock {
  private time: number;

  constructor(start: number | Date = 0) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    this.time += ms;
  }

  /** Moves to `time` unless the clock is already past it: joins never move time backwards. */
  advanceTo(time: number): void {
    this.time = Math.max(this.time, time);
  }
}
