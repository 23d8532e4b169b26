/**
 * A run's events (API.md, "Orchestrator"): each is derived by the fold from one record, so the
 * stream is a pure function of the run's records. `seq` starts at 1 and is consecutive per run;
 * `ts` is the wall time of the record that made the event. Live `/events` and `/replay` render
 * through {@link sseFrame}, so they are equal byte for byte.
 */
import type { StepError } from "./step-error.ts";

export const EVENT_TYPES = [
  "run.created",
  "step.scheduled",
  "step.started",
  "step.retrying",
  "step.journaled",
  "step.completed",
  "step.failed",
  "step.skipped",
  "step.cancelled",
  "run.waiting",
  "run.signaled",
  "run.cancelling",
  "step.compensated",
  "budget.charged",
  "run.succeeded",
  "run.failed",
  "run.cancelled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What the fold derives from a record, before it is numbered. */
export interface EventDraft {
  type: EventType;
  stepId?: string;
  attempt?: number;
  output?: unknown;
  error?: StepError;
}

/** A numbered event of a run. */
export interface RunEvent extends EventDraft {
  seq: number;
  /** Wall time of the record (ms since epoch). */
  tsMs: number;
  /** Index of the record that made it (`/replay?at_wal_index=N` keeps those at or before N). */
  walIndex: number;
}

/** The event's `data`, keys in the documented order. */
export function eventData(runId: string, event: RunEvent): Record<string, unknown> {
  const data: Record<string, unknown> = {
    run_id: runId,
    seq: event.seq,
    type: event.type,
    ts: new Date(event.tsMs).toISOString(),
  };
  if (event.stepId !== undefined) data.step_id = event.stepId;
  if (event.attempt !== undefined) data.attempt = event.attempt;
  if (event.output !== undefined) data.output = event.output;
  if (event.error !== undefined) data.error = event.error;
  return data;
}

/** One server-sent event: `id`, `event` (the type) and the JSON `data` on one line. */
export function sseFrame(runId: string, event: RunEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(eventData(runId, event))}\n\n`;
}

/** True for the event that ends a run's stream. */
export function isTerminalEvent(event: RunEvent): boolean {
  return (
    event.type === "run.succeeded" || event.type === "run.failed" || event.type === "run.cancelled"
  );
}
