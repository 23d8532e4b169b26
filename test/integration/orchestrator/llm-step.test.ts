/**
 * `llm` steps against a fake OpenAI-compatible server on loopback (issue 16 item 2, issue 17
 * items 2, 4, 5): the request carries the model, messages, the provider key from the
 * environment and the attempt's idempotency key; usage is charged to the run and its cost priced
 * by the config's table; `output_schema` checks the answer; 5xx is retried, 4xx is not; policy
 * (`llm.call`) and budgets refuse before anything is sent; each call is audited.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_POLICY } from "../../../src/policy/mod.ts";
import { createToken } from "../../support/app.ts";
import { completion, fakeLlmHarness } from "../../support/fake-llm.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { callJson, eventsOf, type Json, runUntil, startRun } from "../../support/runs.ts";

const KEY = "sk-test-llm-key-0123456789";
const setup = fakeLlmHarness(
  (baseUrl) => ({
    base_url: baseUrl,
    api_key_env: "FAKE_LLM_KEY",
    models: ["fake-model"],
    prices: { "fake-model": { input_usd_per_mtok: 1, output_usd_per_mtok: 2 } },
  }),
  { FAKE_LLM_KEY: KEY },
);

const ask = (extra: Record<string, unknown> = {}, step: Record<string, unknown> = {}) => ({
  workflow: {
    steps: [
      {
        id: "ask",
        kind: "llm",
        with: { model: "fake-model", messages: [{ role: "user", content: "hi" }], ...extra },
        ...step,
      },
    ],
  },
});

describe("llm steps", () => {
  test("a call: request, key, idempotency key, output, usage charged, audited", async () => {
    const { t, fake } = await setup(() => ({
      body: completion("hello", { prompt_tokens: 1000, completion_tokens: 500 }),
    }));
    const id = await startRun(t, ask({ max_tokens: 64 }));
    const run = await runUntil(t, id, "succeeded");
    expect(run.steps[0].output).toMatchObject({
      text: "hello",
      finish_reason: "stop",
      usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 },
    });
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0] as Json;
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.headers["idempotency-key"]).toBe(`${id}:ask:1`);
    expect(sent.body).toMatchObject({
      model: "fake-model",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
      metadata: { idempotency_key: `${id}:ask:1` },
    });
    // 1000 × $1/M + 500 × $2/M
    expect(run.budget.used).toMatchObject({ llm_tokens: 1500, cost_usd: 0.002 });
    const charged = (await eventsOf(t, id)).filter((e) => e.type === "budget.charged");
    expect(charged[0].output.usage).toEqual({ llm_tokens: 1500, cost_usd: 0.002 });
    const audit = await callJson(t, `/v1/audit?run_id=${id}&action=llm.call`);
    expect(audit.body.records).toHaveLength(1);
    expect(audit.body.records[0]).toMatchObject({
      action: "llm.call",
      resource: "llm/local/fake-model",
      decision: "allow",
    });
    expect(t.logs.join("\n")).not.toContain(KEY);
    expect(JSON.stringify(run)).not.toContain(KEY);
  });

  test("output_schema: a fitting answer is output.json; another fails llm_output_invalid, once", async () => {
    const schema = {
      type: "object",
      required: ["patch"],
      properties: { patch: { type: "string" } },
    };
    const { t, fake } = await setup((n) => ({
      body: completion(n === 0 ? '{"patch":"diff"}' : '{"nope":1}'),
    }));
    const good = await runUntil(
      t,
      await startRun(t, ask({}, { output_schema: schema })),
      "succeeded",
    );
    expect(good.steps[0].output.json).toEqual({ patch: "diff" });
    const bad = await runUntil(
      t,
      await startRun(t, ask({}, { output_schema: schema, retry: { max_attempts: 3 } })),
      "failed",
    );
    expect(bad.steps[0].error.code).toBe("llm_output_invalid");
    expect(bad.steps[0].attempts).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
    const invalid = await callJson(t, "/v1/runs", {
      body: ask({}, { output_schema: { type: "nonsense" } }),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({
      code: "workflow_invalid",
      details: { path: "steps.0.output_schema" },
    });
  });

  test("a 503 is retried (same step, next attempt key); a 400 is not", async () => {
    const timers = new ManualTimers();
    const { t, fake } = await setup(
      (n) => (n === 0 ? { status: 503, body: { error: "busy" } } : { body: completion("ok") }),
      timers,
    );
    const id = await startRun(t, ask({}, { retry: { max_attempts: 2 } }));
    await poll(() => (timers.armed === 1 ? true : undefined), 10_000, "the retry timer");
    timers.advance(1_100);
    const run = await runUntil(t, id, "succeeded");
    expect(run.steps[0].attempts[0].error).toMatchObject({
      code: "llm_status",
      details: { status: 503 },
    });
    expect(fake.requests.map((r) => r.headers["idempotency-key"])).toEqual([
      `${id}:ask:1`,
      `${id}:ask:2`,
    ]);
    const { t: t2, fake: fake2 } = await setup(() => ({ status: 400, body: { error: "bad" } }));
    const failed = await runUntil(
      t2,
      await startRun(t2, ask({}, { retry: { max_attempts: 3 } })),
      "failed",
    );
    expect(failed.steps[0].error.code).toBe("llm_status");
    expect(fake2.requests).toHaveLength(1);
  });

  test("refused before anything is sent: policy, run budget, tenant budget, unknown model", async () => {
    let audited: Json[] = [];
    const { t, fake } = await setup(() => ({ body: completion("never") }));
    const admin = (await createToken(t.app, { subject: "a", tenant: "acme", roles: ["admin"] }))
      .token;
    const start = async (body: unknown) =>
      runUntil(t, await startRun(t, body, admin), "failed", admin);
    // A run budget smaller than max_tokens.
    const overRun = await start({
      workflow: { ...ask({ max_tokens: 500 }).workflow, budget: { llm_tokens: 100 } },
    });
    expect(overRun.steps[0].error).toMatchObject({
      code: "budget_exceeded",
      details: { budget: "llm_tokens", period: "run" },
    });
    // A tenant budget.
    const put = await t.request("/v1/budgets/tokens", {
      method: "PUT",
      token: admin,
      body: JSON.stringify({ unit: "llm_tokens", limit: 10, period: "day" }),
    });
    expect(put.status).toBe(200);
    const overTenant = await start(ask({ max_tokens: 500 }));
    expect(overTenant.steps[0].error).toMatchObject({
      code: "budget_exceeded",
      details: { budget: "tokens", limit: 10 },
    });
    await t.request("/v1/budgets/tokens", { method: "DELETE", token: admin });
    // Policy: the tenant forbids model calls.
    const cedar = `${DEFAULT_POLICY}@id("no-models") forbid(principal, action == vltair::Action::"llm.call", resource);`;
    const policy = await t.request("/v1/policy", {
      method: "PUT",
      token: admin,
      body: JSON.stringify({ cedar }),
    });
    expect(policy.status).toBe(200);
    const denied = await start(ask());
    expect(denied.steps[0].error).toMatchObject({
      code: "policy_denied",
      details: { reasons: ["no-models"] },
    });
    // The denial is an audit record of acme's chain (written in the background: polled).
    const denial = await poll(
      () => {
        void callJson(t, "/v1/audit?tenant=acme&decision=deny&action=llm.call").then((r) => {
          audited = r.body.records;
        });
        return audited.length > 0 ? audited[0] : undefined;
      },
      10_000,
      "the llm.call denial's audit record",
    );
    expect(denial).toMatchObject({ action: "llm.call", reasons: ["no-models"], decision: "deny" });
    // A model the provider does not list.
    const unknown = await runUntil(t, await startRun(t, ask({ model: "other" })), "failed");
    expect(unknown.steps[0].error.code).toBe("llm_model_denied");
    expect(fake.requests).toHaveLength(0);
  });
});
