/**
 * `exec`: a command through the SandboxService with the run's `Call` — in the tenant's default
 * workspace, or `with.workspace` (a workspace id of the run's tenant). `with` is the body of
 * `POST /v1/sandbox/exec` plus `workspace`; the output is the sandbox result body, whatever the
 * command's `rc` (a `when` decides on it). The attempt's idempotency key reaches the command as
 * `VLTAIR_IDEMPOTENCY_KEY`, so a command re-run after a crash can recognise its own work. A run
 * the sandbox refused (`SANDBOX_DENIED`: a required protection cannot be applied) fails the step
 * for good; an `INTERNAL_ERROR` of the sandbox is retryable. With `stdout_json`, a command that
 * exits 0 has its stdout parsed into the output's `json` (`exec_output_invalid` when it is not). Cancel, a timeout or a shutdown
 * aborts the call's signal, which kills the command.
 */
import * as v from "valibot";
import { SandboxRequestSchema, type SandboxResult } from "../../sandbox/mod.ts";
import { StepFailure } from "../step-error.ts";
import type { StepContext, StepKindSpec } from "./executor.ts";

/** Name of the variable carrying `{run_id}:{step_id}:{attempt}` to the command. */
export const IDEMPOTENCY_ENV = "VLTAIR_IDEMPOTENCY_KEY";

const ExecWith = v.strictObject({
  ...SandboxRequestSchema.entries,
  workspace: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  /** Parse stdout as JSON into the output's `json` (so later steps can reference its fields). */
  stdout_json: v.optional(v.boolean()),
});

function failureOf(result: SandboxResult): StepFailure | null {
  const details = { status: result.status, reason: result.reason ?? null };
  if (result.status === "SANDBOX_DENIED")
    return new StepFailure("sandbox_denied", `the sandbox refused the run: ${result.reason}`, {
      retryable: false,
      details,
    });
  if (result.status === "INTERNAL_ERROR")
    return new StepFailure("sandbox_internal_error", "the sandbox failed to run the command", {
      retryable: true,
      details,
    });
  return null;
}

/**
 * A sandbox run under the run's `sandbox_cpu_ms` budget: the request's `limits.cpu_ms` (else
 * 1 ms: room left at all) is held before it, the measured `cpu_ms` charged after (nothing when
 * the host cannot measure it; docs/sandbox.md).
 */
export async function chargedExec(
  ctx: StepContext,
  request: Record<string, unknown> & { limits?: { cpu_ms?: number | undefined } | undefined },
  target: { workspace: string } | undefined,
): Promise<SandboxResult> {
  const release = ctx.holdRun("sandbox_cpu_ms", request.limits?.cpu_ms ?? 1);
  try {
    const result = await ctx.services.sandbox.exec(ctx.call, request, target);
    if (result.cpu_ms !== null) ctx.charge({ sandbox_cpu_ms: result.cpu_ms });
    return result;
  } finally {
    release();
  }
}

export const execKind: StepKindSpec<v.InferOutput<typeof ExecWith>> = {
  kind: "exec",
  withSchema: ExecWith,
  withKeys: Object.keys(ExecWith.entries),
  holdsSlot: true,
  async run(step, ctx) {
    const { workspace, stdout_json: stdoutJson, ...request } = step.with;
    const env = { ...request.env, [IDEMPOTENCY_ENV]: ctx.idempotencyKey };
    const target = workspace === undefined ? undefined : { workspace };
    const result = await chargedExec(ctx, { ...request, env }, target);
    const failure = failureOf(result);
    if (failure !== null) throw failure;
    if (result.rc !== 0 && step.retryOnStatus?.includes(result.rc)) {
      throw new StepFailure("exec_status", `the command exited ${result.rc} (retry.on_status)`, {
        retryable: true,
        details: { rc: result.rc, status: result.status },
      });
    }
    if (stdoutJson !== true || result.rc !== 0) return { output: result };
    try {
      return { output: { ...result, json: JSON.parse(result.stdout) } };
    } catch {
      throw new StepFailure(
        "exec_output_invalid",
        "stdout_json: the command's stdout is not JSON",
        {
          retryable: false,
          details: { stdout_truncated: result.stdout_truncated },
        },
      );
    }
  },
};
