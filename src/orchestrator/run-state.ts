/**
 * The state of one run as the fold sees it. Values are immutable: the fold returns a new run
 * (sharing what did not change), so the scheduler can fold a decision ahead of committing it.
 */
import type { Principal } from "../core/mod.ts";
import type { Usage } from "./run-record.ts";
import type { StepError } from "./step-error.ts";
import type { WorkflowGraph } from "./workflow-graph.ts";
import type { Workflow } from "./workflow-schema.ts";

export const RUN_STATUSES = [
  "queued",
  "running",
  "waiting",
  "succeeded",
  "failed",
  "cancelled",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = [
  "pending",
  "running",
  "waiting",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** One attempt of a step. `restarts` counts how often it ran again after a server restart. */
export interface Attempt {
  readonly n: number;
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
  readonly error: StepError | null;
  readonly restarts: number;
}

export interface StepState {
  readonly index: number;
  readonly status: StepStatus;
  /** Ready and queued for a slot (set by `schedule`; stays set through retries). */
  readonly scheduled: boolean;
  readonly attempts: readonly Attempt[];
  /** The output of a succeeded step (`undefined` otherwise). */
  readonly output: unknown;
  readonly error: StepError | null;
  /** When the next attempt of a step that failed retryably may start. */
  readonly retryAtMs: number | null;
  /** Journaled sub-steps by key (kept across attempts: a retry reuses what was done). */
  readonly notes: ReadonlyMap<string, unknown>;
}

/** What a run has spent: the units of its `budget`, `steps` counting attempts started. */
export interface RunUsage {
  readonly llm_tokens: number;
  readonly cost_usd: number;
  readonly sandbox_cpu_ms: number;
  readonly steps: number;
}

export const NO_USAGE: RunUsage = { llm_tokens: 0, cost_usd: 0, sandbox_cpu_ms: 0, steps: 0 };

/** Two usages summed, keeping only units either holds. */
export function sumUsage(a: Usage, b: Usage): Usage {
  const out: Usage = {};
  for (const unit of ["llm_tokens", "cost_usd", "sandbox_cpu_ms"] as const) {
    if (a[unit] === undefined && b[unit] === undefined) continue;
    const sum = (a[unit] ?? 0) + (b[unit] ?? 0);
    out[unit] = unit === "cost_usd" ? Math.round(sum * 1e6) / 1e6 : sum;
  }
  return out;
}

/** `used` plus `usage` (cost rounded to micro-dollars, so sums stay exact across replays). */
export function addRunUsage(used: RunUsage, usage: Usage & { steps?: number }): RunUsage {
  return {
    llm_tokens: used.llm_tokens + (usage.llm_tokens ?? 0),
    cost_usd: Math.round((used.cost_usd + (usage.cost_usd ?? 0)) * 1e6) / 1e6,
    sandbox_cpu_ms: used.sandbox_cpu_ms + (usage.sandbox_cpu_ms ?? 0),
    steps: used.steps + (usage.steps ?? 0),
  };
}

/** A signal no step has taken yet. */
export interface PendingSignal {
  readonly seq: number;
  readonly name: string;
  readonly payload: unknown;
}

export interface RunState {
  readonly id: string;
  readonly tenant: string;
  readonly principal: Principal;
  readonly traceId: string;
  readonly workflow: Workflow;
  readonly graph: WorkflowGraph;
  readonly workflowRef: { name: string; version: number } | null;
  readonly input: unknown;
  readonly idempotencyKey: string | null;
  readonly requestHash: string;
  readonly status: RunStatus;
  /** Taken off the admission queue (its first step was scheduled or skipped). */
  readonly admitted: boolean;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly endedAtMs: number | null;
  readonly createdWalIndex: number;
  readonly lastWalIndex: number;
  /** In declaration order. */
  readonly steps: readonly StepState[];
  readonly signals: readonly PendingSignal[];
  /** Signals received so far (the next one's seq is this + 1). */
  readonly signalCount: number;
  readonly error: StepError | null;
  /** What the run has spent so far. */
  readonly used: RunUsage;
  /**
   * The run and step a fork was made from (`null` for a run that is no fork). Its reused steps
   * are the succeeded ones without attempts.
   */
  readonly forkedFrom: { readonly runId: string; readonly stepId: string } | null;
  /** After a cancel with compensations: each `on_cancel` to run, in order, and how it ended. */
  readonly compensations: readonly Compensation[] | null;
}

/** One step's `on_cancel` after a cancel. */
export interface Compensation {
  readonly stepId: string;
  readonly done: boolean;
  readonly output?: unknown;
  readonly error?: StepError;
}

/** True for a step a fork reused from its source run (it succeeded without an attempt here). */
export function isReused(run: Pick<RunState, "forkedFrom">, step: StepState): boolean {
  return run.forkedFrom !== null && step.status === "succeeded" && step.attempts.length === 0;
}

/** True once the run has ended. */
export function isTerminal(status: RunStatus): boolean {
  return status === "succeeded" || status === "failed" || status === "cancelled";
}

/** True once the step has ended (it will never run again). */
export function isStepDone(status: StepStatus): boolean {
  return (
    status === "succeeded" || status === "failed" || status === "skipped" || status === "cancelled"
  );
}

/**
 * The status of a run that has not ended: `queued` until admitted; `waiting` when its only
 * started steps wait (a signal, a timer) and nothing is queued to run; else `running`.
 */
export function liveStatusOf(run: Pick<RunState, "admitted" | "steps">): RunStatus {
  if (!run.admitted) return "queued";
  let waiting = false;
  for (const step of run.steps) {
    if (step.status === "running" || (step.status === "pending" && step.scheduled))
      return "running";
    if (step.status === "waiting") waiting = true;
  }
  return waiting ? "waiting" : "running";
}

/** The values references and `when` conditions see: `{input, steps: {ID: {output}}, run}`. */
export function scopeOf(run: RunState): Record<"input" | "steps" | "run", unknown> {
  // A null prototype: a step may be called `__proto__` (STEP_ID_PATTERN allows it).
  const steps: Record<string, { output: unknown }> = Object.create(null);
  for (const step of run.steps) {
    const id = run.graph.steps[step.index]?.id as string;
    if (step.status === "succeeded") steps[id] = { output: step.output };
  }
  return {
    input: run.input,
    steps,
    run: {
      id: run.id,
      workflow: run.workflow.name ?? null,
      created_at: new Date(run.createdAtMs).toISOString(),
    },
  };
}
