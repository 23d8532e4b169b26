/** Budgets over HTTP and through the service: limits, 429 budget_exceeded before the effect, tenancy, restart. */
import { afterEach, describe, expect, test } from "bun:test";
import { localCall } from "../../../src/core/mod.ts";
import {
  BUDGETS_MACHINE,
  BudgetService,
  type BudgetsState,
} from "../../../src/policy/budgets/mod.ts";
import { ADMIN, createToken, testApp } from "../../support/app.ts";
import { type ContextTestApp, contextApp } from "../../support/context.ts";

let t: ContextTestApp | null = null;
afterEach(async () => {
  await t?.app.close();
  t = null;
});

const put = (app: ContextTestApp, name: string, body: unknown, token: string) =>
  app.request(`/v1/budgets/${name}`, { method: "PUT", token, body: JSON.stringify(body) });

describe("budget routes", () => {
  test("an admin sets, lists and deletes its tenant's budgets; others see none; bad input applies nothing", async () => {
    t = await contextApp();
    const app = t;
    const admin = await app.tokenFor("acme", "admin");
    const set = await put(
      app,
      "daily-runs",
      { unit: "sandbox_runs", limit: 5, period: "day" },
      admin,
    );
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({
      name: "daily-runs",
      used: 0,
      limit: 5,
      resets_at: "2026-01-02T00:00:00.000Z",
    });
    const listed = await (await app.request("/v1/budgets", { token: admin })).json();
    expect(listed).toMatchObject({ budgets: [{ name: "daily-runs", unit: "sandbox_runs" }] });
    const other = await app.tokenFor("beta", "admin");
    expect(await (await app.request("/v1/budgets", { token: other })).json()).toEqual({
      budgets: [],
    });
    expect((await app.request("/v1/budgets?tenant=acme", { token: other })).status).toBe(404);
    expect((await app.request("/v1/budgets?tenant=acme", { token: ADMIN })).status).toBe(200);
    for (const [name, body] of [
      ["bad name!", { unit: "sandbox_runs", limit: 1, period: "day" }],
      ["x", { unit: "gpus", limit: 1, period: "day" }],
      ["x", { unit: "sandbox_runs", limit: -1, period: "day" }],
      ["x", { unit: "sandbox_runs", limit: 1, period: "week" }],
    ] as const) {
      const r = await put(app, encodeURIComponent(name), body, admin);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(
        "validation_failed",
      );
    }
    const writer = await app.tokenFor("acme", "writer");
    expect(
      (await put(app, "y", { unit: "requests", limit: 1, period: "day" }, writer)).status,
    ).toBe(403);
    expect((await app.request("/v1/budgets", { token: admin })).status).toBe(200);
    const budgets = (await (await app.request("/v1/budgets", { token: admin })).json()) as {
      budgets: unknown[];
    };
    expect(budgets.budgets).toHaveLength(1);
    expect(
      (await app.request("/v1/budgets/daily-runs", { method: "DELETE", token: admin })).status,
    ).toBe(200);
    expect(
      (await app.request("/v1/budgets/daily-runs", { method: "DELETE", token: admin })).status,
    ).toBe(404);
  });

  test("a requests budget refuses the request past its limit with 429 budget_exceeded", async () => {
    t = await contextApp();
    const app = t;
    const admin = await app.tokenFor("acme", "admin");
    await put(app, "reqs", { unit: "requests", limit: 3, period: "day" }, admin);
    const reader = await app.tokenFor("acme", "reader");
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await app.request("/v1/context/docs", { token: reader })).status);
    // The PUT's own admission came before the budget existed; three requests pass, then 429.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await app.request("/v1/context/docs", { token: reader });
    expect(((await refused.json()) as { error: unknown }).error).toMatchObject({
      code: "budget_exceeded",
      details: { budget: "reqs", limit: 3, used: 3, period: "day" },
    });
    expect(
      (await app.request("/v1/context/docs", { token: await app.tokenFor("beta", "reader") }))
        .status,
    ).toBe(200);
  });
});

