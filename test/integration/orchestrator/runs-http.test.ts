// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * The orchestrator over HTTP (issue 16, phase 1): data flow through references and `when`, the
 * event stream equal byte for byte to its replay, tenancy on every run route (and the run's
 * Call in its steps), signals, cancel, retries on a manual clock, durable timers, idempotency
 * keys, and a `context.upsert` committed in the same WAL batch as its step's completion.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createToken, type TestApp, testApp } from "../../support/app.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { callJson, type Json, runOf, runUntil, startRun } from "../../support/runs.ts";

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.app.close();
});

function app(options: { timers?: ManualTimers; flags?: Record<string, string> } = {}): TestApp {
  const t = testApp(options.flags, options.timers === undefined ? {} : { timers: options.timers });
  apps.push(t);
  return t;
}

const chain = {
  name: "chain",
  steps: [
    { id: "a", kind: "echo", with: { value: { n: 2, s: "x" } } },
    { id: "b", kind: "echo", needs: ["a"], with: { value: "${steps.a.output.n}" } },
    {
      id: "c",
      kind: "echo",
      needs: ["b"],
      when: { field: "steps.b.output", op: "eq", value: 2 },
      with: { value: "run=${run.id} q=${input.q} n=${steps.a.output.n}" },
    },
    {
      id: "d",
      kind: "echo",
      needs: ["b"],
      when: { field: "input.q", op: "eq", value: "other" },
      with: { value: 1 },
    },
    { id: "e", kind: "echo", needs: ["d"], with: { value: 1 } },
  ],
};

