/**
 * Wire schemas of the orchestrator's routes (API.md, "Orchestrator"): requests are checked at
 * the edge with them, responses are documented by them (OpenAPI).
 */
import * as v from "valibot";
import { RUN_STATUSES, STEP_STATUSES } from "./run-state.ts";
import { StepErrorSchema } from "./step-error.ts";
import {
  RunBudgetSchema,
  StepIdSchema,
  StepSchema,
  WorkflowNameSchema,
  WorkflowSchema,
} from "./workflow-schema.ts";

/** Longest `wait_ms` of `POST /v1/runs` (API.md). */
export const WAIT_MS_MAX = 60_000;
/** Most runs one `GET /v1/runs` page lists, and its default. */
export const RUNS_LIST_LIMIT_MAX = 1000;
export const RUNS_LIST_LIMIT_DEFAULT = 100;

const Version = v.pipe(v.number(), v.integer(), v.minValue(1));

export const StartRunRequestSchema = v.strictObject({
  workflow: v.optional(WorkflowSchema),
  workflow_ref: v.optional(
    v.strictObject({ name: WorkflowNameSchema, version: v.optional(Version) }),
  ),
  /** The run's input (`${input.…}`); `{}` when absent. */
  input: v.optional(v.unknown()),
  /** Per tenant: the same key with the same body is the same run; with another body, 409. */
  idempotency_key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
});
export type StartRunRequest = v.InferOutput<typeof StartRunRequestSchema>;

export const ForkRunRequestSchema = v.strictObject({
  /** The step to run again, with everything downstream of it; what is upstream is reused. */
  from_step: StepIdSchema,
  /** The fork's input; the source run's when absent. */
  input: v.optional(v.unknown()),
  /** The fork's workflow; the source run's when absent. */
  workflow: v.optional(WorkflowSchema),
  /** As for `POST /v1/runs` (the same per-tenant keys). */
  idempotency_key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
});
export type ForkRunRequest = v.InferOutput<typeof ForkRunRequestSchema>;

const IntText = (max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^[0-9]{1,10}$/, `must be an integer in 0..${max}`),
    v.transform(Number),
    v.maxValue(max, `must be an integer in 0..${max}`),
  );

export const StartRunQuerySchema = v.strictObject({
  /** Answer when the run has ended, or after this many ms, with the run's body. */
  wait_ms: v.optional(IntText(WAIT_MS_MAX)),
});

export const StartRunResponseSchema = v.object({
  run_id: v.string(),
  status: v.picklist(RUN_STATUSES),
  wal_index: v.number(),
});

export const ForkRunResponseSchema = v.object({
  ...StartRunResponseSchema.entries,
  forked_from: v.object({ run_id: v.string(), step_id: v.string() }),
});

const AttemptViewSchema = v.object({
  n: v.number(),
  started_at: v.string(),
  ended_at: v.nullable(v.string()),
  error: v.optional(StepErrorSchema),
  restarts: v.number(),
});

const StepViewSchema = v.object({
  id: v.string(),
  kind: StepSchema.entries.kind,
  state: v.picklist(STEP_STATUSES),
  attempts: v.array(AttemptViewSchema),
  output: v.optional(v.unknown()),
  error: v.optional(StepErrorSchema),
  /** When the next attempt of a step waiting to retry may start. */
  retry_at: v.optional(v.string()),
  /** Journaled sub-steps (an agent's turns and tool calls, a map's items), in journal order. */
  journal: v.optional(v.array(v.object({ key: v.string(), output: v.unknown() }))),
  /** The source run whose output a fork reused for this step (it has no attempts here). */
  reused_from: v.optional(v.string()),
});

/** What a run has spent, per unit of its budget (`steps` counts attempts started). */
export const RunUsageSchema = v.object({
  llm_tokens: v.number(),
  cost_usd: v.number(),
  sandbox_cpu_ms: v.number(),
  steps: v.number(),
});

