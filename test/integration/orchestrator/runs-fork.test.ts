// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * Forking runs (`POST /v1/runs/{id}:fork`, issue 16 item 6): the fork reuses the outputs of the
 * source's completed steps upstream of `from_step` — they never execute again, counted by the
 * versions their `context.upsert` writes — and runs `from_step` and everything downstream;
 * input and workflow may be replaced; bad requests are refused with nothing written; tenancy
 * and roles; the fork's live events equal its replay byte for byte; a restart folds the fork
 * from its own records and drives it to its end.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createToken, type TestApp, testApp } from "../../support/app.ts";
import { poll } from "../../support/process.ts";
import { callJson, type Json, runOf, runUntil, startRun } from "../../support/runs.ts";

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.app.close();
});

function app(flags: Record<string, string> = {}): TestApp {
  const t = testApp(flags);
  apps.push(t);
  return t;
}

/** An upsert of document `doc` whose text names the run: each execution writes a version. */
const upsert = (id: string, doc: string, needs: string[] = []) => ({
  id,
  kind: "context.upsert",
  ...(needs.length === 0 ? {} : { needs }),
  with: { items: [{ id: doc, text: `${doc} written by \${run.id}` }] },
});

/**
 * up → a → check → down, and side (after up). `check` fails its first attempt when
 * `input.fails` is 1 (not retried: max_attempts 1), so the run fails there.
 */
const pipeline = {
  name: "pipeline",
  steps: [
    upsert("up", "up-doc"),
    { id: "a", kind: "echo", needs: ["up"], with: { value: { n: 2 } } },
    {
      id: "check",
      kind: "echo",
      needs: ["a"],
      with: { value: "n=${steps.a.output.n} q=${input.q}", fail_attempts: "${input.fails}" },
    },
    upsert("down", "down-doc", ["check"]),
    { id: "side", kind: "echo", needs: ["up"], with: { value: "side" } },
  ],
};

async function versions(t: TestApp, doc: string): Promise<number> {
  const r = await callJson(t, `/v1/context/docs/${doc}/versions`);
  return r.status === 404 ? 0 : r.body.versions.length;
}

const stepsById = (run: Json): Record<string, Json> =>
  Object.fromEntries(run.steps.map((s: Json) => [s.id, s]));

async function fork(t: TestApp, id: string, body: unknown, token?: string) {
  return callJson(t, `/v1/runs/${id}:fork`, { body, ...(token === undefined ? {} : { token }) });
}

/** A finished run of the pipeline with `input`. */
async function pipelineRun(t: TestApp, input: Json, status: string): Promise<Json> {
  return runUntil(t, await startRun(t, { workflow: pipeline, input }), status);
}

