/**
 * Validation of a workflow (API.md, "Orchestrator"): its shape (workflow-schema.ts), then the
 * rules of the graph — unique ids, `needs` naming other known steps, no cycles, references
 * (`${input.…}`, `${steps.ID.output.…}` with ID upstream through needs, `${run.…}`) and
 * templates, `when` conditions in the filter grammar over the same paths, the keys of each
 * kind's `with`. Every refusal is 400 `workflow_invalid` with `details.path`, a dot path into
 * the workflow (`steps.2.needs.0`).
 */
import * as v from "valibot";
import { FILTER_LIMITS_DEFAULT, type FieldRef, prepareFilterOver } from "../context/mod.ts";
import { VltairError } from "../core/mod.ts";
import { MAP_TEMPLATE_KINDS, STEP_KIND_SPECS } from "./executors/mod.ts";
import { compileOutputSchema } from "./llm/mod.ts";
import { MAP_ROOTS, parseReference, parseTemplate, STEP_ROOTS, stringsIn } from "./template.ts";
import { ancestorsOf, graphOf, type WorkflowGraph } from "./workflow-graph.ts";
import { type StepKind, type Workflow, WorkflowSchema } from "./workflow-schema.ts";

/** A workflow ready to run: its graph and each step's `when` as a predicate over the scope. */
export interface CompiledWorkflow {
  workflow: Workflow;
  graph: WorkflowGraph;
  /** Per step (declaration order): the compiled `when`, or null when it has none. */
  when: readonly (((scope: unknown) => boolean) | null)[];
}

/** The refusal of a workflow at `path`. */
export function workflowInvalid(
  path: string,
  message: string,
  extra: Record<string, unknown> = {},
): VltairError {
  return new VltairError("workflow_invalid", `${path === "" ? "workflow" : path}: ${message}`, {
    details: { path, ...extra },
  });
}

/**
 * Validates a workflow given as JSON and compiles it.
 *
 * @example
 * ```ts
 * const compiled = validateWorkflow(JSON.parse(text), { workflowStepsMax: 200 });
 * ```
 */
export function validateWorkflow(
  input: unknown,
  limits: { workflowStepsMax: number },
): CompiledWorkflow {
  const parsed = v.safeParse(WorkflowSchema, input);
  if (!parsed.success) {
    const issue = parsed.issues[0] as v.BaseIssue<unknown>;
    throw workflowInvalid(v.getDotPath(issue) ?? "", issue.message);
  }
  const workflow = parsed.output;
  if (workflow.steps.length > limits.workflowStepsMax) {
    throw workflowInvalid("steps", `a workflow holds at most ${limits.workflowStepsMax} steps`, {
      limit: limits.workflowStepsMax,
    });
  }
  checkIds(workflow);
  const graph = graphOf(workflow);
  checkAcyclic(workflow, graph);
  workflow.steps.forEach((step, index) => {
    const upstream = upstreamIds(graph, index);
    checkWith(step, index, upstream);
    if (step.output_schema !== undefined) checkOutputSchema(step, index);
    if (step.on_cancel !== undefined) checkOnCancel(step, index, upstream);
    if (step.retry?.on_status !== undefined && step.kind !== "exec")
      throw workflowInvalid(`steps.${index}.retry.on_status`, "only exec steps take one");
    if (step.timeout_ms !== undefined && step.kind === "wait") {
      throw workflowInvalid(
        `steps.${index}.timeout_ms`,
        "a wait step takes with.timeout_ms (signal) instead",
      );
    }
  });
  return { workflow, graph, when: compileWhens(workflow, graph) };
}

/**
 * Compiles a workflow that was validated when its run was created (read back from the log):
 * the graph and the `when` predicates.
 */
export function compileWorkflow(
  workflow: Workflow,
  graph: WorkflowGraph = graphOf(workflow),
): CompiledWorkflow {
  return { workflow, graph, when: compileWhens(workflow, graph) };
}

