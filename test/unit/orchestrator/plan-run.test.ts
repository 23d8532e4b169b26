/**
 * The scheduler's pure core on random DAGs (fast-check, fixed seed): `planRun` schedules steps
 * only once their needs have ended, each schedule in ready order (topological depth, then
 * declaration order); folding the run's journal again gives the same state and events (the
 * fold is pure); and a workflow with a cycle is refused with `workflow_invalid`.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { VltairError } from "../../../src/core/mod.ts";
import { resolveOrchestratorLimits, validateWorkflow } from "../../../src/orchestrator/mod.ts";
import { planRun, startable } from "../../../src/orchestrator/plan-run.ts";
import { foldRun } from "../../../src/orchestrator/run-fold.ts";
import type { CreateRecord, RunRecord } from "../../../src/orchestrator/run-record.ts";
import type { RunState } from "../../../src/orchestrator/run-state.ts";
import { foldJournal, type JournalEntry } from "../../../src/orchestrator/runs-machine.ts";

const LIMITS = resolveOrchestratorLimits();
const RUN_ID = `run_${"0".repeat(28)}`;

/** A random DAG: `order` is a topological order, each step needs some steps before it in it. */
const dagArb = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
      fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: n, maxLength: n }),
    ),
  )
  .map(([order, picks]) => {
    // Step order[k] may need any order[j] with j < k; the workflow declares steps by index.
    const needs: string[][] = order.map(() => []);
    order.forEach((step, k) => {
      const chosen = new Set(
        (picks[k] ?? []).filter(() => k > 0).map((p) => order[p % k] as number),
      );
      needs[step] = [...chosen].map((i) => `s${i}`);
    });
    return {
      steps: order
        .map((_, i) => i)
        .map((i) => ({ id: `s${i}`, kind: "echo" as const, needs: needs[i] as string[] })),
    };
  });

/** Runs a workflow of echo steps to its end with the pure functions only; returns the journal. */
function simulate(workflow: { steps: { id: string; kind: "echo"; needs: string[] }[] }) {
  const compiled = validateWorkflow(workflow, LIMITS);
  const create: CreateRecord = {
    op: "create",
    run_id: RUN_ID,
    principal: { subject: "t", tenant: "t", roles: ["writer"], token_id: null },
    trace_id: "0".repeat(32),
    workflow: compiled.workflow,
    input: {},
    request_hash: "0".repeat(64),
  };
  const journal: JournalEntry[] = [];
  let run: RunState | undefined;
  let walIndex = 0;
  const commit = (body: RunRecord) => {
    walIndex += 1;
    const meta = { walIndex, wallMs: 1_000 + walIndex };
    const folded = foldRun(run, body, meta);
    run = folded.run;
    if (folded.events.length > 0) journal.push({ ...meta, body });
  };
  commit(create);
  const schedules: string[][] = [];
  for (let guard = 0; guard < 1000; guard++) {
    const current = run as RunState;
    const planned = planRun(current, compiled, { admit: true });
    for (const record of planned) {
      if (record.op === "schedule") schedules.push(record.steps);
      commit(record);
    }
    if (run?.status === "succeeded") break;
    const ready = startable(run as RunState, 0);
    for (const step of ready) {
      const id = compiled.graph.steps[step.index]?.id as string;
      commit({ op: "start", run_id: RUN_ID, step_id: id, attempt: 1, restart: false });
      commit({ op: "complete", run_id: RUN_ID, step_id: id, attempt: 1, output: id });
    }
  }
  return { run: run as RunState, journal, schedules, graph: compiled.graph };
}

describe("planRun on random DAGs", () => {
  test("every step runs once, after its needs, each schedule in (depth, index) order", () => {
    fc.assert(
      fc.property(dagArb, (workflow) => {
        const { run, schedules, graph } = simulate(workflow);
        expect(run.status).toBe("succeeded");
        const order = schedules.flat();
        expect([...order].sort()).toEqual(workflow.steps.map((s) => s.id).sort());
        const position = new Map(order.map((id, i) => [id, i]));
        for (const step of graph.steps) {
          for (const need of step.needs) {
            const needId = graph.steps[need]?.id as string;
            expect(position.get(needId) as number).toBeLessThan(position.get(step.id) as number);
          }
        }
        for (const batch of schedules) {
          const keys = batch.map((id) => graph.steps[graph.byId.get(id) as number]);
          const sorted = [...keys].sort(
            (a, b) => (a?.depth ?? 0) - (b?.depth ?? 0) || (a?.index ?? 0) - (b?.index ?? 0),
          );
          expect(keys).toEqual(sorted);
        }
      }),
      { seed: 16, numRuns: 200 },
    );
  });

  test("folding the journal again gives the same run and events (the fold is pure)", () => {
    fc.assert(
      fc.property(dagArb, (workflow) => {
        const { run, journal } = simulate(workflow);
        const again = foldJournal(journal);
        const twice = foldJournal(journal);
        expect(again?.run).toEqual(run);
        expect(twice?.events).toEqual(again?.events as never);
        expect(again?.events.map((e) => e.seq)).toEqual(again?.events.map((_, i) => i + 1));
      }),
      { seed: 17, numRuns: 100 },
    );
  });

  test("a back edge makes a cycle, refused as workflow_invalid with the cycle's path", () => {
    fc.assert(
      fc.property(
        dagArb.filter((w) => w.steps.some((s) => s.needs.length > 0)),
        (workflow) => {
          const step = workflow.steps.find((s) => s.needs.length > 0) as (typeof workflow.steps)[0];
          const need = workflow.steps.find((s) => s.id === step.needs[0]) as typeof step;
          const cyclic = {
            steps: workflow.steps.map((s) =>
              s === need ? { ...s, needs: [...s.needs, step.id] } : s,
            ),
          };
          let error: unknown;
          try {
            validateWorkflow(cyclic, LIMITS);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(VltairError);
          expect((error as VltairError).code).toBe("workflow_invalid");
          expect(String((error as VltairError).details.path)).toMatch(/^steps\.\d+\.needs\.\d+$/);
        },
      ),
      { seed: 18, numRuns: 100 },
    );
  });
});
