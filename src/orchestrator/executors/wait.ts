/**
 * `wait`: `{"signal":"approve","timeout_ms"?}` takes the oldest signal of that name (one sent
 * before the step started is kept for it) and outputs `{signal, payload}`; past `timeout_ms`
 * the step fails with `wait_timeout`. `{"sleep_ms":N}` is a durable timer: it ends N ms after
 * the attempt first started, whatever restarts happen between.
 */
import * as v from "valibot";
import { sleepUntil } from "../timers.ts";
import type { StepKindSpec } from "./executor.ts";

/** Longest wait: one year, in ms. */
export const WAIT_MS_MAX = 366 * 24 * 3600 * 1000;

const Ms = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(WAIT_MS_MAX));

const WaitObject = v.strictObject({
  signal: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  timeout_ms: v.optional(Ms),
  sleep_ms: v.optional(Ms),
});

const WaitWith = v.pipe(
  WaitObject,
  v.check(
    (w) => (w.signal === undefined) !== (w.sleep_ms === undefined),
    "must have either signal or sleep_ms",
  ),
  v.check(
    (w) => w.timeout_ms === undefined || w.signal !== undefined,
    "timeout_ms goes with signal",
  ),
);

export const waitKind: StepKindSpec<v.InferOutput<typeof WaitWith>> = {
  kind: "wait",
  withSchema: WaitWith,
  withKeys: Object.keys(WaitObject.entries),
  holdsSlot: false,
  async run(step, ctx) {
    const { signal, sleep_ms: sleepMs, timeout_ms: timeoutMs } = step.with;
    if (signal === undefined) {
      const sleptMs = sleepMs ?? 0;
      await sleepUntil(ctx.timers, step.attemptStartedAtMs + sleptMs, ctx.call.signal);
      return { output: { slept_ms: sleptMs } };
    }
    const deadlineMs = timeoutMs === undefined ? null : step.attemptStartedAtMs + timeoutMs;
    const taken = await ctx.waitSignal(signal, deadlineMs);
    return { output: { signal, payload: taken.payload }, signalSeq: taken.seq };
  },
};
