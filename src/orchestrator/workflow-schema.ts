/**
 * The workflow's wire schema (API.md, "Orchestrator"): its shape only. The rules that need the
 * whole graph (unique ids, known `needs`, no cycles, references to upstream steps, templates,
 * `when` fields) are checked by `validateWorkflow`, which also gives every refusal a dot path.
 * The same schema feeds OpenAPI and checks `create` records read back from the log.
 */
import * as v from "valibot";

/**
 * The step kinds this binary runs: every kind of API.md.
 */
export const STEP_KINDS = [
  "exec",
  "echo",
  "wait",
  "context.search",
  "context.upsert",
  "context.merge",
  "map",
  "llm",
  "agent",
  "http",
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Characters of a step id: usable as one segment of `${steps.ID.output}` (no dots). */
export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** A stored workflow's name: a URL path segment. */
export const WORKFLOW_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Most attempts of one step (`retry.max_attempts`). */
export const ATTEMPTS_MAX = 100;
/** Longest `timeout_ms` of a step: one day. */
export const STEP_TIMEOUT_MS_MAX = 86_400_000;
/** Ceiling of `orchestrator_limits.workflow_steps_max`: the schema's own bound. */
export const WORKFLOW_STEPS_CEILING = 10_000;

const JsonObjectSchema = v.pipe(
  v.custom<Record<string, unknown>>(
    (value) => value !== null && typeof value === "object" && !Array.isArray(value),
    "must be a JSON object",
  ),
  v.record(v.string(), v.unknown(), "must be a JSON object"),
);

const int = (min: number, max: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

export const StepIdSchema = v.pipe(
  v.string(),
  v.regex(STEP_ID_PATTERN, "must be 1-64 letters, digits, _ or -, not starting with a digit or -"),
);

export const WorkflowNameSchema = v.pipe(
  v.string(),
  v.regex(
    WORKFLOW_NAME_PATTERN,
    "must be 1-128 letters, digits, ., _ or -, starting with a letter or digit",
  ),
);

const RetrySchema = v.strictObject({
  /** Attempts in all, the first included (default 1: no retry). */
  max_attempts: v.optional(int(1, ATTEMPTS_MAX)),
  /** `exec`: exit codes that fail the attempt retryably (`exec_status`) instead of being output. */
  on_status: v.optional(v.pipe(v.array(int(1, 255)), v.minLength(1), v.maxLength(255))),
});

/** Kinds of one attempt with no waiting and no loop of their own (a map's template). */
export const SINGLE_SHOT_KINDS = [
  "exec",
  "echo",
  "context.search",
  "context.upsert",
  "context.merge",
  "http",
] as const;

/** Kinds an `on_cancel` compensation may have: a single-shot kind, or one model call. */
export const ON_CANCEL_KINDS = [...SINGLE_SHOT_KINDS, "llm"] as const;

/** What undoes a step when its run is cancelled (run in reverse topological order). */
export const OnCancelSchema = v.strictObject({
  kind: v.picklist(ON_CANCEL_KINDS, `must be one of ${ON_CANCEL_KINDS.join(", ")}`),
  with: v.optional(JsonObjectSchema),
});

export const StepSchema = v.strictObject({
  id: StepIdSchema,
  kind: v.picklist(STEP_KINDS),
  /** Steps that must have finished (succeeded or skipped) before this one is scheduled. */
  needs: v.optional(v.pipe(v.array(StepIdSchema), v.maxLength(WORKFLOW_STEPS_CEILING))),
  /** The kind's input; string values may hold `${…}` references. */
  with: v.optional(JsonObjectSchema),
  /** A condition in the filter grammar over `input.…`, `steps.ID.output.…`, `run.…`. */
  when: v.optional(
    v.union([JsonObjectSchema, v.string()], "must be a filter (object or JSON text)"),
  ),
  retry: v.optional(RetrySchema),
  /** Longest time of one attempt; past it the attempt fails with `step_timeout` (retryable). */
  timeout_ms: v.optional(int(1, STEP_TIMEOUT_MS_MAX)),
  /** `llm` and `agent`: a JSON Schema the model's answer (as JSON) must satisfy. */
  output_schema: v.optional(JsonObjectSchema),
  /** A compensation run when the run is cancelled after this step started or succeeded. */
  on_cancel: v.optional(OnCancelSchema),
});
export type Step = v.InferOutput<typeof StepSchema>;

/**
 * A run's budget (API.md): what the run may spend in all. Model and sandbox usage is held before
 * the side effect and charged after it; `steps` counts attempts started; `wall_ms` counts from
 * the run's creation. Passing one fails the step (or the run, for `wall_ms`) with
 * `budget_exceeded`, never retried.
 */
export const RunBudgetSchema = v.strictObject({
  llm_tokens: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
  cost_usd: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1e9))),
  sandbox_cpu_ms: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
  wall_ms: v.optional(int(1, 366 * STEP_TIMEOUT_MS_MAX)),
  steps: v.optional(int(1, 10_000_000)),
});
export type RunBudget = v.InferOutput<typeof RunBudgetSchema>;

export const WorkflowSchema = v.strictObject({
  name: v.optional(WorkflowNameSchema),
  description: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  budget: v.optional(RunBudgetSchema),
  /** Longest time of the whole run from its creation; past it the run fails with `run_timeout`. */
  timeout_ms: v.optional(int(1, 366 * STEP_TIMEOUT_MS_MAX)),
  steps: v.pipe(
    v.array(StepSchema),
    v.minLength(1, "must hold at least one step"),
    v.maxLength(WORKFLOW_STEPS_CEILING),
  ),
});
export type Workflow = v.InferOutput<typeof WorkflowSchema>;
