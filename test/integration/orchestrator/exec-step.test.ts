// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * `exec` steps (issue 16): the command runs through the SandboxService with the run's Call, in
 * the run's tenant's workspace, with the attempt's idempotency key in its environment; a
 * non-zero rc is output (a `when` decides), a refused run fails the step with
 * `sandbox_denied`; cancel kills a running command. In both sandbox modes (with and without
 * bubblewrap): where the host cannot apply the required protections, runs are refused.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { poll } from "../../support/process.ts";
import { sandboxModes } from "../sandbox/harness.ts";
import { disposeServers, type SandboxServer, sandboxServer } from "../sandbox/server-harness.ts";

afterAll(disposeServers);

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test
type Json = any;

async function runTo(server: SandboxServer, body: unknown, token?: string): Promise<Json> {
  const init = { method: "POST", body: JSON.stringify(body), status: 201 };
  const started = await server.json<Json>(
    "/v1/runs",
    token === undefined ? init : { ...init, token },
  );
  let last: Json = null;
  const advanced = new Set<string>();
  return poll(
    () => {
      // The server's clock stands still: move it past each retry time once (backoff ≤ 1.1 s).
      for (const step of last?.steps ?? []) {
        if (step.retry_at === undefined || advanced.has(step.retry_at)) continue;
        advanced.add(step.retry_at);
        server.advanceMs(1_200);
      }
      void server
        .json<Json>(`/v1/runs/${started.run_id}`, token === undefined ? {} : { token })
        .then((r) => {
          last = r;
        });
      return ["succeeded", "failed", "cancelled"].includes(last?.status) ? last : undefined;
    },
    20_000,
    "the run's end",
  );
}

