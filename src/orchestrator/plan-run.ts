/**
 * The scheduler's decisions as a pure function of a run's state: which ready steps are skipped
 * (a `when` that is false, or a need that was skipped) or scheduled, in the ready order
 * (topological depth, then declaration order), and when the run ends. Starting a scheduled
 * step also needs a free slot, which the driver decides (run-driver.ts).
 */
import { foldRun } from "./run-fold.ts";
import type { RunRecord } from "./run-record.ts";
import { isStepDone, isTerminal, type RunState, type StepState, scopeOf } from "./run-state.ts";
import type { CompiledWorkflow } from "./validate-workflow.ts";
import { readyOrder } from "./workflow-graph.ts";

type Decision = Exclude<RunRecord, { op: "create" }>;

/** `run` with `records` folded in (planning ahead of a commit). */
export function foldAhead(run: RunState, records: readonly RunRecord[]): RunState {
  let next = run;
  const meta = { walIndex: run.lastWalIndex, wallMs: run.updatedAtMs };
  for (const record of records) next = foldRun(next, record, meta).run ?? next;
  return next;
}

function isReady(run: RunState, step: StepState): boolean {
  if (step.status !== "pending" || step.scheduled) return false;
  const needs = run.graph.steps[step.index]?.needs ?? [];
  return needs.every((n) => {
    const status = run.steps[n]?.status;
    return status === "succeeded" || status === "skipped";
  });
}

/** The end of a run one of whose steps failed: every other unfinished step is cancelled. */
function failRun(run: RunState, failed: StepState): Decision[] {
  const runId = run.id;
  const out: Decision[] = [];
  for (const step of run.steps) {
    if (!isStepDone(step.status))
      out.push({ op: "cancel_step", run_id: runId, step_id: idOf(run, step) });
  }
  const id = idOf(run, failed);
  const error = failed.error ?? { code: "internal", message: "the step failed" };
  out.push({
    op: "finish",
    run_id: runId,
    status: "failed",
    error: {
      code: error.code,
      message: `step ${id} failed: ${error.message}`,
      details: { step_id: id },
    },
  });
  return out;
}

function idOf(run: RunState, step: StepState): string {
  return run.graph.steps[step.index]?.id as string;
}

/**
 * The records that follow from `run` now: skips and one `schedule` of the steps that became
 * ready (each skip may make more steps ready), or the run's end. `admit` says the run may leave
 * the admission queue (a run not admitted yet gets nothing otherwise).
 *
 * @example
 * ```ts
 * const records = planRun(run, compiled, { admit: true });
 * ```
 */
export function planRun(
  run: RunState,
  compiled: CompiledWorkflow,
  options: { admit: boolean },
): Decision[] {
  if (isTerminal(run.status) || (!run.admitted && !options.admit)) return [];
  // Cancelled with compensations: nothing is scheduled; the run ends once they all ran.
  if (run.compensations !== null) {
    return run.compensations.every((c) => c.done)
      ? [{ op: "finish", run_id: run.id, status: "cancelled" }]
      : [];
  }
  const failed = run.steps.find((s) => s.status === "failed");
  if (failed !== undefined) return failRun(run, failed);
  const out: Decision[] = [];
  const scheduled: string[] = [];
  let current = run;
  for (;;) {
    const ready = current.steps
      .filter((s) => isReady(current, s) && !scheduled.includes(idOf(current, s)))
      .map((s) => current.graph.steps[s.index])
      .filter((g) => g !== undefined)
      .sort(readyOrder);
    const skips: Decision[] = [];
    for (const step of ready) {
      const skipped = step.needs.some((n) => current.steps[n]?.status === "skipped");
      const when = compiled.when[step.index] ?? null;
      if (skipped)
        skips.push({ op: "skip", run_id: run.id, step_id: step.id, reason: "need_skipped" });
      else if (when !== null && !when(scopeOf(current))) {
        skips.push({ op: "skip", run_id: run.id, step_id: step.id, reason: "when_false" });
      } else scheduled.push(step.id);
    }
    if (skips.length === 0) break;
    out.push(...skips);
    current = foldAhead(current, skips);
  }
  if (scheduled.length > 0) out.push({ op: "schedule", run_id: run.id, steps: scheduled });
  else if (current.steps.every((s) => s.status === "succeeded" || s.status === "skipped")) {
    out.push({ op: "finish", run_id: run.id, status: "succeeded" });
  }
  return out;
}

/**
 * Steps that may start now, in ready order: scheduled and pending, with no retry delay left.
 */
export function startable(run: RunState, nowMs: number): StepState[] {
  return run.graph.steps
    .filter((g) => {
      const s = run.steps[g.index];
      return (
        s?.status === "pending" && s.scheduled && (s.retryAtMs === null || s.retryAtMs <= nowMs)
      );
    })
    .sort(readyOrder)
    .map((g) => run.steps[g.index] as StepState);
}
