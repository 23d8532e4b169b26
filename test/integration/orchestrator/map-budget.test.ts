// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * `map` steps, journaled sub-steps and run budgets (issue 16): a map runs its template per item
 * in list order with `${item}`/`${index}`, journals each item (a retry reruns only the items
 * that had not ended, its context writes land once), and a workflow's `budget` caps steps, wall
 * time and held units, each refusal `budget_exceeded`, charges visible in `/budget`,
 * `/budget/history` and `budget.charged` events.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createToken, type TestApp, testApp } from "../../support/app.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { callJson, eventsOf, type Json, runOf, runUntil, startRun } from "../../support/runs.ts";

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.app.close();
});

function app(timers?: ManualTimers): TestApp {
  const t = testApp({}, timers === undefined ? {} : { timers });
  apps.push(t);
  return t;
}

describe("map", () => {
  test("runs the template per item, outputs in list order, each item journaled", async () => {
    const t = app();
    const workflow = {
      steps: [
        { id: "list", kind: "echo", with: { value: [{ n: 3 }, { n: 1 }, { n: 2 }] } },
        {
          id: "each",
          kind: "map",
          needs: ["list"],
          with: {
            items: "${steps.list.output}",
            concurrency: 2,
            step: {
              kind: "echo",
              with: { value: "${index}:${item.n}:${input.tag}", delay_ms: "${item.n}" },
            },
          },
        },
      ],
    };
    const id = await startRun(t, { workflow, input: { tag: "x" } });
    const run = await runUntil(t, id, "succeeded");
    expect(run.steps[1].output).toEqual(["0:3:x", "1:1:x", "2:2:x"]);
    const journal = run.steps[1].journal.map((e: Json) => e.key).sort();
    expect(journal).toEqual(["item:0", "item:1", "item:2"]);
    const events = await eventsOf(t, id);
    expect(events.filter((e) => e.type === "step.journaled")).toHaveLength(3);
    const live = await (await t.request(`/v1/runs/${id}/events`)).text();
    expect(live).toBe(await (await t.request(`/v1/runs/${id}/replay`)).text());
  });

  test("a retry reruns only the items that had not ended; their writes land once", async () => {
    const timers = new ManualTimers();
    const t = app(timers);
    const workflow = {
      steps: [
        {
          id: "each",
          kind: "map",
          retry: { max_attempts: 2 },
          with: {
            items: [{ id: "a" }, { id: "b" }, { id: "c", fail: 1 }],
            concurrency: 1,
            step: {
              kind: "context.upsert",
              with: { items: [{ id: "${item.id}", text: "item ${index} of ${run.id}" }] },
            },
          },
        },
        {
          id: "flaky",
          kind: "map",
          needs: ["each"],
          retry: { max_attempts: 2 },
          with: {
            items: [0, 0, 1],
            concurrency: 1,
            step: { kind: "echo", with: { value: "${item}", fail_attempts: "${item}" } },
          },
        },
      ],
    };
    const id = await startRun(t, { workflow });
    await poll(() => (timers.armed === 1 ? true : undefined), 10_000, "the retry timer");
    const failed = await runOf(t, id);
    expect(failed.steps[1].attempts[0].error.code).toBe("echo_failed");
    expect(failed.steps[1].attempts[0].error.details.index).toBe(2);
    timers.advance(1_100);
    const run = await runUntil(t, id, "succeeded");
    expect(run.steps[1].output).toEqual([0, 0, 1]);
    expect(run.steps[1].attempts).toHaveLength(2);
    const journaled = (await eventsOf(t, id))
      .filter((e) => e.type === "step.journaled" && e.step_id === "flaky")
      .map((e) => `${e.attempt}/${e.output.key}`);
    // Items 0 and 1 ended in attempt 1 and were not run again; item 2 ended in attempt 2.
    expect(journaled).toEqual(["1/item:0", "1/item:1", "2/item:2"]);
    for (const doc of ["a", "b", "c"]) {
      const versions = await callJson(t, `/v1/context/docs/${doc}/versions`);
      expect(versions.status).toBe(200);
      expect(versions.body.versions).toHaveLength(1);
    }
  });

  test("a template that does not fit is refused before the run exists", async () => {
    const t = app();
    const cases: [unknown, string][] = [
      [{ items: [], step: { kind: "wait", with: {} } }, "steps.0.with.step.kind"],
      [{ items: [], step: { kind: "echo", with: { nope: 1 } } }, "steps.0.with.step.with.nope"],
      [
        { items: [], step: { kind: "echo", with: { value: "${item" } } },
        "steps.0.with.step.with.value",
      ],
      [{ items: "${item}", step: { kind: "echo" } }, "steps.0.with.items"],
    ];
    for (const [input, path] of cases) {
      const r = await callJson(t, "/v1/runs", {
        body: { workflow: { steps: [{ id: "m", kind: "map", with: input }] } },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("workflow_invalid");
      expect(r.body.error.details.path).toBe(path);
    }
    expect((await callJson(t, "/v1/runs")).body.runs).toHaveLength(0);
  });

  test("an item whose input does not fit its kind fails the map with map_item_invalid", async () => {
    const t = app();
    const workflow = {
      steps: [
        {
          id: "m",
          kind: "map",
          with: { items: [1, "x"], step: { kind: "echo", with: { delay_ms: "${item}" } } },
        },
      ],
    };
    const run = await runUntil(t, await startRun(t, { workflow }), "failed");
    expect(run.steps[0].error.code).toBe("map_item_invalid");
    expect(run.steps[0].error.details).toMatchObject({
      index: 1,
      field: "with.step.with.delay_ms",
    });
  });
});

describe("run budgets", () => {
  const three = (budget: unknown) => ({
    budget,
    steps: [
      { id: "a", kind: "echo", with: { value: 1, charge: { llm_tokens: 60, cost_usd: 0.1 } } },
      { id: "b", kind: "echo", needs: ["a"], with: { value: 2, charge: { llm_tokens: 30 } } },
      { id: "c", kind: "echo", needs: ["b"], with: { value: 3, charge: { llm_tokens: 30 } } },
    ],
  });

  test("charges are folded from the log: /budget, /budget/history, budget.charged", async () => {
    const t = app();
    const id = await startRun(t, { workflow: three({ llm_tokens: 1000, steps: 10 }) });
    await runUntil(t, id, "succeeded");
    const budget = (await callJson(t, `/v1/runs/${id}/budget`)).body;
    expect(budget.used).toEqual({ llm_tokens: 120, cost_usd: 0.1, sandbox_cpu_ms: 0, steps: 3 });
    expect(budget.remaining).toEqual({ llm_tokens: 880, steps: 7 });
    const history = (await callJson(t, `/v1/runs/${id}/budget/history`)).body.history;
    expect(history.map((h: Json) => [h.step_id, h.used.llm_tokens])).toEqual([
      ["a", 60],
      ["b", 90],
      ["c", 120],
    ]);
    const charged = (await eventsOf(t, id)).filter((e) => e.type === "budget.charged");
    expect(charged.map((e) => e.output.usage)).toEqual([
      { llm_tokens: 60, cost_usd: 0.1 },
      { llm_tokens: 30 },
      { llm_tokens: 30 },
    ]);
    expect((await runOf(t, id)).budget.used.llm_tokens).toBe(120);
  });

  test("a hold past llm_tokens fails the step before its effect, not retried", async () => {
    const t = app();
    const workflow = three({ llm_tokens: 100 });
    workflow.steps[2] = { ...workflow.steps[2], retry: { max_attempts: 3 } } as never;
    const run = await runUntil(t, await startRun(t, { workflow }), "failed");
    expect(run.steps.map((s: Json) => s.state)).toEqual(["succeeded", "succeeded", "failed"]);
    expect(run.steps[2].attempts).toHaveLength(1);
    expect(run.steps[2].error).toMatchObject({
      code: "budget_exceeded",
      details: { budget: "llm_tokens", limit: 100, used: 90, period: "run" },
    });
    expect(run.budget.used.llm_tokens).toBe(90);
  });

  test("steps counts attempts started; the refused one is not counted", async () => {
    const t = app();
    const run = await runUntil(t, await startRun(t, { workflow: three({ steps: 2 }) }), "failed");
    expect(run.steps[2].error.code).toBe("budget_exceeded");
    expect(run.steps[2].error.details).toMatchObject({ budget: "steps", limit: 2, used: 2 });
    expect(run.budget.used.steps).toBe(2);
  });

  test("wall_ms: when it passes, the run fails with budget_exceeded", async () => {
    const timers = new ManualTimers();
    const t = app(timers);
    const workflow = {
      budget: { wall_ms: 5_000 },
      steps: [{ id: "nap", kind: "wait", with: { sleep_ms: 60_000 } }],
    };
    const id = await startRun(t, { workflow });
    await poll(() => (timers.armed === 2 ? true : undefined), 10_000, "sleep and wall timers");
    timers.advance(5_000);
    const run = await runUntil(t, id, "failed");
    expect(run.error.code).toBe("budget_exceeded");
    expect(run.error.details.budget).toBe("wall_ms");
    expect(run.steps[0].state).toBe("cancelled");
  });

  test("the workflow's timeout_ms fails the run with run_timeout", async () => {
    const timers = new ManualTimers();
    const t = app(timers);
    const workflow = {
      timeout_ms: 2_000,
      steps: [{ id: "nap", kind: "wait", with: { sleep_ms: 60_000 } }],
    };
    const id = await startRun(t, { workflow });
    await poll(() => (timers.armed === 2 ? true : undefined), 10_000, "sleep and run timers");
    timers.advance(2_000);
    const run = await runUntil(t, id, "failed");
    expect(run.error).toMatchObject({ code: "run_timeout", details: { timeout_ms: 2_000 } });
    expect(run.steps[0].state).toBe("cancelled");
  });

  test("another tenant's run budget is 404", async () => {
    const t = app();
    const id = await startRun(t, { workflow: three({ steps: 9 }) });
    const other = (await createToken(t.app, { subject: "b", tenant: "tb", roles: ["admin"] }))
      .token;
    for (const path of [`/v1/runs/${id}/budget`, `/v1/runs/${id}/budget/history`]) {
      const r = await callJson(t, path, { token: other });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe("not_found");
    }
  });
});

describe("history limits and retention", () => {
  const slowChain = (n: number) => ({
    steps: Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      kind: "echo",
      ...(i === 0 ? {} : { needs: [`s${i - 1}`] }),
      with: { value: i, delay_ms: 0 },
    })),
  });

  test("a run past run_events_max fails with history_limit; nothing past it is written", async () => {
    const t = testApp({ orchestrator_limits: JSON.stringify({ run_events_max: 20 }) });
    apps.push(t);
    const id = await startRun(t, { workflow: slowChain(12) });
    const run = await runUntil(t, id, "failed");
    expect(run.error).toMatchObject({ code: "history_limit", details: { run_events_max: 20 } });
    const events = await eventsOf(t, id);
    // The run ends just past the limit (the failure's own records), never far beyond it.
    expect(events.length).toBeLessThanOrEqual(20 + 12);
    expect(run.steps.filter((s: Json) => s.state === "succeeded").length).toBeLessThan(12);
  });

  test("finished runs past runs_finished_max and runs_retention_days are forgotten", async () => {
    const timers = new ManualTimers();
    const t = testApp(
      { orchestrator_limits: JSON.stringify({ runs_finished_max: 2, runs_retention_days: 1 }) },
      { timers },
    );
    apps.push(t);
    const pure = { steps: [{ id: "a", kind: "echo", with: { value: 1 } }] };
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(await startRun(t, { workflow: pure, idempotency_key: `k${i}` }));
      await runUntil(t, ids[i] as string, "succeeded");
      timers.advance(1_000);
    }
    expect(await t.app.runs.sweepRetention()).toBe(2);
    for (const [i, id] of ids.entries()) {
      const r = await callJson(t, `/v1/runs/${id}`);
      expect(r.status).toBe(i < 2 ? 404 : 200);
    }
    expect((await callJson(t, "/v1/runs")).body.runs.map((r: Json) => r.run_id)).toEqual([
      ids[3],
      ids[2],
    ]);
    // A forgotten run's idempotency key starts a new run.
    const again = await callJson(t, "/v1/runs", {
      body: { workflow: pure, idempotency_key: "k0" },
    });
    expect(again.status).toBe(201);
    await runUntil(t, again.body.run_id, "succeeded");
    timers.advance(2 * 86_400_000);
    expect(await t.app.runs.sweepRetention()).toBe(3);
    expect((await callJson(t, "/v1/runs")).body.runs).toEqual([]);
  });
});

