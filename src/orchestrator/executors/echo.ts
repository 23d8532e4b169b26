/**
 * `echo`: returns `with.value` (null when absent); with nothing but `value` it is pure, so the
 * scheduler computes it inline (its start and completion are one batch: no fsync of its own). For tests, benchmarks and examples of data
 * flow: `delay_ms` waits first (aborted by cancel and timeouts) and `fail_attempts: N` fails
 * attempts 1..N retryably with `echo_failed`, so retry policies can be tried without a flaky
 * dependency. `charge` (a usage, e.g. `{"llm_tokens": 60}`) holds that much of the run's budget
 * before the echo and charges it after, so run budgets can be tried without a model.
 */
import * as v from "valibot";
import { UsageSchema } from "../run-record.ts";
import { StepFailure } from "../step-error.ts";
import { sleepUntil } from "../timers.ts";
import { ATTEMPTS_MAX, STEP_TIMEOUT_MS_MAX } from "../workflow-schema.ts";
import type { HeldUnit, StepAttempt, StepContext, StepKindSpec, StepResult } from "./executor.ts";

const EchoWith = v.strictObject({
  value: v.optional(v.unknown()),
  delay_ms: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(STEP_TIMEOUT_MS_MAX)),
  ),
  fail_attempts: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(ATTEMPTS_MAX)),
  ),
  charge: v.optional(UsageSchema),
});

export const echoKind: StepKindSpec<v.InferOutput<typeof EchoWith>> = {
  kind: "echo",
  withSchema: EchoWith,
  withKeys: Object.keys(EchoWith.entries),
  holdsSlot: true,
  // `value` alone is pure: computed when scheduled, no durable start before it.
  inline: (input) =>
    Object.keys(input).every((key) => key === "value") ? { output: input.value ?? null } : null,
  async run(step, ctx) {
    const charge = step.with.charge ?? {};
    const releases: (() => void)[] = [];
    try {
      for (const [unit, amount] of Object.entries(charge) as [HeldUnit, number][])
        releases.push(ctx.holdRun(unit, amount));
      const output = await echo(step, ctx);
      ctx.charge(charge);
      return output;
    } finally {
      for (const release of releases) release();
    }
  },
};

async function echo(
  step: StepAttempt<v.InferOutput<typeof EchoWith>>,
  ctx: StepContext,
): Promise<StepResult> {
  const delayMs = step.with.delay_ms ?? 0;
  if (delayMs > 0) await sleepUntil(ctx.timers, ctx.timers.nowMs() + delayMs, ctx.call.signal);
  if (step.attempt <= (step.with.fail_attempts ?? 0)) {
    throw new StepFailure("echo_failed", `echo fails attempt ${step.attempt} as asked`, {
      retryable: true,
      details: { fail_attempts: step.with.fail_attempts },
    });
  }
  return { output: step.with.value ?? null };
}