describe("reserve and settle", () => {
  test("a hold past the limit is refused before the effect; holds settle to what was spent; restart keeps usage", async () => {
    const first = testApp({}, { ready: false });
    await first.app.start();
    const { token } = await createToken(first.app, {
      subject: "a",
      tenant: "acme",
      roles: ["admin"],
    });
    await first.request("/v1/budgets/cpu", {
      method: "PUT",
      token,
      body: JSON.stringify({ unit: "sandbox_cpu_ms", limit: 1000, period: "month" }),
    });
    const handle = {
      name: BUDGETS_MACHINE,
      state: () => first.app.storage.stateOf(BUDGETS_MACHINE) as BudgetsState,
      record: (body: never) => ({ machine: BUDGETS_MACHINE, body }),
    };
    const budgets = new BudgetService({
      storage: first.app.storage,
      handle,
      nowMs: () => Date.UTC(2026, 0, 5),
    });
    const call = localCall(
      { subject: "a", tenant: "acme", roles: ["writer"], tokenId: null },
      "0".repeat(32),
    );
    let ran = 0;
    await budgets.spend(call, "sandbox_cpu_ms", 600, async () => {
      ran++;
      return [null, 250];
    });
    expect(handle.state().ledgers.get("acme/cpu")?.used).toBe(250);
    await expect(
      budgets.spend(call, "sandbox_cpu_ms", 800, async () => {
        ran++;
        return [null, 800];
      }),
    ).rejects.toMatchObject({
      code: "budget_exceeded",
      details: { budget: "cpu", limit: 1000, used: 250 },
    });
    expect(ran).toBe(1);
    // A failing effect releases its hold.
    await expect(
      budgets.spend(call, "sandbox_cpu_ms", 700, async () => {
        throw new Error("effect failed");
      }),
    ).rejects.toThrow("effect failed");
    expect(handle.state().ledgers.get("acme/cpu")?.used).toBe(250);
    // Concurrent holds of one tenant cannot both squeeze under the limit.
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => budgets.reserve(call, "sandbox_cpu_ms", 300)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    await first.app.close();
    const second = testApp({ data_dir: first.config.data_dir }, { ready: false });
    try {
      await second.app.start();
      const state = second.app.storage.stateOf(BUDGETS_MACHINE) as BudgetsState;
      expect(state.ledgers.get("acme/cpu")?.used).toBe(850);
      expect(state.open.size).toBe(2);
    } finally {
      await second.app.close();
    }
  });
});

describe("sandbox_runs", () => {
  test("a tenant's runs stop at its budget with 429 budget_exceeded; nothing runs; others are unaffected", async () => {
    t = await contextApp();
    const app = t;
    const admin = await app.tokenFor("sb", "admin");
    await put(app, "runs", { unit: "sandbox_runs", limit: 2, period: "day" }, admin);
    const exec = async (token: string) =>
      app.request("/v1/sandbox/exec", {
        method: "POST",
        token,
        body: JSON.stringify({ cmd: ["sh", "-c", "echo ran >> ran.txt"] }),
      });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await exec(admin)).status);
    expect(statuses).toEqual([200, 200, 429]);
    const file = await app.request("/v1/sandbox/workspaces/default/files/ran.txt", {
      token: admin,
    });
    expect(await file.text()).toBe("ran\nran\n");
    const budgets = (await (await app.request("/v1/budgets", { token: admin })).json()) as {
      budgets: { used: number }[];
    };
    expect(budgets.budgets[0]?.used).toBe(2);
    expect((await exec(await app.tokenFor("other", "writer"))).status).toBe(200);
  });
});

