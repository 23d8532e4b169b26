/**
 * Limits of the orchestrator, each with its default, bounds and reason. Configurable through
 * the `orchestrator_limits` option (snake_case keys); crossing one is a 4xx with a stable code.
 */
import { LimitTable } from "../core/mod.ts";

export interface OrchestratorLimits {
  /** Runs executing at once (admitted, not terminal, not waiting); more wait as `queued`. */
  runsActiveMax: number;
  /** Steps executing at once over every run (waiting steps hold no slot). */
  stepsRunningMax: number;
  /** Runs waiting for admission; past it `POST /v1/runs` is 429 `queue_full`. */
  runsQueuedMax: number;
  /** Steps of one workflow. */
  workflowStepsMax: number;
  /** Signals kept for a run that no step has taken yet; past it `:signal` is 429 `queue_full`. */
  signalsPendingMax: number;
  /** Stored versions of one workflow name. */
  workflowVersionsMax: number;
  /** Events of one run; a transition past it fails the run with `history_limit`. */
  runEventsMax: number;
  /** Bytes of one run's records (JSON); a transition past it fails the run with `history_limit`. */
  runHistoryBytesMax: number;
  /** Days a finished run is kept; 0 keeps finished runs until `runsFinishedMax` removes them. */
  runsRetentionDays: number;
  /** Finished runs kept; past it the oldest finished ones are forgotten. */
  runsFinishedMax: number;
  /** Bytes of one `http` step's response body; a longer one fails the step. */
  httpResponseBytesMax: number;
  /** Timeout of an `http` step's fetch when its `with.timeout_ms` is absent. */
  httpTimeoutMsDefault: number;
}

/** Default, bounds, unit and reason of each orchestrator limit (docs/configuration.md is checked against it). */
export const ORCHESTRATOR_LIMITS = new LimitTable<keyof OrchestratorLimits>("orchestrator_limits", {
  runsActiveMax: {
    default: 256,
    min: 1,
    max: 100_000,
    unit: "runs",
    reason:
      "runs executing at once (waiting runs hold no slot); more wait as `queued` in creation order",
  },
  stepsRunningMax: {
    default: 64,
    min: 1,
    max: 10_000,
    unit: "steps",
    reason: "steps executing at once over every run; each holds memory and, later, a sandbox slot",
  },
  runsQueuedMax: {
    default: 10_000,
    min: 0,
    max: 1_000_000,
    unit: "runs",
    reason:
      "runs waiting for admission; past it `POST /v1/runs` is 429 `queue_full` with Retry-After",
  },
  workflowStepsMax: {
    default: 200,
    min: 1,
    max: 10_000,
    unit: "steps",
    reason:
      "steps of one workflow (400 `workflow_invalid`); every transition plans over all of them",
  },
  signalsPendingMax: {
    default: 1000,
    min: 1,
    max: 100_000,
    unit: "signals",
    reason: "signals kept for a run until a step takes them; past it `:signal` is 429 `queue_full`",
  },
  workflowVersionsMax: {
    default: 1000,
    min: 1,
    max: 100_000,
    unit: "versions",
    reason: "stored versions of one workflow name (429 `rate_limited` past it); each is kept whole",
  },
  runEventsMax: {
    default: 10_000,
    min: 10,
    max: 1_000_000,
    unit: "events",
    reason:
      "events of one run (every step, retry, journal entry); a run past it fails with `history_limit` instead of growing memory and replay time without bound",
  },
  runHistoryBytesMax: {
    default: 64 * 1024 * 1024,
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
    unit: "bytes",
    reason:
      "bytes of one run's records (outputs, journal entries) kept in memory and replayed; past it the run fails with `history_limit`",
  },
  runsRetentionDays: {
    default: 30,
    min: 0,
    max: 3650,
    unit: "days",
    reason:
      "days a finished run stays readable (its body, events, replay); then a `forget` record drops it. 0: kept until `runs_finished_max`",
  },
  runsFinishedMax: {
    default: 100_000,
    min: 1,
    max: 10_000_000,
    unit: "runs",
    reason:
      "finished runs kept in memory and snapshots; past it the oldest finished ones are forgotten (a run's journal costs a few KiB)",
  },
  httpResponseBytesMax: {
    default: 1_048_576,
    min: 1024,
    max: 16_777_216,
    unit: "bytes",
    reason:
      "response body of one `http` step (`http_response_too_large` past it); it is held in memory and journaled as the step's output",
  },
  httpTimeoutMsDefault: {
    default: 30_000,
    min: 1,
    max: 86_400_000,
    unit: "ms",
    reason:
      "an `http` step's fetch without `with.timeout_ms` fails `http_timeout` (retryable) past it",
  },
});

/** Limits with defaults applied; throws `config_invalid` naming the key for an out-of-range value. */
export function resolveOrchestratorLimits(
  partial: Partial<OrchestratorLimits> = {},
): OrchestratorLimits {
  return ORCHESTRATOR_LIMITS.resolve(partial);
}