describe("fork", () => {
  test("after a failed step: it and its downstream run again, upstream steps are reused, not executed", async () => {
    const t = app();
    const source = await pipelineRun(t, { fails: 1, q: "first" }, "failed");
    expect(stepsById(source).check.state).toBe("failed");
    expect(stepsById(source).down.state).toBe("cancelled");
    expect(await versions(t, "up-doc")).toBe(1);
    expect(await versions(t, "down-doc")).toBe(0);

    const r = await fork(t, source.run_id, { from_step: "check", input: { fails: 0, q: "new" } });
    expect(r.status).toBe(201);
    expect(r.body.forked_from).toEqual({ run_id: source.run_id, step_id: "check" });
    expect(r.body.run_id).not.toBe(source.run_id);
    const run = await runUntil(t, r.body.run_id, "succeeded");
    const steps = stepsById(run);
    for (const id of ["up", "a", "side"]) {
      expect([id, steps[id].state, steps[id].attempts, steps[id].reused_from]).toEqual([
        id,
        "succeeded",
        [],
        source.run_id,
      ]);
      expect(steps[id].output).toEqual(stepsById(source)[id].output);
    }
    // The rerun step sees the reused output and the fork's input.
    expect(steps.check).toMatchObject({ state: "succeeded", output: "n=2 q=new" });
    expect(steps.check.attempts).toHaveLength(1);
    expect(steps.check.reused_from).toBeUndefined();
    expect(steps.down.state).toBe("succeeded");
    expect(run.forked_from).toEqual({ run_id: source.run_id, step_id: "check" });
    expect(run.input).toEqual({ fails: 0, q: "new" });
    // The upstream upsert did not execute again; the downstream one executed once, in the fork.
    expect(await versions(t, "up-doc")).toBe(1);
    expect(await versions(t, "down-doc")).toBe(1);
    // The source is untouched.
    expect((await runOf(t, source.run_id)).status).toBe("failed");
  });

  test("without input the fork takes the source's: the step fails again", async () => {
    const t = app();
    const source = await pipelineRun(t, { fails: 1, q: "first" }, "failed");
    const r = await fork(t, source.run_id, { from_step: "check" });
    expect(r.status).toBe(201);
    const run = await runUntil(t, r.body.run_id, "failed");
    expect(run.input).toEqual({ fails: 1, q: "first" });
    expect(stepsById(run).check.error.code).toBe("echo_failed");
    expect(await versions(t, "up-doc")).toBe(1);
  });

  test("forking from a root step reruns the whole run", async () => {
    const t = app();
    const source = await pipelineRun(t, { fails: 0, q: "x" }, "succeeded");
    const r = await fork(t, source.run_id, { from_step: "up" });
    const run = await runUntil(t, r.body.run_id, "succeeded");
    expect(run.steps.map((s: Json) => s.attempts.length)).toEqual([1, 1, 1, 1, 1]);
    expect(await versions(t, "up-doc")).toBe(2);
    expect(await versions(t, "down-doc")).toBe(2);
  });

  test("with a changed workflow: rerun steps take the new definition; a step over a new upstream step runs again", async () => {
    const t = app();
    const source = await pipelineRun(t, { fails: 0, q: "x" }, "succeeded");
    const steps = pipeline.steps.map((s) =>
      s.id === "check" ? { ...s, with: { value: "fixed ${steps.a.output.n}" } } : s,
    );
    // `side` now needs a new step: its upstream changed, so it is not reused.
    const workflow = {
      ...pipeline,
      steps: [
        ...steps.filter((s) => s.id !== "side"),
        { id: "pre", kind: "echo", needs: ["up"], with: { value: "pre" } },
        { id: "side", kind: "echo", needs: ["pre"], with: { value: "side" } },
        { id: "extra", kind: "echo", needs: ["check"], with: { value: "${steps.check.output}" } },
      ],
    };
    const r = await fork(t, source.run_id, { from_step: "check", workflow });
    expect(r.status).toBe(201);
    const run = await runUntil(t, r.body.run_id, "succeeded");
    const byId = stepsById(run);
    expect(byId.up.reused_from).toBe(source.run_id);
    expect(byId.a.reused_from).toBe(source.run_id);
    expect(byId.side.reused_from).toBeUndefined();
    expect(byId.side.attempts).toHaveLength(1);
    expect(byId.pre.attempts).toHaveLength(1);
    expect(byId.extra.output).toBe("fixed 2");
    expect(await versions(t, "up-doc")).toBe(1);
  });

  const refusals: [string, (source: string) => Json, number, string, Json][] = [
    [
      "an unknown from_step",
      () => ({ from_step: "nope" }),
      400,
      "validation_failed",
      { field: "from_step" },
    ],
    [
      "a from_step that is no step id",
      () => ({ from_step: "a.b" }),
      400,
      "validation_failed",
      { field: "from_step" },
    ],
    ["no from_step", () => ({}), 400, "validation_failed", { field: "from_step" }],
    [
      "a from_step the new workflow lacks",
      () => ({
        from_step: "check",
        workflow: { steps: pipeline.steps.filter((s) => !["check", "down"].includes(s.id)) },
      }),
      400,
      "validation_failed",
      { field: "from_step" },
    ],
    [
      "a new workflow without a completed upstream step",
      () => ({
        from_step: "check",
        workflow: { steps: pipeline.steps.filter((s) => s.id !== "side") },
      }),
      400,
      "workflow_invalid",
      { path: "steps", step_id: "side" },
    ],
    [
      "a new workflow where a completed upstream step has another kind",
      () => ({
        from_step: "check",
        workflow: {
          steps: pipeline.steps.map((s) => (s.id === "up" ? { id: "up", kind: "echo" } : s)),
        },
      }),
      400,
      "workflow_invalid",
      { path: "steps.0.kind", step_id: "up" },
    ],
    [
      "an invalid new workflow",
      () => ({ from_step: "check", workflow: { steps: [{ id: "a", kind: "teleport" }] } }),
      400,
      "workflow_invalid",
      { path: "steps.0.kind" },
    ],
    [
      "a cyclic new workflow",
      () => ({
        from_step: "check",
        workflow: {
          steps: [
            { id: "check", kind: "echo", needs: ["b"] },
            { id: "b", kind: "echo", needs: ["check"] },
          ],
        },
      }),
      400,
      "workflow_invalid",
      { path: "steps.0.needs.0" },
    ],
  ];
  test.each(refusals)("%s is refused, nothing written", async (_, body, status, code, details) => {
    const t = app();
    const source = await pipelineRun(t, { fails: 0, q: "x" }, "succeeded");
    const r = await fork(t, source.run_id, body(source.run_id));
    expect([r.status, r.body.error.code]).toEqual([status, code]);
    expect(r.body.error.details).toMatchObject(details);
    expect((await callJson(t, "/v1/runs")).body.runs).toHaveLength(1);
  });

  test("a fork whose reused outputs do not fit one record is 413 payload_too_large, nothing written", async () => {
    const t = app({ storage_limits: JSON.stringify({ record_bytes_max: 4096 }) });
    // Each record of the source fits; the fork's create would hold both outputs and the input.
    const workflow = {
      steps: [
        { id: "a", kind: "echo", with: { value: "${input.x}${input.x}" } },
        { id: "b", kind: "echo", needs: ["a"], with: { value: "${steps.a.output}${input.x}" } },
        { id: "c", kind: "echo", needs: ["b"] },
      ],
    };
    const id = await startRun(t, { workflow, input: { x: "x".repeat(1000) } });
    await runUntil(t, id, "succeeded");
    const r = await fork(t, id, { from_step: "c" });
    expect([r.status, r.body.error.code]).toEqual([413, "payload_too_large"]);
    expect((await callJson(t, "/v1/runs")).body.runs).toHaveLength(1);
    // A fork that reuses less fits.
    expect((await fork(t, id, { from_step: "b" })).status).toBe(201);
  });

  test("an unknown run and another tenant's are 404; a reader is 403", async () => {
    const t = app();
    const a = (await createToken(t.app, { subject: "a", tenant: "ta", roles: ["writer"] })).token;
    const b = (await createToken(t.app, { subject: "b", tenant: "tb", roles: ["writer"] })).token;
    const reader = (await createToken(t.app, { subject: "r", tenant: "ta", roles: ["reader"] }))
      .token;
    const id = await startRun(t, { workflow: pipeline, input: { fails: 0, q: "x" } }, a);
    await runUntil(t, id, "succeeded", a);
    const body = { from_step: "check" };
    const other = await fork(t, id, body, b);
    expect([other.status, other.body.error.code]).toEqual([404, "not_found"]);
    const unknown = await fork(t, "run_0000000000000000000000000000", body, a);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "not_found"]);
    const refused = await fork(t, id, body, reader);
    expect([refused.status, refused.body.error.code]).toEqual([403, "forbidden"]);
    expect((await callJson(t, "/v1/runs", { token: b })).body.runs).toEqual([]);
    expect((await callJson(t, "/v1/runs", { token: a })).body.runs).toHaveLength(1);
    // The run's own tenant forks it; the fork is that tenant's.
    const own = await fork(t, id, body, a);
    expect(own.status).toBe(201);
    expect((await runOf(t, own.body.run_id, b)).error.code).toBe("not_found");
  });

  test("idempotency keys: the same fork request is the same run (200), another 409", async () => {
    const t = app();
    const source = await pipelineRun(t, { fails: 0, q: "x" }, "succeeded");
    const body = { from_step: "check", idempotency_key: "f1" };
    const first = await fork(t, source.run_id, body);
    expect(first.status).toBe(201);
    const again = await fork(t, source.run_id, body);
    expect(again.status).toBe(200);
    expect(again.body.run_id).toBe(first.body.run_id);
    expect(again.body.forked_from).toEqual(first.body.forked_from);
    const other = await fork(t, source.run_id, { ...body, from_step: "a" });
    expect([other.status, other.body.error.code]).toEqual([409, "idempotency_conflict"]);
  });

  test("the fork's live events equal its replay byte for byte; reused steps complete without attempt", async () => {
    const t = app();
    const source = await pipelineRun(t, { fails: 1, q: "x" }, "failed");
    const r = await fork(t, source.run_id, { from_step: "check", input: { fails: 0, q: "y" } });
    const live = await (await t.request(`/v1/runs/${r.body.run_id}/events`)).text();
    const replay = await (await t.request(`/v1/runs/${r.body.run_id}/replay`)).text();
    expect(replay).toBe(live);
    const events = live
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)));
    expect(events.slice(0, 4).map((e) => [e.type, e.step_id, e.attempt])).toEqual([
      ["run.created", undefined, undefined],
      ["step.completed", "up", undefined],
      ["step.completed", "a", undefined],
      ["step.completed", "side", undefined],
    ]);
    expect(events[1].output).toEqual(stepsById(source).up.output);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1).type).toBe("run.succeeded");
    const started = events.filter((e) => e.type === "step.started").map((e) => e.step_id);
    expect(started).toEqual(["check", "down"]);
  });
});

