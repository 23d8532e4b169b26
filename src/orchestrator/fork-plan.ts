/**
 * Which steps a fork reuses (`POST /v1/runs/{id}:fork`, docs/orchestrator.md "Forking a run"):
 * a step of the source that succeeded (its output is in the log) and is neither `from_step` nor
 * downstream of it — in the source's graph or in the fork's — and all of whose upstream steps in
 * the fork's graph are reused too (a step is never reused over an upstream that runs again, or
 * that was skipped and is evaluated again). Everything else runs (or is skipped) again in the
 * fork. Pure: the source's state and the fork's compiled workflow in, the `fork` field of the
 * fork's `create` record out.
 */
import { VltairError } from "../core/mod.ts";
import type { ForkOrigin } from "./run-record.ts";
import type { RunState } from "./run-state.ts";
import type { CompiledWorkflow } from "./validate-workflow.ts";
import { workflowInvalid } from "./validate-workflow.ts";
import { type GraphStep, readyOrder, type WorkflowGraph } from "./workflow-graph.ts";

/** `from` and every step downstream of it (through `needs`), by id. */
function downstreamIds(graph: WorkflowGraph, from: string): Set<string> {
  const out = new Set<string>();
  const start = graph.byId.get(from);
  const stack = start === undefined ? [] : [start];
  while (stack.length > 0) {
    const index = stack.pop() as number;
    const step = graph.steps[index] as GraphStep;
    if (out.has(step.id)) continue;
    out.add(step.id);
    stack.push(...step.dependents);
  }
  return out;
}

function fromStepUnknown(fromStep: string, where: string): VltairError {
  return new VltairError("validation_failed", `from_step: ${where} has no step ${fromStep}`, {
    details: { field: "from_step", step_id: fromStep },
  });
}

/**
 * The reuse of a fork of `source` from `fromStep` whose workflow is `fork`. 400
 * `validation_failed` (field `from_step`) when either workflow lacks `fromStep`; 400
 * `workflow_invalid` (path `steps` or `steps.N.kind`) when a step the source completed that is
 * not downstream of `fromStep` is missing from the fork's workflow or has another kind there.
 *
 * @example
 * ```ts
 * const fork = forkReuse(sourceRun, "test", compiled); // {run_id, step_id, reused: [...]}
 * ```
 */
export function forkReuse(source: RunState, fromStep: string, fork: CompiledWorkflow): ForkOrigin {
  if (!source.graph.byId.has(fromStep)) throw fromStepUnknown(fromStep, "the source run");
  if (!fork.graph.byId.has(fromStep)) throw fromStepUnknown(fromStep, "the fork's workflow");
  const rerun = new Set([
    ...downstreamIds(source.graph, fromStep),
    ...downstreamIds(fork.graph, fromStep),
  ]);
  const completed = new Map<string, unknown>();
  for (const step of source.steps) {
    const g = source.graph.steps[step.index] as GraphStep;
    if (step.status !== "succeeded" || rerun.has(g.id)) continue;
    checkKept(g, fork);
    completed.set(g.id, step.output);
  }
  const reused = new Set<string>();
  // In ready order, every upstream step is decided before the steps that need it.
  for (const g of [...fork.graph.steps].sort(readyOrder)) {
    const upstreamReused = g.needs.every((n) => reused.has(fork.graph.steps[n]?.id as string));
    if (completed.has(g.id) && upstreamReused) reused.add(g.id);
  }
  return {
    run_id: source.id,
    step_id: fromStep,
    reused: fork.graph.steps
      .filter((g) => reused.has(g.id))
      .map((g) => ({ step_id: g.id, output: completed.get(g.id) })),
  };
}

/** A completed step outside `from_step`'s downstream must be in the fork's workflow, same kind. */
function checkKept(step: GraphStep, fork: CompiledWorkflow): void {
  const index = fork.graph.byId.get(step.id);
  if (index === undefined) {
    throw workflowInvalid(
      "steps",
      `has no step ${step.id}, which the source run completed and is not downstream of from_step (fork from it, or keep it)`,
      { step_id: step.id },
    );
  }
  const kind = fork.graph.steps[index]?.kind;
  if (kind !== step.kind) {
    throw workflowInvalid(
      `steps.${index}.kind`,
      `is ${kind}, but the source run completed ${step.id} as ${step.kind} (fork from it to change it)`,
      { step_id: step.id },
    );
  }
}
