/**
 * Which steps a fork reuses (fork-plan.ts), on source runs folded from records: succeeded steps
 * not downstream of `from_step` (in either workflow) whose upstream steps in the fork's workflow
 * are all reused; never a skipped, failed or running step, nor one over such a step. The fork's
 * `create` record then folds to those steps succeeded without attempts, and its events.
 */
import { describe, expect, test } from "bun:test";
import { forkReuse } from "../../../src/orchestrator/fork-plan.ts";
import { resolveOrchestratorLimits, validateWorkflow } from "../../../src/orchestrator/mod.ts";
import { foldRun } from "../../../src/orchestrator/run-fold.ts";
import type { CreateRecord, RunRecord } from "../../../src/orchestrator/run-record.ts";
import type { RunState } from "../../../src/orchestrator/run-state.ts";

const LIMITS = resolveOrchestratorLimits();
const SOURCE = `run_${"1".repeat(28)}`;
const FORK = `run_${"2".repeat(28)}`;

type Outcome = "succeeded" | "skipped" | "failed" | "running" | "pending";
type Steps = [id: string, needs: string[], outcome: Outcome][];

const workflowOf = (steps: Steps) => ({
  steps: steps.map(([id, needs]) => ({ id, kind: "echo" as const, needs })),
});

function createOf(runId: string, steps: Steps, fork?: CreateRecord["fork"]): CreateRecord {
  const create: CreateRecord = {
    op: "create",
    run_id: runId,
    principal: { subject: "t", tenant: "t", roles: ["writer"], token_id: null },
    trace_id: "0".repeat(32),
    workflow: validateWorkflow(workflowOf(steps), LIMITS).workflow,
    input: {},
    request_hash: "0".repeat(64),
  };
  if (fork !== undefined) create.fork = fork;
  return create;
}

/** The records that bring one step to `outcome` (its output is `out-ID`). */
function recordsOf(id: string, outcome: Outcome): RunRecord[] {
  const base = { run_id: SOURCE, step_id: id };
  const started: RunRecord[] = [
    { op: "schedule", run_id: SOURCE, steps: [id] },
    { op: "start", ...base, attempt: 1, restart: false },
  ];
  switch (outcome) {
    case "succeeded":
      return [...started, { op: "complete", ...base, attempt: 1, output: `out-${id}` }];
    case "failed":
      return [...started, { op: "fail", ...base, attempt: 1, error: { code: "x", message: "x" } }];
    case "running":
      return started;
    case "skipped":
      return [{ op: "skip", ...base, reason: "when_false" }];
    case "pending":
      return [];
  }
}

/** A source run whose steps stand as `steps` says. */
function sourceRun(steps: Steps): RunState {
  const records = [createOf(SOURCE, steps), ...steps.flatMap(([id, , o]) => recordsOf(id, o))];
  let run: RunState | undefined;
  records.forEach((body, i) => {
    run = foldRun(run, body, { walIndex: i + 1, wallMs: 1_000 + i }).run;
  });
  return run as RunState;
}

const cases: [string, Steps, Steps | null, string, string[]][] = [
  [
    "a chain: what is upstream",
    [
      ["a", [], "succeeded"],
      ["b", ["a"], "succeeded"],
      ["c", ["b"], "succeeded"],
    ],
    null,
    "b",
    ["a"],
  ],
  [
    "a diamond: the other branch too",
    [
      ["a", [], "succeeded"],
      ["b", ["a"], "succeeded"],
      ["c", ["a"], "succeeded"],
      ["d", ["b", "c"], "succeeded"],
    ],
    null,
    "c",
    ["a", "b"],
  ],
  [
    "not over a skipped step (its when is evaluated again)",
    [
      ["a", [], "succeeded"],
      ["s", ["a"], "skipped"],
      ["x", ["s"], "succeeded"],
      ["y", ["x"], "failed"],
    ],
    null,
    "y",
    ["a"],
  ],
  [
    "not a running or pending step of an unfinished source",
    [
      ["a", [], "succeeded"],
      ["b", ["a"], "running"],
      ["c", ["a"], "pending"],
      ["d", ["c"], "pending"],
    ],
    null,
    "d",
    ["a"],
  ],
  [
    "not a step the fork's workflow puts downstream",
    [
      ["a", [], "succeeded"],
      ["f", ["a"], "succeeded"],
      ["b", ["a"], "succeeded"],
    ],
    [
      ["a", [], "pending"],
      ["f", ["a"], "pending"],
      ["b", ["f"], "pending"],
    ],
    "f",
    ["a"],
  ],
  [
    "not a step that was downstream in the source",
    [
      ["a", [], "succeeded"],
      ["f", ["a"], "succeeded"],
      ["b", ["f"], "succeeded"],
    ],
    [
      ["a", [], "pending"],
      ["f", ["a"], "pending"],
      ["b", [], "pending"],
    ],
    "f",
    ["a"],
  ],
  [
    "not a step over a new step",
    [
      ["a", [], "succeeded"],
      ["b", ["a"], "succeeded"],
      ["f", ["b"], "succeeded"],
    ],
    [
      ["a", [], "pending"],
      ["new", [], "pending"],
      ["b", ["a", "new"], "pending"],
      ["f", ["b"], "pending"],
    ],
    "f",
    ["a"],
  ],
];

describe("forkReuse", () => {
  test.each(cases)("%s", (_, source, forkSteps, from, reused) => {
    const run = sourceRun(source);
    const compiled = validateWorkflow(workflowOf(forkSteps ?? source), LIMITS);
    const fork = forkReuse(run, from, compiled);
    expect(fork.reused.map((r) => r.step_id)).toEqual(reused);
    expect(fork.reused.map((r) => r.output)).toEqual(reused.map((id) => `out-${id}`));
    // Folded, the fork's create record makes exactly those steps succeeded without attempts.
    const created = foldRun(undefined, createOf(FORK, forkSteps ?? source, fork), {
      walIndex: 1,
      wallMs: 5,
    });
    const states = created.run?.steps.map((s) => s.status);
    expect(states).toEqual(
      compiled.graph.steps.map((g) => (reused.includes(g.id) ? "succeeded" : "pending")),
    );
    expect(created.events.map((e) => [e.type, e.stepId, e.attempt])).toEqual([
      ["run.created", undefined, undefined],
      ...reused.map((id) => ["step.completed", id, undefined]),
    ]);
  });
});