for (const mode of sandboxModes("exec-step.test.ts")) {
  describe.if(mode.available)(`exec steps (${mode.name})`, () => {
    const overrides = mode.disable.length === 0 ? {} : { sandbox_disable: mode.disable.join(",") };

    test("runs in the run's tenant workspace with its idempotency key; rc is output", async () => {
      const server = sandboxServer(overrides);
      const a = await server.token("acme");
      const b = await server.token("other");
      const caps = await server.json<Json>("/v1/sandbox/capabilities", { token: a });
      const workflow = {
        steps: [
          {
            id: "write",
            kind: "exec",
            with: { cmd: ["sh", "-c", 'printf %s "$VLTAIR_IDEMPOTENCY_KEY" > key.txt; exit 3'] },
          },
          {
            id: "onlyIfOk",
            kind: "echo",
            needs: ["write"],
            when: { field: "steps.write.output.rc", op: "eq", value: 0 },
          },
        ],
      };
      const run = await runTo(server, { workflow }, a);
      if (caps.runs_refused === true) {
        expect(run.status).toBe("failed");
        expect(run.steps[0].error.code).toBe("sandbox_denied");
        expect(run.steps[0].attempts).toHaveLength(1);
        return;
      }
      expect(run.status).toBe("succeeded");
      expect(run.steps[0].output.rc).toBe(3);
      expect(run.steps[1].state).toBe("skipped");
      const file = await server.request("/v1/sandbox/workspaces/default/files/key.txt", {
        token: a,
      });
      expect(await file.text()).toBe(`${run.run_id}:write:1`);
      const other = await server.request("/v1/sandbox/workspaces/default/files/key.txt", {
        token: b,
      });
      expect(other.status).toBe(404);
    }, 30_000);

    test("retry.on_status retries the listed exit code (exec_status); the last attempt fails", async () => {
      const server = sandboxServer(overrides);
      const flaky = {
        id: "flaky",
        kind: "exec",
        retry: { max_attempts: 2, on_status: [3] },
        // Exits 3 on attempt 1, 0 on attempt 2 (the key ends with the attempt).
        with: { cmd: ["sh", "-c", 'case "$VLTAIR_IDEMPOTENCY_KEY" in *:1) exit 3;; esac'] },
      };
      const ok = await runTo(server, { workflow: { steps: [flaky] } });
      expect(ok.status).toBe("succeeded");
      expect(ok.steps[0].attempts[0].error).toMatchObject({
        code: "exec_status",
        details: { rc: 3 },
      });
      expect(ok.steps[0].output.rc).toBe(0);
      const always = { ...flaky, with: { cmd: ["sh", "-c", "exit 3"] } };
      const failed = await runTo(server, { workflow: { steps: [always] } });
      expect(failed.steps[0].attempts).toHaveLength(2);
      expect(failed.steps[0].error.code).toBe("exec_status");
      const unlisted = { ...flaky, with: { cmd: ["sh", "-c", "exit 4"] } };
      const output = await runTo(server, { workflow: { steps: [unlisted] } });
      expect(output.status).toBe("succeeded");
      expect(output.steps[0].output.rc).toBe(4);
    }, 30_000);

    test("the run's sandbox_cpu_ms budget holds limits.cpu_ms before a run and is charged its cpu_ms", async () => {
      const server = sandboxServer(overrides);
      const burn = {
        id: "burn",
        kind: "exec",
        with: { cmd: ["sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"] },
      };
      const charged = await runTo(server, {
        workflow: { budget: { sandbox_cpu_ms: 60_000 }, steps: [burn] },
      });
      expect(charged.status).toBe("succeeded");
      // Charged what the sandbox measured (null where the host cannot measure: nothing charged).
      const measured = charged.steps[0].output.cpu_ms;
      expect(charged.budget.used.sandbox_cpu_ms).toBe(measured ?? 0);
      if (measured !== null) expect(measured).toBeGreaterThan(0);
      const refused = await runTo(server, {
        workflow: {
          budget: { sandbox_cpu_ms: 5 },
          steps: [{ ...burn, with: { ...burn.with, limits: { cpu_ms: 1000 } } }],
        },
      });
      expect(refused.steps[0].error).toMatchObject({
        code: "budget_exceeded",
        details: { budget: "sandbox_cpu_ms", limit: 5 },
      });
    }, 30_000);

    test("cancel kills a running command", async () => {
      const server = sandboxServer(overrides);
      const a = await server.token("acme");
      const caps = await server.json<Json>("/v1/sandbox/capabilities", { token: a });
      if (caps.runs_refused === true) {
        console.log(`skip: cancel of a running exec (${mode.name}): this host refuses runs here`);
        return;
      }
      const workflow = { steps: [{ id: "long", kind: "exec", with: { cmd: ["sleep", "30"] } }] };
      const started = await server.json<Json>("/v1/runs", {
        method: "POST",
        body: JSON.stringify({ workflow }),
        status: 201,
        token: a,
      });
      const running = async () =>
        (await (await server.request("/metrics")).text()).match(
          /^vltair_sandbox_runs_running (\d+)/m,
        )?.[1];
      let count: string | undefined;
      await poll(
        () => {
          void running().then((c) => {
            count = c;
          });
          return count === "1" ? true : undefined;
        },
        10_000,
        "the command running",
      );
      await server.json(`/v1/runs/${started.run_id}:cancel`, {
        method: "POST",
        status: 202,
        token: a,
      });
      await poll(
        () => {
          void running().then((c) => {
            count = c;
          });
          return count === "0" ? true : undefined;
        },
        10_000,
        "the command killed",
      );
      const run = await server.json<Json>(`/v1/runs/${started.run_id}`, { token: a });
      expect(run.status).toBe("cancelled");
      expect(run.steps[0].state).toBe("cancelled");
    }, 30_000);
  });
}

describe.if(process.platform === "linux")("exec steps where the sandbox refuses runs", () => {
  test("a run the sandbox refuses fails the step with sandbox_denied, not retried", async () => {
    // No filesystem isolation at all: `filesystem` (required by default) cannot be applied.
    const server = sandboxServer({ sandbox_disable: "bubblewrap,unshare" });
    const a = await server.token("acme");
    const caps = await server.json<Json>("/v1/sandbox/capabilities", { token: a });
    expect(caps.runs_refused).toBe(true);
    const workflow = {
      steps: [{ id: "x", kind: "exec", retry: { max_attempts: 3 }, with: { cmd: ["true"] } }],
    };
    const run = await runTo(server, { workflow }, a);
    expect(run.status).toBe("failed");
    expect(run.steps[0].error.code).toBe("sandbox_denied");
    expect(run.steps[0].attempts).toHaveLength(1);
  }, 30_000);
});