describe("fork of an unfinished run, across a restart", () => {
  test("reuses what completed so far; after a restart the fork is folded from its own records and ends", async () => {
    const first = app();
    const gated = {
      steps: [
        upsert("up", "gate-doc"),
        { id: "gate", kind: "wait", needs: ["up"], with: { signal: "go" } },
        { id: "after", kind: "echo", needs: ["gate"], with: { value: "${steps.gate.output}" } },
      ],
    };
    const source = await startRun(first, { workflow: gated });
    await runUntil(first, source, "waiting");
    const r = await fork(first, source, { from_step: "gate" });
    expect(r.status).toBe(201);
    const before = await runUntil(first, r.body.run_id, "waiting");
    expect(stepsById(before).up.reused_from).toBe(source);
    const replayBefore = await (await first.request(`/v1/runs/${r.body.run_id}/replay`)).text();
    await first.app.close();
    apps.splice(apps.indexOf(first), 1);

    const second = app({ data_dir: first.config.data_dir });
    // Resumed: the wait's attempt started again (a restart), the reused step as it was.
    let after: Json = null;
    await poll(
      () => {
        void runOf(second, r.body.run_id).then((run) => {
          after = run;
        });
        return after?.steps[1].attempts[0].restarts === 1 ? true : undefined;
      },
      10_000,
      "the fork resumed",
    );
    expect(after.status).toBe("waiting");
    expect(stepsById(after).up).toEqual(stepsById(before).up);
    expect(after.forked_from).toEqual({ run_id: source, step_id: "gate" });
    // The same events, then the wait's attempt started again after the restart.
    const replayAfter = await (await second.request(`/v1/runs/${r.body.run_id}/replay`)).text();
    expect(replayAfter.startsWith(replayBefore)).toBe(true);
    expect(replayAfter.slice(replayBefore.length)).toContain('"type":"step.started"');
    const sent = await callJson(second, `/v1/runs/${r.body.run_id}:signal`, {
      body: { name: "go", payload: 7 },
    });
    expect(sent.status).toBe(200);
    const done = await runUntil(second, r.body.run_id, "succeeded");
    expect(stepsById(done).after.output).toEqual({ signal: "go", payload: 7 });
    // The source still waits; the reused upsert ran once, in the source.
    expect((await runOf(second, source)).status).toBe("waiting");
    expect(await versions(second, "gate-doc")).toBe(1);
  }, 20_000);
});