function checkIds(workflow: Workflow): void {
  const seen = new Map<string, number>();
  workflow.steps.forEach((step, index) => {
    if (seen.has(step.id)) {
      throw workflowInvalid(
        `steps.${index}.id`,
        `duplicates the id of steps.${seen.get(step.id)}`,
        {
          id: step.id,
        },
      );
    }
    seen.set(step.id, index);
  });
  workflow.steps.forEach((step, index) => {
    const named = new Set<string>();
    (step.needs ?? []).forEach((need, n) => {
      const path = `steps.${index}.needs.${n}`;
      if (need === step.id) throw workflowInvalid(path, "a step cannot need itself");
      if (!seen.has(need)) throw workflowInvalid(path, `names no step (${need})`, { id: need });
      if (named.has(need)) throw workflowInvalid(path, `names ${need} twice`);
      named.add(need);
    });
  });
}

/** Refuses a cycle, naming one edge of it (`steps.I.needs.N`) and the steps on it. */
function checkAcyclic(workflow: Workflow, graph: WorkflowGraph): void {
  const onCycle = graph.steps.find((s) => !Number.isFinite(s.depth));
  if (onCycle === undefined) return;
  // Walk needs among the steps left over until one repeats: that loop is a cycle.
  const path: number[] = [];
  const position = new Map<number, number>();
  let current = onCycle.index;
  while (!position.has(current)) {
    position.set(current, path.length);
    path.push(current);
    const next = graph.steps[current]?.needs.find(
      (n) => !Number.isFinite(graph.steps[n]?.depth as number),
    );
    current = next as number;
  }
  const cycle = path.slice(position.get(current));
  const from = cycle[0] as number;
  const to = cycle[1 % cycle.length] as number;
  const needIndex = (workflow.steps[from]?.needs ?? []).indexOf(graph.steps[to]?.id as string);
  throw workflowInvalid(`steps.${from}.needs.${needIndex}`, "makes a cycle", {
    cycle: [...cycle, from].map((i) => graph.steps[i]?.id),
  });
}

function upstreamIds(graph: WorkflowGraph, index: number): Set<string> {
  return new Set([...ancestorsOf(graph, index)].map((i) => graph.steps[i]?.id as string));
}

/** Why a reference's step is not usable from here, or null when it is. */
function upstreamProblem(
  path: readonly string[],
  upstream: ReadonlySet<string>,
  self: string,
): string | null {
  const id = path[0] as string;
  if (upstream.has(id)) return null;
  if (id === self) return "a step cannot read its own output";
  return `steps.${id} is not upstream of ${self} (name it in needs, directly or through another step)`;
}

function checkWith(
  step: Workflow["steps"][number],
  index: number,
  upstream: ReadonlySet<string>,
): void {
  const base = `steps.${index}.with`;
  checkKeys(step.kind, step.with ?? {}, base);
  const template = step.kind === "map" ? mapTemplateOf(step.with ?? {}, base) : null;
  if (template !== null) checkKeys(template.kind, template.with, `${base}.step.with`);
  for (const { text, path } of stringsIn(step.with ?? {}, base)) {
    if (!text.includes("${")) continue;
    const inTemplate = template !== null && path.startsWith(`${base}.step.with.`);
    const parts = parseTemplate(text, inTemplate ? MAP_ROOTS : STEP_ROOTS);
    if (typeof parts === "string") throw workflowInvalid(path, parts);
    for (const part of parts) {
      if (!("ref" in part) || part.ref.root !== "steps") continue;
      const problem = upstreamProblem(part.ref.path, upstream, step.id);
      if (problem !== null) throw workflowInvalid(path, problem, { reference: part.ref.text });
    }
  }
}

/**
 * An `on_cancel` compensation: its inputs fit its kind, and its references name upstream steps
 * or the step itself (undoing a step usually needs what the step output).
 */
