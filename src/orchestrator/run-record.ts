/**
 * Records of the `runs` machine. Each is one decision the scheduler made, written once with the
 * time it was made (the record's `wallMs`); the run's state and its event stream are folds of
 * them. Ids, times and retry times are fields: the fold reads no clock.
 */
import * as v from "valibot";
import { RoleSchema, SubjectSchema, TenantSchema } from "../policy/mod.ts";
import { StepErrorSchema } from "./step-error.ts";
import { StepIdSchema, WorkflowNameSchema, WorkflowSchema } from "./workflow-schema.ts";

/** Name of the machine and of its records. */
export const RUNS_MACHINE = "runs";

/** `run_` + 12 hex digits of creation time (ms) + 16 random hex digits: ids sort by creation. */
export const RUN_ID_PATTERN = /^run_[0-9a-f]{28}$/;
export const RunIdSchema = v.pipe(
  v.string(),
  v.regex(RUN_ID_PATTERN, "must look like run_<28 hex>"),
);

const Attempt = v.pipe(v.number(), v.integer(), v.minValue(1));

const PrincipalSchema = v.strictObject({
  subject: SubjectSchema,
  tenant: TenantSchema,
  roles: v.array(RoleSchema),
  token_id: v.nullable(v.string()),
});

/** A stored workflow's version, as `workflow_ref` names it. */
export const WorkflowRefSchema = v.strictObject({
  name: WorkflowNameSchema,
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
});

/**
 * The provenance of a forked run (`POST /v1/runs/{id}:fork`) and the outputs it reuses, copied
 * from the source run when the fork was made: the fork's fold, events and replay read only its
 * own records, so the source may be deleted later. `reused` is in the fork's declaration order.
 */
export const ForkSchema = v.strictObject({
  run_id: RunIdSchema,
  step_id: StepIdSchema,
  reused: v.array(v.strictObject({ step_id: StepIdSchema, output: v.unknown() })),
});
export type ForkOrigin = v.InferOutput<typeof ForkSchema>;

const Create = v.strictObject({
  op: v.literal("create"),
  run_id: RunIdSchema,
  principal: PrincipalSchema,
  trace_id: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
  workflow: WorkflowSchema,
  workflow_ref: v.optional(WorkflowRefSchema),
  input: v.unknown(),
  idempotency_key: v.optional(v.string()),
  /** SHA-256 of the request's canonical JSON: the same key with another body is a conflict. */
  request_hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  /** Present on a fork: its source and the succeeded steps it reuses. */
  fork: v.optional(ForkSchema),
});

const Schedule = v.strictObject({
  op: v.literal("schedule"),
  run_id: RunIdSchema,
  steps: v.pipe(v.array(StepIdSchema), v.minLength(1)),
});

const Start = v.strictObject({
  op: v.literal("start"),
  run_id: RunIdSchema,
  step_id: StepIdSchema,
  attempt: Attempt,
  /** The same attempt again after a restart of the server (same idempotency key). */
  restart: v.boolean(),
  /** Refused by the run's budget: a `fail` follows at once, and the attempt is not counted. */
  refused: v.optional(v.literal(true)),
});

/** What side effects of a step spent (charged to the run's budget and the tenant's ledgers). */
export const UsageSchema = v.strictObject({
  llm_tokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  cost_usd: v.optional(v.pipe(v.number(), v.minValue(0))),
  sandbox_cpu_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
export type Usage = v.InferOutput<typeof UsageSchema>;

/** Longest key of a journaled sub-step. */
export const NOTE_KEY_LENGTH_MAX = 256;

/**
 * A journaled sub-step of a running attempt (an agent's model turn or tool call, an item of a
 * `map`): its output is kept for the step, so a restarted or retried attempt reuses it instead
 * of doing it again.
 */
const Note = v.strictObject({
  op: v.literal("note"),
  run_id: RunIdSchema,
  step_id: StepIdSchema,
  attempt: Attempt,
  key: v.pipe(v.string(), v.minLength(1), v.maxLength(NOTE_KEY_LENGTH_MAX)),
  output: v.unknown(),
  usage: v.optional(UsageSchema),
});

const Complete = v.strictObject({
  op: v.literal("complete"),
  run_id: RunIdSchema,
  step_id: StepIdSchema,
  attempt: Attempt,
  output: v.unknown(),
  /** The pending signal a `wait` step took. */
  signal_seq: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  usage: v.optional(UsageSchema),
});

const Fail = v.strictObject({
  op: v.literal("fail"),
  run_id: RunIdSchema,
  step_id: StepIdSchema,
  attempt: Attempt,
  error: StepErrorSchema,
  /** When the next attempt may start (ms since epoch); absent: the step has failed for good. */
  retry_at_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  usage: v.optional(UsageSchema),
});

const Skip = v.strictObject({
  op: v.literal("skip"),
  run_id: RunIdSchema,
  step_id: StepIdSchema,
  reason: v.picklist(["when_false", "need_skipped"]),
});

const CancelStep = v.strictObject({
  op: v.literal("cancel_step"),
  run_id: RunIdSchema,
  step_id: StepIdSchema,
});

const Signal = v.strictObject({
  op: v.literal("signal"),
  run_id: RunIdSchema,
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  payload: v.unknown(),
});

const Finish = v.strictObject({
  op: v.literal("finish"),
  run_id: RunIdSchema,
  status: v.picklist(["succeeded", "failed", "cancelled"]),
  error: v.optional(StepErrorSchema),
});

/** A cancel with compensations: these steps' `on_cancel` run, in this order, before the end. */
const Compensate = v.strictObject({
  op: v.literal("compensate"),
  run_id: RunIdSchema,
  steps: v.pipe(v.array(StepIdSchema), v.minLength(1)),
});

/** One compensation's outcome (its output, or the error it failed with). */
const Compensated = v.strictObject({
  op: v.literal("compensated"),
  run_id: RunIdSchema,
  step_id: StepIdSchema,
  output: v.optional(v.unknown()),
  error: v.optional(StepErrorSchema),
});

/** A finished run dropped by retention: its body, events and idempotency key are gone. */
const Forget = v.strictObject({
  op: v.literal("forget"),
  run_id: RunIdSchema,
  reason: v.picklist(["retention_days", "finished_max"]),
});

export const RunRecordSchema = v.variant("op", [
  Create,
  Schedule,
  Start,
  Note,
  Complete,
  Fail,
  Skip,
  CancelStep,
  Signal,
  Finish,
  Forget,
  Compensate,
  Compensated,
]);
export type RunRecord = v.InferOutput<typeof RunRecordSchema>;
export type CreateRecord = v.InferOutput<typeof Create>;
