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
import type { PolicyAction } from "../../policy/mod.ts";
import type { SandboxResult } from "../../sandbox/mod.ts";
import type { PreparedWrite } from "../../storage/mod.ts";
import type { ModelGateway } from "../llm/mod.ts";
import type { Usage } from "../run-record.ts";
import type { ReferenceScope } from "../template.ts";
import type { Timers } from "../timers.ts";
import type { StepKind } from "../workflow-schema.ts";
import type { HttpHostAllowlist } from "./http-hosts.ts";

/** One attempt of a step, with its input resolved and checked. */
export interface StepAttempt<W> {
  id: string;
  kind: StepKind;
  with: W;
  attempt: number;
  /** When this attempt first started (a restart keeps it: durable timers count from it). */
  attemptStartedAtMs: number;
  /** The step's `output_schema` (llm, agent). */
  outputSchema?: Record<string, unknown>;
  /** The step's `retry.on_status` (exec): exit codes that fail the attempt retryably. */
  retryOnStatus?: readonly number[];
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

/** Units a run's budget holds before a side effect (`steps` and `wall_ms` the driver checks). */
export type HeldUnit = "llm_tokens" | "cost_usd" | "sandbox_cpu_ms";

/** The tenant's budget ledgers (BudgetService), as steps use them. */
export interface TenantBudgets {
  /** Holds `amount` before a side effect, or throws `budget_exceeded`; `id` dedupes a retried hold. */
  reserve(
    call: Call,
    unit: HeldUnit,
    amount: number,
    options: { runId: string; id: string },
  ): Promise<{ id: string; amount: number }>;
  /** Replaces the hold by what was spent (0 releases it). */
  settle(call: Call, hold: { id: string; amount: number }, actual: number): Promise<void>;
}

/** A side effect of a step, for the tenant's audit trail (allowed: it happened). */
export interface SideEffect {
  action: string;
  resource: string;
  runId: string;
  /** Scalars only (the audit record's `details`): never arguments, prompts or secrets. */
  details: Record<string, string | number | boolean | null>;
}

/** What `http` steps may reach and read (config `http_allowed_hosts`, `orchestrator_limits`). */
export interface HttpSettings {
  allowedHosts: HttpHostAllowlist;
  responseBytesMax: number;
  timeoutMsDefault: number;
}

/** The services steps use. */
export interface ExecutorServices {
  context: ContextService;
  sandbox: SandboxRunner;
  /** The tenant's budgets (absent: no tenant ledgers, only the run's own budget). */
  budgets?: TenantBudgets;
  /** Model providers (absent: `llm` and `agent` steps fail `llm_provider_unknown`). */
  models?: ModelGateway;
  /** Policy before a side effect: throws 403 `policy_denied` (absent: allowed). */
  policy?: { check(call: Call, action: PolicyAction, context: Record<string, unknown>): unknown };
  /** Records a side effect in the tenant's audit trail. */
  audit?: (call: Call, effect: SideEffect) => Promise<void>;
  /** Hosts and bounds of `http` steps (absent: every `http` step fails `http_host_denied`). */
  http?: HttpSettings;
}

/** What a journaled sub-step produced: its output, and writes committed with its record. */
export interface JournalEntry {
  output: unknown;
  prepared?: readonly PreparedWrite<unknown>[];
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
  /** What references resolve against when the attempt started (a `map` adds `item`, `index`). */
  scope: ReferenceScope;
  /**
   * A durable sub-step: the output journaled under `key` for this step (by an earlier attempt,
   * or before a restart), or else `work`'s, journaled (with its writes, in one batch) before it
   * is returned. Usage charged until then is recorded with it.
   */
  journal(key: string, work: () => Promise<JournalEntry>): Promise<unknown>;
  /** Adds what a side effect spent; recorded with the next journal entry or the attempt's end. */
  charge(usage: Usage): void;
  /**
   * Holds `amount` of the run's budget for a side effect about to happen, or throws
   * `budget_exceeded` (never retried). The returned function releases the hold; charge the
   * actual spend with {@link charge}.
   */
  holdRun(unit: HeldUnit, amount: number): () => void;
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
  /** Keys of `with` the driver leaves as written (the kind resolves them itself: a map's template). */
  deferredKeys?: readonly string[];
  /** Whether a running attempt takes a `steps_running_max` slot (a wait does not). */
  holdsSlot: boolean;
  /**
   * For an input with no effect and no time (a pure computation): its output, which the
   * scheduler records in the same batch as the attempt's start instead of running the attempt
   * after a durable start. Null: the input needs a real attempt.
   */
  inline?: (input: W) => { output: unknown } | null;
  run(step: StepAttempt<W>, ctx: StepContext): Promise<StepResult>;
}