/** A run's budget: its limits (the workflow's `budget`) and what it has used. */
export const RunBudgetViewSchema = v.object({
  run_id: v.string(),
  limits: RunBudgetSchema,
  used: RunUsageSchema,
  /** Per limited unit, what is left (never below 0). */
  remaining: v.record(v.string(), v.number()),
  /** Milliseconds since the run was created (until it ended). */
  wall_ms: v.number(),
});
export type RunBudgetView = v.InferOutput<typeof RunBudgetViewSchema>;

/** One charge of a run's budget, as `budget.charged` recorded it. */
export const RunBudgetSnapshotSchema = v.object({
  seq: v.number(),
  ts: v.string(),
  step_id: v.string(),
  attempt: v.number(),
  usage: v.record(v.string(), v.number()),
  used: RunUsageSchema,
});

export const RunBudgetHistorySchema = v.object({
  run_id: v.string(),
  /** The last charges, oldest first (at most RUN_BUDGET_HISTORY_MAX). */
  history: v.array(RunBudgetSnapshotSchema),
});
export type RunBudgetHistory = v.InferOutput<typeof RunBudgetHistorySchema>;

/** Charges `GET /v1/runs/{id}/budget/history` keeps: the last ones. */
export const RUN_BUDGET_HISTORY_MAX = 64;

export const RunViewSchema = v.object({
  run_id: v.string(),
  status: v.picklist(RUN_STATUSES),
  workflow: v.nullable(v.string()),
  workflow_version: v.nullable(v.number()),
  input: v.unknown(),
  steps: v.array(StepViewSchema),
  /** Signals received that no step has taken yet. */
  signals_pending: v.number(),
  /** The workflow's budget and what the run has used of it. */
  budget: v.object({ limits: RunBudgetSchema, used: RunUsageSchema }),
  error: v.optional(StepErrorSchema),
  created_at: v.string(),
  updated_at: v.string(),
  ended_at: v.nullable(v.string()),
  trace_id: v.string(),
  /** Index of the run's last record (`/replay?at_wal_index=` takes indexes like it). */
  wal_index: v.number(),
  /** A fork's source run and the step it was forked from. */
  forked_from: v.optional(v.object({ run_id: v.string(), step_id: v.string() })),
});
export type RunView = v.InferOutput<typeof RunViewSchema>;

export const RunSummarySchema = v.object({
  run_id: v.string(),
  status: v.picklist(RUN_STATUSES),
  workflow: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
  ended_at: v.nullable(v.string()),
});
export type RunSummary = v.InferOutput<typeof RunSummarySchema>;

export const RunListQuerySchema = v.strictObject({
  status: v.optional(v.picklist(RUN_STATUSES)),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(64))),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[1-9][0-9]{0,3}$/, `must be an integer in 1..${RUNS_LIST_LIMIT_MAX}`),
      v.transform(Number),
      v.maxValue(RUNS_LIST_LIMIT_MAX, `must be an integer in 1..${RUNS_LIST_LIMIT_MAX}`),
    ),
  ),
});

export const RunListSchema = v.object({
  runs: v.array(RunSummarySchema),
  next_cursor: v.nullable(v.string()),
});
export type RunList = v.InferOutput<typeof RunListSchema>;

export const SignalRequestSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  payload: v.optional(v.unknown()),
});
export type SignalRequest = v.InferOutput<typeof SignalRequestSchema>;

export const ReplayQuerySchema = v.strictObject({
  at_wal_index: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9]{1,15}$/, "must be a WAL index (an integer >= 0)"),
      v.transform(Number),
    ),
  ),
});

export const WorkflowVersionSchema = v.object({
  name: v.string(),
  version: v.number(),
  created_at: v.string(),
  wal_index: v.number(),
  workflow: WorkflowSchema,
});

export const WorkflowPutResponseSchema = v.object({
  name: v.string(),
  version: v.number(),
  /** False when the body equals the latest version (nothing was written). */
  created: v.boolean(),
  wal_index: v.number(),
});

export const WorkflowListSchema = v.object({
  workflows: v.array(
    v.object({ name: v.string(), latest_version: v.number(), updated_at: v.string() }),
  ),
});

export const WorkflowGetQuerySchema = v.strictObject({
  version: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[1-9][0-9]{0,8}$/, "must be a version (an integer >= 1)"),
      v.transform(Number),
    ),
  ),
});