describe("on_cancel", () => {
  test("a cancel runs the on_cancel of started and succeeded steps, deepest first, then ends cancelled", async () => {
    const t = app();
    const undo = (id: string) => ({
      kind: "context.upsert",
      with: { items: [{ id: `undo-${id}`, text: `undid ${"${"}steps.${id}.output}` }] },
    });
    const workflow = {
      steps: [
        { id: "a", kind: "echo", with: { value: "A" }, on_cancel: undo("a") },
        { id: "b", kind: "echo", needs: ["a"], with: { value: "B" }, on_cancel: undo("b") },
        { id: "gate", kind: "wait", needs: ["b"], with: { signal: "go" } },
        {
          id: "never",
          kind: "echo",
          needs: ["gate"],
          with: { value: 1 },
          on_cancel: undo("never"),
        },
      ],
    };
    const id = await startRun(t, { workflow });
    await runUntil(t, id, "waiting");
    const cancel = await callJson(t, `/v1/runs/${id}:cancel`, { method: "POST" });
    expect(cancel.status).toBe(202);
    const run = await runUntil(t, id, "cancelled");
    expect(run.steps.map((s: Json) => s.state)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
    const events = await eventsOf(t, id);
    const cancelling = events.find((e) => e.type === "run.cancelling");
    expect(cancelling.output.compensate).toEqual(["b", "a"]);
    const compensated = events.filter((e) => e.type === "step.compensated");
    expect(compensated.map((e) => e.step_id)).toEqual(["b", "a"]);
    expect((await callJson(t, "/v1/context/docs/undo-b")).body.text).toBe("undid B");
    expect((await callJson(t, "/v1/context/docs/undo-a")).body.text).toBe("undid A");
    expect((await callJson(t, "/v1/context/docs/undo-never")).status).toBe(404);
    expect(events.at(-1).type).toBe("run.cancelled");
    const live = await (await t.request(`/v1/runs/${id}/events`)).text();
    expect(await (await t.request(`/v1/runs/${id}/replay`)).text()).toBe(live);
  });

  test("a failing compensation is recorded and the next one still runs", async () => {
    const t = app();
    const workflow = {
      steps: [
        {
          id: "a",
          kind: "echo",
          with: { value: 1 },
          on_cancel: { kind: "context.upsert", with: { items: [{ id: "undo-a", text: "x" }] } },
        },
        {
          id: "b",
          kind: "echo",
          needs: ["a"],
          with: { value: 2 },
          on_cancel: { kind: "context.search", with: { query: "x", k: "many" } },
        },
        { id: "gate", kind: "wait", needs: ["b"], with: { signal: "go" } },
      ],
    };
    const id = await startRun(t, { workflow });
    await runUntil(t, id, "waiting");
    await callJson(t, `/v1/runs/${id}:cancel`, { method: "POST" });
    await runUntil(t, id, "cancelled");
    const compensated = (await eventsOf(t, id)).filter((e) => e.type === "step.compensated");
    expect(compensated.map((e) => [e.step_id, e.error?.code ?? "ok"])).toEqual([
      ["b", "validation_failed"],
      ["a", "ok"],
    ]);
  });

  test("on_cancel inputs and references are checked before the run exists", async () => {
    const t = app();
    const cases: [unknown, string][] = [
      [{ kind: "wait", with: {} }, "steps.0.on_cancel.kind"],
      [{ kind: "echo", with: { nope: 1 } }, "steps.0.on_cancel.with.nope"],
      [{ kind: "echo", with: { value: "${steps.later.output}" } }, "steps.0.on_cancel.with.value"],
    ];
    for (const [onCancel, path] of cases) {
      const r = await callJson(t, "/v1/runs", {
        body: {
          workflow: {
            steps: [
              { id: "a", kind: "echo", on_cancel: onCancel },
              { id: "later", kind: "echo", needs: ["a"] },
            ],
          },
        },
      });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: "workflow_invalid", details: { path } });
    }
  });
});
