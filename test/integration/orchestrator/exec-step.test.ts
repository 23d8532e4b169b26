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
  return poll(
    () => {
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
