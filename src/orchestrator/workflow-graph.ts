/**
 * A workflow as a graph: each step's index (declaration order), its needs as indexes and its
 * topological depth (0 without needs, else one more than its deepest need). The ready order of
 * the scheduler is (depth, index). Pure; computed by the fold and by the scheduler alike.
 */
import type { StepKind, Workflow } from "./workflow-schema.ts";

/** One step of the graph. */
export interface GraphStep {
  id: string;
  kind: StepKind;
  index: number;
  needs: readonly number[];
  /** Steps that need this one. */
  dependents: readonly number[];
  depth: number;
}

/** The graph of a validated (acyclic) workflow. */
export interface WorkflowGraph {
  steps: readonly GraphStep[];
  byId: ReadonlyMap<string, number>;
}

/**
 * The graph of a workflow whose needs name known steps. A step on a cycle (which validation
 * refuses) gets depth `Infinity`, so a damaged workflow can never schedule it.
 */
export function graphOf(workflow: Workflow): WorkflowGraph {
  const byId = new Map<string, number>();
  workflow.steps.forEach((step, index) => {
    if (!byId.has(step.id)) byId.set(step.id, index);
  });
  const needs = workflow.steps.map((step) =>
    [...new Set(step.needs ?? [])].map((id) => byId.get(id)).filter((i) => i !== undefined),
  );
  const dependents: number[][] = workflow.steps.map(() => []);
  needs.forEach((list, index) => {
    for (const need of list) dependents[need]?.push(index);
  });
  const depth = depthsOf(needs, dependents);
  const steps = workflow.steps.map((step, index) => ({
    id: step.id,
    kind: step.kind,
    index,
    needs: needs[index] as number[],
    dependents: dependents[index] as number[],
    depth: depth[index] as number,
  }));
  return { steps, byId };
}

/** Longest-path depth by Kahn's algorithm; steps left over are on a cycle (Infinity). */
function depthsOf(needs: readonly number[][], dependents: readonly number[][]): number[] {
  const depth = needs.map(() => Number.POSITIVE_INFINITY);
  const missing = needs.map((list) => list.length);
  const queue: number[] = [];
  missing.forEach((count, index) => {
    if (count === 0) {
      depth[index] = 0;
      queue.push(index);
    }
  });
  for (let head = 0; head < queue.length; head++) {
    const index = queue[head] as number;
    for (const next of dependents[index] as number[]) {
      const candidate = (depth[index] as number) + 1;
      depth[next] = Number.isFinite(depth[next] as number)
        ? Math.max(depth[next] as number, candidate)
        : candidate;
      missing[next] = (missing[next] as number) - 1;
      if (missing[next] === 0) queue.push(next);
    }
  }
  // A step whose needs never all finished is on (or below) a cycle.
  missing.forEach((count, index) => {
    if (count > 0) depth[index] = Number.POSITIVE_INFINITY;
  });
  return depth;
}

/** Ready order: topological depth, then declaration order. */
export function readyOrder(a: GraphStep, b: GraphStep): number {
  return a.depth - b.depth || a.index - b.index;
}

/** Indexes of every ancestor of `index` through needs. */
export function ancestorsOf(graph: WorkflowGraph, index: number): Set<number> {
  const seen = new Set<number>();
  const stack = [...(graph.steps[index]?.needs ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as number;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.steps[next]?.needs ?? []));
  }
  return seen;
}
