/**
 * Retention of finished runs: which ones to forget now — those that ended more than
 * `runs_retention_days` ago, then the oldest beyond `runs_finished_max` — as `forget` records.
 * Pure: the caller gives the state and the time, and commits what it gets (a bounded batch; the
 * next sweep takes the rest).
 */
import type { RunRecord } from "./run-record.ts";
import { isTerminal } from "./run-state.ts";
import { briefOf, type RunsState } from "./runs-machine.ts";

/** `forget` records one sweep commits at most. */
export const FORGET_BATCH_MAX = 1000;

const DAY_MS = 86_400_000;

/** The finished runs to forget now, oldest first, at most {@link FORGET_BATCH_MAX}. */
export function runsToForget(
  state: RunsState,
  nowMs: number,
  limits: { runsRetentionDays: number; runsFinishedMax: number },
): Extract<RunRecord, { op: "forget" }>[] {
  const finished: { id: string; endedAtMs: number }[] = [];
  for (const [id, entry] of state.runs) {
    const brief = briefOf(entry);
    if (isTerminal(brief.status)) finished.push({ id, endedAtMs: brief.endedAtMs ?? 0 });
  }
  // Creation order is the map's order; retention goes by end time.
  finished.sort((a, b) => a.endedAtMs - b.endedAtMs);
  const out: Extract<RunRecord, { op: "forget" }>[] = [];
  const cutoff =
    limits.runsRetentionDays === 0 ? -Infinity : nowMs - limits.runsRetentionDays * DAY_MS;
  let kept = finished.length;
  for (const run of finished) {
    if (out.length === FORGET_BATCH_MAX) break;
    if (run.endedAtMs < cutoff)
      out.push({ op: "forget", run_id: run.id, reason: "retention_days" });
    else if (kept > limits.runsFinishedMax)
      out.push({ op: "forget", run_id: run.id, reason: "finished_max" });
    else break;
    kept -= 1;
  }
  return out;
}
