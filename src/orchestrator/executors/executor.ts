/**
 * What a step kind is: the schema of its `with` (checked once references are resolved), whether
 * it holds one of the `steps_running_max` slots while it runs, and its executor
 * `(step, ctx) => Promise<StepResult>`. Executors act with the run's `Call` (its principal:
 * tenancy and roles hold inside runs) and stop when `ctx.call.signal` aborts (cancel, timeout,
 * shutdown).
 */
import type * as v from "valibot";
import type { ContextService } from "../../context/mod.ts";
import type { Call } from "../../core/mod.ts";
import type { SandboxResult } from "../../sandbox/mod.ts";
import type { PreparedWrite } from "../../storage/mod.ts";
import type { Timers } from "../timers.ts";
import type { StepKind } from "../workflow-schema.ts";

/** One attempt of a step, with its input resolved and checked. */
export interface StepAttempt<W> {
  id: string;
  kind: StepKind;
  with: W;
  attempt: number;
  /** When this attempt first started (a restart keeps it: durable timers count from it). */
  attemptStartedAtMs: number;
}

/** A signal a `wait` step took. */
export interface TakenSignal {
  seq: number;
  payload: unknown;
}

/** What an `exec` step needs of the sandbox (the composition root's SandboxService has it). */
export interface SandboxRunner {
  /** Runs a command in the call's tenant (a workspace of it, or its default); the signal kills it. */
  exec(call: Call, request: unknown, target?: { workspace?: string }): Promise<SandboxResult>;
}

/** The services steps use (the next phase adds models and fetch). */
export interface ExecutorServices {
  context: ContextService;
  sandbox: SandboxRunner;
}

/** What an executor is given besides its step. */
export interface StepContext {
  /** The run's call: its principal, its trace id, and a signal that aborts the attempt. */
  call: Call & { signal: AbortSignal };
  runId: string;
  /** `{run_id}:{step_id}:{attempt}`: the same after a restart, so effects can be deduplicated. */
  idempotencyKey: string;
  timers: Timers;
  services: ExecutorServices;
  /**
   * The oldest signal `name` no step has taken (kept ones first), waiting for one until
   * `deadlineMs` (null: no deadline). Rejects with `wait_timeout` past the deadline.
   */
  waitSignal(name: string, deadlineMs: number | null): Promise<TakenSignal>;
}

/** What an attempt produced. */
export interface StepResult {
  output: unknown;
  /** Writes committed in the same batch as the step's completion (exactly once). */
  prepared?: readonly PreparedWrite<unknown>[];
  /** The signal the step took (consumed by the completion record). */
  signalSeq?: number;
}

/** A step kind. */
export interface StepKindSpec<W = unknown> {
  kind: StepKind;
  /** The `with` object's schema (an object schema: its keys are checked when a workflow is validated). */
  withSchema: v.GenericSchema<unknown, W>;
  /** Keys `with` may have. */
  withKeys: readonly string[];
  /** Whether a running attempt takes a `steps_running_max` slot (a wait does not). */
  holdsSlot: boolean;
  run(step: StepAttempt<W>, ctx: StepContext): Promise<StepResult>;
}
