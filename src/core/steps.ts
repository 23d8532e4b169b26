/**
 * Steps: a long synchronous computation written as a generator whose `yield`s mark the points
 * where it may pause. Recovery runs its steps with {@link runStepsYielding}, handing the event
 * loop back every few milliseconds so `/v1/health` and `/v1/ready` answer while it folds the
 * log; offline tools and replays run the same steps to the end with {@link runSteps}.
 */
import { setImmediate } from "node:timers";

/** A computation that may pause at each `yield` and returns `T` at its end. */
export type Steps<T> = Generator<void, T, void>;

/**
 * Runs `steps` to the end without pausing.
 *
 * @example
 * ```ts
 * const total = runSteps((function* () { yield; return 42; })());
 * ```
 */
export function runSteps<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (r.done !== true) r = steps.next();
  return r.value;
}

/** Options of {@link runStepsYielding}. */
export interface YieldingOptions {
  /** Longest run of steps between two returns to the event loop, in ms. */
  sliceMs: number;
  /** A monotonic clock in ms. */
  monotonicMs: () => number;
}

/** Resolves after the event loop has run its pending I/O callbacks (one macrotask turn). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `steps` to the end, returning to the event loop whenever `sliceMs` has passed since the
 * last return, so I/O (HTTP requests, timers) is served while the computation goes on.
 *
 * @example
 * ```ts
 * const state = await runStepsYielding(restoreSteps(bytes), { sliceMs: 5, monotonicMs });
 * ```
 */
export async function runStepsYielding<T>(steps: Steps<T>, options: YieldingOptions): Promise<T> {
  let sliceStartMs = options.monotonicMs();
  let r = steps.next();
  while (r.done !== true) {
    if (options.monotonicMs() - sliceStartMs >= options.sliceMs) {
      await yieldToEventLoop();
      sliceStartMs = options.monotonicMs();
    }
    r = steps.next();
  }
  return r.value;
}
