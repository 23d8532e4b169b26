/**
 * Delay before a retry: 1 s doubled per attempt, capped at 60 s, with a jitter of ±10 % that is
 * a pure function of (run, step, attempt) — retries of many runs spread out, yet the same
 * failure always waits the same time, so a replayed or tested history is reproducible.
 */
import { createHash } from "node:crypto";

/** Delay before the second attempt. */
export const BACKOFF_FIRST_MS = 1000;
/** Longest delay between two attempts. */
export const BACKOFF_MAX_MS = 60_000;
/** Jitter as a fraction of the delay, either way. */
const JITTER_FRACTION = 0.1;

/** A number in [0, 1) drawn from the text's SHA-256. */
function unitOf(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Milliseconds to wait after attempt `attempt` failed, before attempt `attempt + 1`.
 *
 * @example
 * ```ts
 * backoffMs("run_…", "fetch", 1); // between 900 and 1100
 * ```
 */
export function backoffMs(runId: string, stepId: string, attempt: number): number {
  const baseMs = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt - 1, 30));
  const jitter = (unitOf(`${runId}:${stepId}:${attempt}`) * 2 - 1) * JITTER_FRACTION;
  return Math.min(BACKOFF_MAX_MS, Math.round(baseMs * (1 + jitter)));
}
