/**
 * How a step fails: an error as data (`{code, message, details?}`, recorded in the log) and
 * whether another attempt may help. Executors throw {@link StepFailure} for failures of their
 * own kind; a `VltairError` of a service keeps its code; anything else is a bug (`internal`).
 */
import * as v from "valibot";
import { type ErrorCode, VltairError } from "../core/mod.ts";

/** A step's error as the run body, the events and the log hold it. */
export const StepErrorSchema = v.object({
  code: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  message: v.string(),
  details: v.optional(v.record(v.string(), v.unknown())),
});
export type StepError = v.InferOutput<typeof StepErrorSchema>;

/** Codes of failures that belong to steps rather than to an HTTP request. */
export const STEP_ERROR_CODES = [
  "step_timeout",
  "wait_timeout",
  "reference_unresolved",
  "echo_failed",
  "sandbox_denied",
  "sandbox_internal_error",
  "budget_exceeded",
  "map_item_invalid",
  "llm_provider_unknown",
  "llm_model_denied",
  "llm_unreachable",
  "llm_timeout",
  "llm_status",
  "llm_bad_response",
  "llm_output_invalid",
  "agent_turns_exhausted",
  "exec_output_invalid",
  "exec_status",
  "run_timeout",
  "history_limit",
  "http_host_denied",
  "http_unreachable",
  "http_timeout",
  "http_status",
  "http_response_too_large",
  "http_response_invalid",
] as const;
export type StepErrorCode = (typeof STEP_ERROR_CODES)[number];

/** Service codes worth another attempt: the dependency may be back, the queue may drain. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "unavailable",
  "queue_full",
  "rate_limited",
  "deadline_exceeded",
  "embedding_unavailable",
]);

/** A failure of a step, thrown by executors and by reference resolution. */
export class StepFailure extends Error {
  readonly code: StepErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(
    code: StepErrorCode,
    message: string,
    options: { retryable: boolean; details?: Record<string, unknown> },
  ) {
    super(message);
    this.name = "StepFailure";
    this.code = code;
    this.retryable = options.retryable;
    this.details = options.details;
  }
}

/**
 * The recorded error and retryability of anything an attempt threw. Unknown errors are bugs:
 * recorded as `internal` without their text (it may hold anything), never retried.
 */
export function stepErrorOf(error: unknown): { error: StepError; retryable: boolean } {
  if (error instanceof StepFailure) {
    const out: StepError = { code: error.code, message: error.message };
    if (error.details !== undefined) out.details = error.details;
    return { error: out, retryable: error.retryable };
  }
  if (error instanceof VltairError) {
    const out: StepError = { code: error.code, message: error.message };
    if (Object.keys(error.details).length > 0) out.details = error.details;
    return { error: out, retryable: RETRYABLE_CODES.has(error.code) };
  }
  return {
    error: { code: "internal", message: "the step failed with an internal error" },
    retryable: false,
  };
}