function checkOnCancel(
  step: Workflow["steps"][number],
  index: number,
  upstream: ReadonlySet<string>,
): void {
  const template = step.on_cancel as NonNullable<Workflow["steps"][number]["on_cancel"]>;
  const base = `steps.${index}.on_cancel.with`;
  checkKeys(template.kind, template.with ?? {}, base);
  const reachable = new Set([...upstream, step.id]);
  for (const { text, path } of stringsIn(template.with ?? {}, base)) {
    if (!text.includes("${")) continue;
    const parts = parseTemplate(text, STEP_ROOTS);
    if (typeof parts === "string") throw workflowInvalid(path, parts);
    for (const part of parts) {
      if (!("ref" in part) || part.ref.root !== "steps") continue;
      const problem = upstreamProblem(part.ref.path, reachable, `${step.id}'s on_cancel`);
      if (problem !== null) throw workflowInvalid(path, problem, { reference: part.ref.text });
    }
  }
}

/** `output_schema` only on model steps, and a schema Ajv compiles. */
function checkOutputSchema(step: Workflow["steps"][number], index: number): void {
  const path = `steps.${index}.output_schema`;
  if (step.kind !== "llm" && step.kind !== "agent")
    throw workflowInvalid(path, "only llm and agent steps take one");
  try {
    compileOutputSchema(step.output_schema as object);
  } catch (error) {
    throw workflowInvalid(path, `is not a JSON Schema: ${(error as Error).message}`);
  }
}

/** Refuses a key of `with` that `kind` does not take. */
function checkKeys(kind: StepKind, input: Record<string, unknown>, base: string): void {
  const spec = STEP_KIND_SPECS[kind];
  for (const key of Object.keys(input)) {
    if (!spec.withKeys.includes(key)) {
      throw workflowInvalid(
        `${base}.${key}`,
        `is not an input of ${kind} (${spec.withKeys.join(", ")})`,
      );
    }
  }
}

/** A map's template (`with.step`): its kind must be one a map runs, its `with` an object. */
function mapTemplateOf(
  input: Record<string, unknown>,
  base: string,
): { kind: StepKind; with: Record<string, unknown> } {
  const step = input.step;
  if (step === null || typeof step !== "object" || Array.isArray(step))
    throw workflowInvalid(`${base}.step`, "must be a step template {kind, with?}");
  const { kind, with: inner = {} } = step as { kind?: unknown; with?: unknown };
  if (!(MAP_TEMPLATE_KINDS as readonly unknown[]).includes(kind))
    throw workflowInvalid(`${base}.step.kind`, `must be one of ${MAP_TEMPLATE_KINDS.join(", ")}`);
  if (inner === null || typeof inner !== "object" || Array.isArray(inner))
    throw workflowInvalid(`${base}.step.with`, "must be a JSON object");
  return { kind: kind as StepKind, with: inner as Record<string, unknown> };
}

/** `$.and[1].field` (the filter parser's path) as a dot path below `base`. */
function filterPath(base: string, jsonPath: unknown): string {
  const rest = String(jsonPath ?? "$")
    .replace(/^\$/, "")
    .replace(/\[(\d+)\]/g, ".$1");
  return `${base}${rest}`;
}

function compileWhens(workflow: Workflow, graph: WorkflowGraph): CompiledWorkflow["when"] {
  return workflow.steps.map((step, index) => {
    if (step.when === undefined) return null;
    const upstream = upstreamIds(graph, index);
    const fields = (field: string): FieldRef | string => {
      const ref = parseReference(field);
      if (typeof ref === "string") return ref;
      const problem = ref.root === "steps" ? upstreamProblem(ref.path, upstream, step.id) : null;
      return problem ?? { kind: "path", path: [ref.root, ...ref.path] };
    };
    try {
      return prepareFilterOver(step.when, FILTER_LIMITS_DEFAULT, fields).predicate;
    } catch (error) {
      if (!(error instanceof VltairError) || error.code !== "filters_invalid") throw error;
      const message = error.message.replace(/^\S+: /, "");
      throw workflowInvalid(filterPath(`steps.${index}.when`, error.details.path), message);
    }
  });
}
