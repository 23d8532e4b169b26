/**
 * The sandbox over HTTP, fail-closed (issue 13), in both modes: a writer of one tenant never
 * reads the server's secrets or another tenant's workspace; `GET /v1/sandbox/capabilities`
 * says what is enforced; without any filesystem view every run is refused, whatever the
 * operator allows, and the start-up line says so.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CapabilityReport, SandboxResult } from "../../../src/sandbox/mod.ts";
import { createToken, testApp } from "../../support/app.ts";
import { sandboxModes } from "./harness.ts";

const linux = process.platform === "linux";
const TOKEN_TEXT = "admin-token-in-file-0123456789";
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory removed when this file ends. */
function scratch(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function app(overrides: Record<string, string>) {
  const sandboxTemp = scratch("vltair-http-sbx-");
  return testApp({ sandbox_temp_dir: sandboxTemp, ...overrides });
}

async function exec(
  request: ReturnType<typeof testApp>["request"],
  body: unknown,
  token?: string,
): Promise<SandboxResult> {
  const response = await request("/v1/sandbox/exec", {
    method: "POST",
    body: JSON.stringify(body),
    ...(token === undefined ? {} : { token }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as SandboxResult;
}

for (const mode of sandboxModes("http.test.ts")) {
  const on = linux && mode.available;
  const disable = mode.disable.join(",");
  describe(`over HTTP [${mode.name}]`, () => {
    test.if(on)(
      "a writer of acme reads neither the admin token, the token store, the WAL nor default's workspace",
      async () => {
        const { request, app: server, config } = app({ sandbox_disable: disable });
        const data = path.resolve(config.data_dir);
        fs.writeFileSync(path.join(data, "admin.token"), TOKEN_TEXT, { mode: 0o600 });
        await createToken(server, { subject: "x", tenant: "default", roles: ["reader"] });
        await exec(request, { cmd: ["sh", "-c", "echo secret-of-default > s.txt"] });
        const acme = await createToken(server, { subject: "a", tenant: "acme", roles: ["writer"] });
        const result = await exec(
          request,
          {
            cmd: [
              "sh",
              "-c",
              "cat ../../admin.token ../../tokens.jsonl ../default/s.txt; ls -A ../.. ../../wal; echo x > ../default/evil",
            ],
          },
          acme.token,
        );
        expect(["FAILED", "SANDBOX_DENIED"]).toContain(result.status);
        expect(result.stdout).not.toContain(TOKEN_TEXT);
        expect(result.stdout).not.toContain("sha256");
        expect(result.stdout).not.toContain("secret-of-default");
        expect(result.stdout).not.toContain("tokens.jsonl");
        expect(fs.existsSync(path.join(data, "workspaces", "default", "evil"))).toBe(false);
        expect(result.enforced.hidden_paths).toMatchObject({ applied: true });
      },
    );
    test.if(on)(
      "workspaces outside the data directory: another tenant's is hidden too",
      async () => {
        const root = scratch("vltair-http-ws-");
        const { request, app: server } = app({
          sandbox_disable: disable,
          sandbox_workspace: path.join(root, "{tenant}", "work"),
        });
        const a = await createToken(server, { subject: "a", tenant: "a", roles: ["writer"] });
        const b = await createToken(server, { subject: "b", tenant: "b", roles: ["writer"] });
        await exec(request, { cmd: ["sh", "-c", "echo secret-of-a > a.txt"] }, a.token);
        const seen = await exec(
          request,
          { cmd: ["sh", "-c", `cat ${root}/a/work/a.txt; ls -A ${root}`] },
          b.token,
        );
        expect(seen.stdout).not.toContain("secret-of-a");
        // Only the mount point of b's own workspace shows under the masked root.
        expect(seen.stdout.trim()).toBe("b");
        const own = await exec(request, { cmd: ["cat", "a.txt"] }, a.token);
        expect(own).toMatchObject({ status: "OK", stdout: "secret-of-a\n" });
      },
    );
    test.if(on)("GET /v1/sandbox/capabilities needs a token and reports this mode", async () => {
      const { request, app: server } = app({ sandbox_disable: disable });
      expect((await request("/v1/sandbox/capabilities", { token: null })).status).toBe(401);
      const reader = await createToken(server, { subject: "r", tenant: "acme", roles: ["reader"] });
      const response = await request("/v1/sandbox/capabilities", { token: reader.token });
      expect(response.status).toBe(200);
      const report = (await response.json()) as CapabilityReport;
      expect(report.require).toEqual(["filesystem", "pids", "timeout", "process_tree"]);
      expect(report.mechanisms.bubblewrap?.available).toBe(mode.disable.length === 0);
      expect(report.enforced.filesystem).toMatchObject({
        applied: true,
        mechanism: mode.disable.length === 0 ? "bubblewrap" : "unshare_mount",
      });
      expect(report.enforced.hidden_paths.applied).toBe(true);
      // cpu_ms comes from the run's cgroup: v2 when delegated, else v1 cpuacct, else none.
      const v2 = report.mechanisms.cgroup_v2?.available === true;
      const v1 = report.mechanisms.cgroup_v1_cpuacct?.available === true;
      const mechanism = v2 ? "cgroup_v2" : v1 ? "cgroup_v1_cpuacct" : "none";
      expect(report.cpu_usage).toMatchObject({ measured: v2 || v1, mechanism });
      const run = await exec(request, { cmd: ["true"] });
      expect(run.cpu_ms === null).toBe(!report.cpu_usage.measured);
    });
  });
}

describe("over HTTP without any filesystem view", () => {
  test.if(linux)(
    "every run is refused (allow_partial or not), the report and the start-up line say why",
    async () => {
      const {
        request,
        app: server,
        config,
        logs,
      } = app({
        sandbox_disable: "bubblewrap,unshare",
        sandbox_allow_partial: "true",
      });
      const ws = path.resolve(config.data_dir, "workspaces", "default");
      const result = await exec(request, {
        cmd: ["sh", "-c", "echo ran > ran.txt"],
        allow_partial: true,
      });
      expect(result).toMatchObject({ status: "SANDBOX_DENIED", rc: 1, stdout: "" });
      expect(result.reason).toStartWith("required_not_applied:hidden_paths — ");
      expect(result.reason).toContain("install bubblewrap");
      expect(fs.existsSync(path.join(ws, "ran.txt"))).toBe(false);
      const report = (await (await request("/v1/sandbox/capabilities")).json()) as CapabilityReport;
      expect(report.runs_refused).toBe(true);
      expect(report.missing.map((m) => m.limit)).toEqual(["filesystem", "hidden_paths"]);
      expect(report.missing[1]?.hint).toContain("install bubblewrap");
      await server.sandbox.sweep();
      const line = logs.map((l) => JSON.parse(l)).find((l) => l.event === "sandbox.capabilities");
      expect(line).toMatchObject({
        level: "warn",
        runs_refused: true,
        missing: ["filesystem", "hidden_paths"],
      });
      expect(line.mechanisms).toMatchObject({ bubblewrap: false, unshare: false });
      expect(line.cpu_usage).toBe(report.cpu_usage.mechanism);
    },
  );
  test.if(linux)("a tenant root of / is config_invalid at start", () => {
    expect(() => app({ sandbox_workspace: "/{tenant}" })).toThrow(
      expect.objectContaining({ code: "config_invalid" }),
    );
  });
});

describe("over HTTP: bounded concurrency", () => {
  /** Polls /metrics until `line` shows, with a deadline. */
  async function waitForMetric(request: ReturnType<typeof testApp>["request"], line: string) {
    const deadline = performance.now() + 10_000;
    for (;;) {
      const text = await (await request("/metrics")).text();
      if (text.includes(line)) return text;
      if (performance.now() > deadline) throw new Error(`metric never showed: ${line}\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  test.if(linux)(
    "past a tenant's runs and queue: 429 queue_full with Retry-After; other tenants run; metrics count",
    async () => {
      const {
        request,
        app: server,
        config,
      } = app({
        sandbox_limits: '{"tenant_runs_max":1,"tenant_queued_runs_max":1}',
      });
      const other = await createToken(server, { subject: "o", tenant: "other", roles: ["writer"] });
      // In the workspace: the run has a private /tmp.
      const ws = path.resolve(config.data_dir, "workspaces", "default");
      fs.mkdirSync(ws, { recursive: true });
      const go = path.join(ws, "go");
      const slow = exec(request, {
        cmd: ["sh", "-c", `while [ ! -e ${go} ]; do sleep 0.01; done; echo first`],
        limits: { wall_ms: 20_000 },
      });
      await waitForMetric(request, "vltair_sandbox_runs_running 1");
      const queued = exec(request, { cmd: ["echo", "second"] });
      await waitForMetric(request, "vltair_sandbox_runs_queued 1");
      const refused = await request("/v1/sandbox/exec", {
        method: "POST",
        body: JSON.stringify({ cmd: ["echo", "third"] }),
      });
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      const error = ((await refused.json()) as { error: { code: string; details: unknown } }).error;
      expect(error).toMatchObject({ code: "queue_full", details: { scope: "tenant" } });
      // Another tenant is not held up by this one.
      expect(await exec(request, { cmd: ["echo", "elsewhere"] }, other.token)).toMatchObject({
        status: "OK",
        stdout: "elsewhere\n",
      });
      fs.writeFileSync(go, "");
      expect(await slow).toMatchObject({ status: "OK", stdout: "first\n" });
      expect(await queued).toMatchObject({ status: "OK", stdout: "second\n" });
      const text = await waitForMetric(request, 'vltair_sandbox_runs_total{status="OK"} 3');
      expect(text).toContain(
        'vltair_sandbox_runs_refused_total{reason="queue_full",scope="tenant"} 1',
      );
      expect(text).toContain("vltair_sandbox_queue_wait_seconds_count 3");
      expect(text).toContain('vltair_sandbox_run_duration_seconds_count{status="OK"} 3');
      expect(text).toContain("vltair_sandbox_runs_running 0");
    },
    30_000,
  );
  test("a per-tenant bound above the server's is config_invalid", () => {
    expect(() => app({ sandbox_limits: '{"tenant_runs_max":32}' })).toThrow(
      expect.objectContaining({ code: "config_invalid" }),
    );
  });
});
