/** A run as `GET /v1/runs/{id}` shows it, and as `GET /v1/runs` lists it. */
import type { RunSummary, RunView } from "./run-schemas.ts";
import { isReused, type RunState } from "./run-state.ts";
import type { RunEntry } from "./runs-machine.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** The run body. */
export function runView(entry: Pick<RunEntry, "run">): RunView {
  const run = entry.run;
  const view: RunView = {
    run_id: run.id,
    status: run.status,
    workflow: run.workflow.name ?? null,
    workflow_version: run.workflowRef?.version ?? null,
    input: run.input,
    steps: run.steps.map((step) => {
      const g = run.graph.steps[step.index] as RunState["graph"]["steps"][number];
      const out: RunView["steps"][number] = {
        id: g.id,
        kind: g.kind,
        state: step.status,
        attempts: step.attempts.map((a) => {
          const attempt: RunView["steps"][number]["attempts"][number] = {
            n: a.n,
            started_at: iso(a.startedAtMs),
            ended_at: a.endedAtMs === null ? null : iso(a.endedAtMs),
            restarts: a.restarts,
          };
          if (a.error !== null) attempt.error = a.error;
          return attempt;
        }),
      };
      if (step.status === "succeeded") out.output = step.output;
      if (step.error !== null) out.error = step.error;
      if (step.retryAtMs !== null && step.status === "pending") out.retry_at = iso(step.retryAtMs);
      if (step.notes.size > 0)
        out.journal = [...step.notes].map(([key, output]) => ({ key, output }));
      if (isReused(run, step)) out.reused_from = run.forkedFrom?.runId as string;
      return out;
    }),
    signals_pending: run.signals.length,
    budget: { limits: run.workflow.budget ?? {}, used: { ...run.used } },
    created_at: iso(run.createdAtMs),
    updated_at: iso(run.updatedAtMs),
    ended_at: run.endedAtMs === null ? null : iso(run.endedAtMs),
    trace_id: run.traceId,
    wal_index: run.lastWalIndex,
  };
  if (run.error !== null) view.error = run.error;
  if (run.forkedFrom !== null)
    view.forked_from = { run_id: run.forkedFrom.runId, step_id: run.forkedFrom.stepId };
  return view;
}

/** The run as a list shows it. */
export function runSummary(run: RunState): RunSummary {
  return {
    run_id: run.id,
    status: run.status,
    workflow: run.workflow.name ?? null,
    created_at: iso(run.createdAtMs),
    updated_at: iso(run.updatedAtMs),
    ended_at: run.endedAtMs === null ? null : iso(run.endedAtMs),
  };
}