describe("runs over HTTP", () => {
  test("references keep types, when skips, and wait_ms answers the finished run", async () => {
    const t = app();
    const r = await callJson(t, "/v1/runs?wait_ms=10000", {
      body: { workflow: chain, input: { q: "hi" } },
    });
    expect(r.status).toBe(201);
    const run = r.body;
    expect(run.status).toBe("succeeded");
    const byId = Object.fromEntries(run.steps.map((s: Json) => [s.id, s]));
    expect(byId.b.output).toBe(2);
    expect(byId.c.output).toBe(`run=${run.run_id} q=hi n=2`);
    expect(byId.d.state).toBe("skipped");
    expect(byId.e.state).toBe("skipped");
    expect(run.steps.map((s: Json) => s.id)).toEqual(["a", "b", "c", "d", "e"]);
    expect(byId.a.attempts).toHaveLength(1);
    expect(byId.a.attempts[0].restarts).toBe(0);
  });

  test("the live event stream equals its replay byte for byte; Last-Event-ID resumes", async () => {
    const t = app();
    const id = await startRun(t, { workflow: chain, input: { q: "hi" } });
    const live = await (await t.request(`/v1/runs/${id}/events`)).text();
    const replay = await (await t.request(`/v1/runs/${id}/replay`)).text();
    expect(replay).toBe(live);
    const ids = [...live.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(live).toContain("event: run.created");
    expect(live.trimEnd().split("\n\n").at(-1)).toContain("event: run.succeeded");
    const resumed = await (
      await t.request(`/v1/runs/${id}/events`, { headers: { "last-event-id": "3" } })
    ).text();
    expect(live.endsWith(resumed)).toBe(true);
    expect(resumed.startsWith("id: 4\n")).toBe(true);
    // at_wal_index keeps the events of records at or before it: a prefix of the stream.
    const run = await runOf(t, id);
    const early = await (
      await t.request(`/v1/runs/${id}/replay?at_wal_index=${run.wal_index - 1}`)
    ).text();
    expect(early.length).toBeGreaterThan(0);
    expect(early.length).toBeLessThan(live.length);
    expect(live.startsWith(early)).toBe(true);
  });

  test("independent steps are ready in topological depth, then declaration order", async () => {
    const t = app();
    const workflow = {
      steps: [
        { id: "late", kind: "echo", needs: ["root2"] },
        { id: "root1", kind: "echo" },
        { id: "mid", kind: "echo", needs: ["root1"] },
        { id: "root2", kind: "echo" },
      ],
    };
    const id = await startRun(t, { workflow });
    await runUntil(t, id, "succeeded");
    const text = await (await t.request(`/v1/runs/${id}/replay`)).text();
    const scheduled = [...text.matchAll(/"type":"step.scheduled","ts":"[^"]+","step_id":"(\w+)"/g)];
    const order = scheduled.map((m) => m[1]);
    expect(order.slice(0, 2)).toEqual(["root1", "root2"]);
    expect(order.slice(2).sort()).toEqual(["late", "mid"]);
  });

  test("/metrics shows runs by status, step durations by kind, retries and queue depth", async () => {
    const t = app();
    await callJson(t, "/v1/runs?wait_ms=10000", { body: { workflow: chain, input: { q: "hi" } } });
    const text = await (await t.request("/metrics")).text();
    expect(text).toContain("vltair_runs_created_total 1");
    expect(text).toContain('vltair_runs_finished_total{status="succeeded"} 1');
    expect(text).toMatch(/vltair_step_duration_seconds_count\{kind="echo",outcome="succeeded"\} 3/);
    for (const gauge of [
      "vltair_runs_active",
      "vltair_runs_queued",
      "vltair_steps_running",
      "vltair_steps_queued",
    ])
      expect(text).toMatch(new RegExp(`^${gauge} 0$`, "m"));
  });

  test("idempotency keys: the same body is the same run (200), another body 409", async () => {
    const t = app();
    const body = { workflow: chain, input: { q: "hi" }, idempotency_key: "k1" };
    const first = await callJson(t, "/v1/runs", { body });
    expect(first.status).toBe(201);
    const again = await callJson(t, "/v1/runs", { body });
    expect(again.status).toBe(200);
    expect(again.body.run_id).toBe(first.body.run_id);
    const other = await callJson(t, "/v1/runs", { body: { ...body, input: { q: "no" } } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
  });
});

describe("workflow validation", () => {
  const step = (id: string, extra: Json = {}) => ({ id, kind: "echo", ...extra });
  const cases: [string, Json, string][] = [
    ["a cycle", [step("a", { needs: ["b"] }), step("b", { needs: ["a"] })], "steps.0.needs.0"],
    ["an unknown need", [step("a", { needs: ["zz"] })], "steps.0.needs.0"],
    ["a duplicate id", [step("a"), step("a")], "steps.1.id"],
    [
      "a reference to a step that is not upstream",
      [step("a"), step("b", { with: { value: "${steps.a.output}" } })],
      "steps.1.with.value",
    ],
    ["a bad template", [step("a", { with: { value: "${nope.x}" } })], "steps.0.with.value"],
    ["an unclosed template", [step("a", { with: { value: "${input.x" } })], "steps.0.with.value"],
    [
      "a when over a step that is not upstream",
      [step("a"), step("b", { when: { field: "steps.a.output", op: "eq", value: 1 } })],
      "steps.1.when.field",
    ],
    ["an unknown kind", [{ id: "a", kind: "teleport" }], "steps.0.kind"],
    ["an unknown input of a kind", [step("a", { with: { nope: 1 } })], "steps.0.with.nope"],
    ["a step id with a dot", [step("a.b")], "steps.0.id"],
    ["no steps", [], "steps"],
  ];
  test.each(cases)(
    "%s is 400 workflow_invalid at details.path, nothing started",
    async (_, steps, path) => {
      const t = app();
      const r = await callJson(t, "/v1/runs", { body: { workflow: { steps } } });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("workflow_invalid");
      expect(r.body.error.details.path).toBe(path);
      const put = await callJson(t, "/v1/workflows/w", { method: "PUT", body: { steps } });
      expect(put.body.error.code).toBe("workflow_invalid");
      expect(put.body.error.details.path).toBe(path);
      expect((await callJson(t, "/v1/runs")).body.runs).toEqual([]);
      expect((await callJson(t, "/v1/workflows")).body.workflows).toEqual([]);
    },
  );

  test("a valid DAG with a diamond passes", async () => {
    const t = app();
    const steps = [
      step("a"),
      step("b", { needs: ["a"] }),
      step("c", { needs: ["a"] }),
      step("d", { needs: ["b", "c"], with: { value: "${steps.a.output}" } }),
    ];
    expect((await callJson(t, "/v1/runs", { body: { workflow: { steps } } })).status).toBe(201);
  });
});

describe("stored workflows", () => {
  test("put versions, get, run by workflow_ref", async () => {
    const t = app();
    const one = await callJson(t, "/v1/workflows/chain", { method: "PUT", body: chain });
    expect(one.body).toMatchObject({ name: "chain", version: 1, created: true });
    const same = await callJson(t, "/v1/workflows/chain", { method: "PUT", body: chain });
    expect(same.body).toMatchObject({ version: 1, created: false });
    const two = await callJson(t, "/v1/workflows/chain", {
      method: "PUT",
      body: { ...chain, description: "v2" },
    });
    expect(two.body.version).toBe(2);
    expect((await callJson(t, "/v1/workflows/chain?version=1")).body.workflow.description).toBe(
      undefined,
    );
    const r = await callJson(t, "/v1/runs?wait_ms=10000", {
      body: { workflow_ref: { name: "chain", version: 1 }, input: { q: "hi" } },
    });
    expect(r.body.status).toBe("succeeded");
    expect(r.body.workflow_version).toBe(1);
    const missing = await callJson(t, "/v1/runs", { body: { workflow_ref: { name: "nope" } } });
    expect(missing.body.error.code).toBe("not_found");
  });
});

describe("tenancy", () => {
  test("another tenant's run is 404 on every run route; steps act with the run's Call", async () => {
    const t = app();
    const a = (await createToken(t.app, { subject: "a", tenant: "ta", roles: ["writer"] })).token;
    const b = (await createToken(t.app, { subject: "b", tenant: "tb", roles: ["writer"] })).token;
    const workflow = {
      steps: [
        {
          id: "save",
          kind: "context.upsert",
          with: { items: [{ id: "doc1", text: "tenant a secret words ${input.word}" }] },
        },
        { id: "gate", kind: "wait", needs: ["save"], with: { signal: "go" } },
        {
          id: "find",
          kind: "context.search",
          needs: ["gate"],
          with: { query: "secret", strategy: "sparse", k: 5 },
        },
      ],
    };
    const id = await startRun(t, { workflow, input: { word: "zebra" } }, a);
    await runUntil(t, id, "waiting", a);
    const routes: [string, string, unknown?][] = [
      ["GET", `/v1/runs/${id}`],
      ["GET", `/v1/runs/${id}/events`],
      ["GET", `/v1/runs/${id}/replay`],
      ["POST", `/v1/runs/${id}:cancel`],
      ["POST", `/v1/runs/${id}:signal`, { name: "go" }],
    ];
    for (const [method, path, body] of routes) {
      const r = await callJson(t, path, { method, body, token: b });
      expect([path, r.status, r.body.error.code]).toEqual([path, 404, "not_found"]);
    }
    expect((await callJson(t, "/v1/runs", { token: b })).body.runs).toEqual([]);
    expect(
      (await callJson(t, "/v1/runs", { token: a })).body.runs.map((r: Json) => r.run_id),
    ).toEqual([id]);
    // Still waiting: b's signal and cancel changed nothing.
    expect((await runOf(t, id, a)).status).toBe("waiting");
    expect(
      (await callJson(t, `/v1/runs/${id}:signal`, { body: { name: "go" }, token: a })).status,
    ).toBe(200);
    const run = await runUntil(t, id, "succeeded", a);
    const find = run.steps.find((s: Json) => s.id === "find");
    expect(find.output.results.map((r: Json) => r.id)).toEqual(["doc1"]);
    // The upsert was the run's tenant's: a sees it, b does not.
    const docA = await callJson(t, "/v1/context/docs/doc1", { token: a });
    expect(docA.body.text).toBe("tenant a secret words zebra");
    expect((await callJson(t, "/v1/context/docs/doc1", { token: b })).status).toBe(404);
  });

  test("a reader cannot start a run, and a run's step is refused what its principal may not do", async () => {
    const t = app();
    const reader = (await createToken(t.app, { subject: "r", tenant: "ta", roles: ["reader"] }))
      .token;
    const r = await callJson(t, "/v1/runs", { body: { workflow: chain }, token: reader });
    expect(r.body.error.code).toBe("forbidden");
  });
});

describe("signals, cancel, timers and retries", () => {
  test("a signal sent before the wait is kept for it; the wait outputs it", async () => {
    const t = app();
    const workflow = {
      steps: [
        { id: "slow", kind: "wait", with: { signal: "first" } },
        { id: "w", kind: "wait", needs: ["slow"], with: { signal: "approve" } },
        { id: "use", kind: "echo", needs: ["w"], with: { value: "${steps.w.output.payload.ok}" } },
      ],
    };
    const id = await startRun(t, { workflow });
    await runUntil(t, id, "waiting");
    const sent = await callJson(t, `/v1/runs/${id}:signal`, {
      body: { name: "approve", payload: { ok: true } },
    });
    expect(sent).toEqual({ status: 200, body: { accepted: true } });
    expect((await runOf(t, id)).signals_pending).toBe(1);
    await callJson(t, `/v1/runs/${id}:signal`, { body: { name: "first" } });
    const run = await runUntil(t, id, "succeeded");
    expect(run.steps[1].output).toEqual({ signal: "approve", payload: { ok: true } });
    expect(run.steps[2].output).toBe(true);
    expect(run.signals_pending).toBe(0);
    const again = await callJson(t, `/v1/runs/${id}:signal`, { body: { name: "approve" } });
    expect(again.body.error.code).toBe("conflict");
  });

  test("cancel: 202, the waiting step and pending ones are cancelled, then 409", async () => {
    const t = app();
    const workflow = {
      steps: [
        { id: "w", kind: "wait", with: { signal: "never" } },
        { id: "after", kind: "echo", needs: ["w"] },
      ],
    };
    const id = await startRun(t, { workflow });
    await runUntil(t, id, "waiting");
    const r = await callJson(t, `/v1/runs/${id}:cancel`, { method: "POST" });
    expect(r).toEqual({ status: 202, body: { status: "cancelling" } });
    const run = await runUntil(t, id, "cancelled");
    expect(run.steps.map((s: Json) => s.state)).toEqual(["cancelled", "cancelled"]);
    expect((await callJson(t, `/v1/runs/${id}:cancel`, { method: "POST" })).body.error.code).toBe(
      "conflict",
    );
    const live = await (await t.request(`/v1/runs/${id}/events`)).text();
    expect(live.trimEnd().split("\n\n").at(-1)).toContain("event: run.cancelled");
    expect(await (await t.request(`/v1/runs/${id}/replay`)).text()).toBe(live);
  });

  test("retryable failures retry with backoff on the run's clock; the attempts keep their times", async () => {
    const timers = new ManualTimers();
    const t = app({ timers });
    const workflow = {
      steps: [
        {
          id: "flaky",
          kind: "echo",
          retry: { max_attempts: 3 },
          with: { value: 7, fail_attempts: 2 },
        },
      ],
    };
    const id = await startRun(t, { workflow });
    const retrying = async (n: number) =>
      poll(
        () => (timers.armed === 1 ? true : undefined),
        10_000,
        `retry timer after attempt ${n}`,
      ).then(async () => expect((await runOf(t, id)).steps[0].attempts).toHaveLength(n));
    await retrying(1);
    timers.advance(1_100); // 1 s ± 10 %
    await retrying(2);
    timers.advance(2_200); // 2 s ± 10 %
    const run = await runUntil(t, id, "succeeded");
    const attempts = run.steps[0].attempts;
    expect(attempts.map((a: Json) => a.error?.code ?? null)).toEqual([
      "echo_failed",
      "echo_failed",
      null,
    ]);
    const gap = Date.parse(attempts[1].started_at) - Date.parse(attempts[0].ended_at);
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThanOrEqual(1_100);
    expect(run.steps[0].output).toBe(7);
  });

  test("a failure that is not retryable fails the step at once, and the run with it", async () => {
    const t = app();
    const workflow = {
      steps: [
        // The reference resolves to a string where the search wants a number.
        { id: "a", kind: "echo", with: { value: "many" } },
        {
          id: "find",
          kind: "context.search",
          needs: ["a"],
          retry: { max_attempts: 5 },
          with: { query: "x", k: "${steps.a.output}" },
        },
        { id: "after", kind: "echo", needs: ["find"] },
      ],
    };
    const id = await startRun(t, { workflow });
    const run = await runUntil(t, id, "failed");
    expect(run.steps[1].attempts).toHaveLength(1);
    expect(run.steps[1].error.code).toBe("validation_failed");
    expect(run.steps[2].state).toBe("cancelled");
    expect(run.error.details.step_id).toBe("find");
  });

  test("a durable timer ends sleep_ms after the attempt started", async () => {
    const timers = new ManualTimers();
    const t = app({ timers });
    const workflow = { steps: [{ id: "nap", kind: "wait", with: { sleep_ms: 60_000 } }] };
    const id = await startRun(t, { workflow });
    await runUntil(t, id, "waiting");
    await poll(() => (timers.armed >= 1 ? true : undefined), 10_000, "the timer");
    timers.advance(59_000);
    expect((await runOf(t, id)).status).toBe("waiting");
    timers.advance(1_000);
    const run = await runUntil(t, id, "succeeded");
    expect(run.steps[0].output).toEqual({ slept_ms: 60_000 });
  });

  test("a signal wait past timeout_ms fails with wait_timeout", async () => {
    const timers = new ManualTimers();
    const t = app({ timers });
    const workflow = {
      steps: [{ id: "w", kind: "wait", with: { signal: "x", timeout_ms: 5_000 } }],
    };
    const id = await startRun(t, { workflow });
    await poll(() => (timers.armed >= 1 ? true : undefined), 10_000, "the timer");
    timers.advance(5_000);
    const run = await runUntil(t, id, "failed");
    expect(run.steps[0].error.code).toBe("wait_timeout");
  });
});

describe("context.upsert in the step's completion batch", () => {
  test("the documents and the step's completion are one WAL batch", async () => {
    const t = app();
    const batches: { machine: string; op: unknown; walIndex: number }[][] = [];
    await t.request("/v1/health");
    const stop = t.app.storage.onApplied((records) =>
      batches.push(
        records.map((r) => ({
          machine: r.machine,
          op: (r.value as { op?: unknown }).op,
          walIndex: r.walIndex,
        })),
      ),
    );
    const workflow = {
      steps: [
        { id: "a", kind: "echo", with: { value: "v" } },
        {
          id: "save",
          kind: "context.upsert",
          needs: ["a"],
          with: { items: [{ id: "d", text: "value ${steps.a.output}" }] },
        },
      ],
    };
    const id = await startRun(t, { workflow });
    const run = await runUntil(t, id, "succeeded");
    stop();
    expect(run.steps[1].output).toMatchObject({ inserted: 1, updated: 0, skipped: 0 });
    const doc = (await callJson(t, "/v1/context/docs/d")).body;
    const batch = batches.find((b) => b.some((r) => r.walIndex === doc.wal_index)) ?? [];
    expect(batch.map((r) => `${r.machine}.${r.op}`)).toContain("runs.complete");
    expect(batch.filter((r) => r.machine === "context")).toHaveLength(1);
    // The replay up to the document's index stops before the step's completion.
    const before = await (
      await t.request(`/v1/runs/${id}/replay?at_wal_index=${doc.wal_index - 1}`)
    ).text();
    expect(before).not.toContain('"step_id":"save","attempt":1,"output"');
  });
});

describe("bounded admission", () => {
  test("past runs_active_max runs queue; past runs_queued_max 429 queue_full, nothing written", async () => {
    const timers = new ManualTimers();
    const limits = JSON.stringify({ runs_active_max: 1, runs_queued_max: 1 });
    const t = app({ timers, flags: { orchestrator_limits: limits } });
    const slow = { steps: [{ id: "s", kind: "echo", with: { value: 1, delay_ms: 10_000 } }] };
    const first = await startRun(t, { workflow: slow });
    await runUntil(t, first, "running");
    const second = await startRun(t, { workflow: slow });
    expect((await runOf(t, second)).status).toBe("queued");
    const third = await callJson(t, "/v1/runs", { body: { workflow: slow } });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe("queue_full");
    expect(third.body.error.details.scope).toBe("runs_queued_max");
    const raw = await t.request("/v1/runs", {
      method: "POST",
      body: JSON.stringify({ workflow: slow }),
    });
    expect(raw.headers.get("retry-after")).toBe("1");
    await raw.arrayBuffer();
    expect((await callJson(t, "/v1/runs")).body.runs).toHaveLength(2);
    // The first ends, the second is admitted and runs to its end.
    timers.advance(10_000);
    await runUntil(t, first, "succeeded");
    await poll(() => (timers.armed === 1 ? true : undefined), 10_000, "the second run's step");
    timers.advance(10_000);
    await runUntil(t, second, "succeeded");
  });
});