describe("sandbox_cpu_ms", () => {
  const BURN = ["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"];
  type Budget = { name: string; used: number };
  const budgetsOf = async (app: ContextTestApp, token: string): Promise<Budget[]> =>
    (await app.call("GET", "/v1/budgets", token)).body.budgets;

  test("a tenant is charged the measured cpu_ms, refused with 429 once used up; another tenant is unaffected", async () => {
    t = await contextApp();
    const app = t;
    const admin = await app.tokenFor("cpu", "admin");
    // Limit 1 ms: the first run's hold (1 ms, no limits.cpu_ms asked) fits, its measured
    // time then uses the budget up.
    await put(app, "cpu", { unit: "sandbox_cpu_ms", limit: 1, period: "day" }, admin);
    await put(app, "runs", { unit: "sandbox_runs", limit: 10, period: "day" }, admin);
    const first = await app.post("/v1/sandbox/exec", { cmd: BURN }, admin);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe("OK");
    const cpuMs = first.body.cpu_ms as number | null;
    const used = Object.fromEntries((await budgetsOf(app, admin)).map((b) => [b.name, b.used]));
    expect(used).toEqual({ cpu: cpuMs ?? 0, runs: 1 });
    if (cpuMs === null) {
      // This host cannot measure (no cgroup): charged 0, and said so.
      expect(app.logs.some((l) => l.includes("budget.sandbox_cpu_ms.unmeasured"))).toBe(true);
      console.log("skip: the 429 part of this test: the host measures no cpu_ms");
      return;
    }
    expect(cpuMs).toBeGreaterThan(0);
    const refused = await app.post("/v1/sandbox/exec", { cmd: ["sh", "-c", "echo x > x"] }, admin);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({
      code: "budget_exceeded",
      details: { budget: "cpu", limit: 1, used: cpuMs, period: "day" },
    });
    // Nothing ran, and the sandbox_runs hold taken before the refusal was released.
    expect((await app.call("GET", "/v1/sandbox/workspaces/default/files/x", admin)).status).toBe(
      404,
    );
    expect((await budgetsOf(app, admin)).find((b) => b.name === "runs")?.used).toBe(1);
    const other = await app.tokenFor("other", "admin");
    expect((await app.post("/v1/sandbox/exec", { cmd: BURN }, other)).status).toBe(200);
    expect(await budgetsOf(app, other)).toEqual([]);
  }, 30_000);

  test("a run asking limits.cpu_ms holds that much: more than the room left is refused before it starts", async () => {
    t = await contextApp();
    const app = t;
    const admin = await app.tokenFor("cpu", "admin");
    await put(app, "cpu", { unit: "sandbox_cpu_ms", limit: 1500, period: "day" }, admin);
    const asked = (cpuMs: number) =>
      app.post(
        "/v1/sandbox/exec",
        { cmd: ["sh", "-c", "echo x >> x"], limits: { cpu_ms: cpuMs } },
        admin,
      );
    const refused = await asked(2000);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({
      code: "budget_exceeded",
      details: { budget: "cpu", limit: 1500, used: 0 },
    });
    const ran = await asked(1000);
    expect(ran.status).toBe(200);
    // Settled with the measured time, not the 1000 ms held.
    const used = (await budgetsOf(app, admin))[0]?.used;
    expect(used).toBe(ran.body.cpu_ms ?? 0);
    expect(used).toBeLessThan(1000);
    const file = await app.request("/v1/sandbox/workspaces/default/files/x", { token: admin });
    expect(await file.text()).toBe("x\n");
  }, 30_000);

  test("without a cgroup cpu_ms is null: the run is charged 0 and the charge says it was not measured", async () => {
    t = await contextApp({ sandbox_disable: "cgroup_v1,cgroup_v2", sandbox_require: "timeout" });
    const app = t;
    const admin = await app.tokenFor("cpu", "admin");
    await put(app, "cpu", { unit: "sandbox_cpu_ms", limit: 1, period: "day" }, admin);
    const capabilities = await app.call("GET", "/v1/sandbox/capabilities", admin);
    expect(capabilities.body.cpu_usage).toMatchObject({ measured: false, mechanism: "none" });
    for (let i = 0; i < 2; i++) {
      const run = await app.post("/v1/sandbox/exec", { cmd: BURN }, admin);
      expect(run.status).toBe(200);
      expect(run.body.cpu_ms).toBeNull();
    }
    expect((await budgetsOf(app, admin))[0]?.used).toBe(0);
    const warned = app.logs.filter((l) => l.includes('"budget.sandbox_cpu_ms.unmeasured"'));
    expect(warned).toHaveLength(2);
    expect(JSON.parse(warned[0] ?? "{}")).toMatchObject({
      level: "warn",
      tenant: "cpu",
      charged: 0,
    });
  }, 30_000);
});
