/**
 * The orchestrator's metrics: runs by outcome, step durations by kind and outcome, retries, and
 * the depth of its queues (runs waiting for admission, steps waiting for a slot).
 */
import type { Counter, Histogram, MetricsRegistry } from "../obs/mod.ts";

/** Upper bounds of the step duration histogram, in seconds (1 ms … 1 h). */
const STEP_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600];

/** The handles the driver records into; no-ops until registered. */
export interface RunMetrics {
  runsCreated: Counter;
  runsFinished: Counter;
  stepDuration: Histogram;
  retries: Counter;
}

export const NO_RUN_METRICS: RunMetrics = {
  runsCreated: { inc: () => undefined },
  runsFinished: { inc: () => undefined },
  stepDuration: { observe: () => undefined },
  retries: { inc: () => undefined },
};

/** Gauges read when `/metrics` renders. */
export interface RunGauges {
  runsActive(): number;
  runsQueued(): number;
  stepsRunning(): number;
  stepsQueued(): number;
}

/** Registers the orchestrator's metrics and returns the handles. */
export function registerRunMetrics(registry: MetricsRegistry, gauges: RunGauges): RunMetrics {
  registry.gauge(
    "vltair_runs_active",
    "Runs executing now (admitted, not waiting, not ended).",
    gauges.runsActive,
  );
  registry.gauge(
    "vltair_runs_queued",
    "Runs waiting for admission (runs_active_max).",
    gauges.runsQueued,
  );
  registry.gauge(
    "vltair_steps_running",
    "Step attempts holding a slot (steps_running_max).",
    gauges.stepsRunning,
  );
  registry.gauge(
    "vltair_steps_queued",
    "Runs with a scheduled step waiting for a slot.",
    gauges.stepsQueued,
  );
  return {
    runsCreated: registry.counter("vltair_runs_created_total", "Runs created."),
    runsFinished: registry.counter(
      "vltair_runs_finished_total",
      "Runs ended, by status (succeeded, failed, cancelled).",
    ),
    stepDuration: registry.histogram(
      "vltair_step_duration_seconds",
      "Duration of step attempts, by kind and outcome (succeeded, failed, retrying), in seconds.",
      STEP_SECONDS_BUCKETS,
    ),
    retries: registry.counter(
      "vltair_step_retries_total",
      "Step attempts that failed and will be tried again, by kind.",
    ),
  };
}
