import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { createToken, testApp } from "../../support/app.ts";

type Result = {
  status: string;
  rc: number;
  stdout: string;
  stderr: string;
  trace_id: string;
  enforced: Record<string, { applied: boolean }>;
};

function post(request: ReturnType<typeof testApp>["request"], body: unknown, token?: string) {
  return request("/v1/sandbox/exec", {
    method: "POST",
    body: JSON.stringify(body),
    ...(token === undefined ? {} : { token }),
  });
}

describe("POST /v1/sandbox/exec", () => {
  test("runs a command in the tenant's workspace and reports what was enforced", async () => {
    const { request, config } = testApp();
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const response = await request("/v1/sandbox/exec", {
      method: "POST",
      headers: { traceparent },
      body: JSON.stringify({ cmd: ["sh", "-c", "pwd; echo out > made.txt; echo err >&2; exit 3"] }),
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as Result;
    expect(result.status).toBe("FAILED");
    expect(result.rc).toBe(3);
    expect(result.stderr).toBe("err\n");
    expect(result.trace_id).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    const workspace = path.resolve(config.data_dir, "workspaces", "default");
    expect(result.stdout.trim()).toBe(workspace);
    expect(fs.readFileSync(path.join(workspace, "made.txt"), "utf8")).toBe("out\n");
    expect(Object.keys(result.enforced)).toContain("network");
  });

  test("TIMEOUT is rc 124", async () => {
    const { request } = testApp();
    const result = (await (
      await post(request, { cmd: ["sleep", "5"], limits: { wall_ms: 200 } })
    ).json()) as Result;
    expect(result.status).toBe("TIMEOUT");
    expect(result.rc).toBe(124);
  });

  test("invalid requests are 400 validation_failed naming the field, and nothing runs", async () => {
    const { request, config } = testApp();
    const cases: [unknown, string][] = [
      [{ cmd: [] }, "cmd"],
      [{ cmd: ["sh", "-c", "touch escaped"], cwd: "../.." }, "cwd"],
      [{ cmd: ["true"], limits: { wall_ms: 0 } }, "limits.wall_ms"],
      [{ cmd: ["true"], network: "maybe" }, "network"],
      [{ cmd: ["true"], bogus: 1 }, "bogus"],
    ];
    for (const [body, field] of cases) {
      const response = await post(request, body);
      expect(response.status).toBe(400);
      const error = (
        (await response.json()) as { error: { code: string; details: { field: string } } }
      ).error;
      expect(error.code).toBe("validation_failed");
      expect(error.details.field).toBe(field);
    }
    expect(fs.existsSync(path.resolve(config.data_dir, "escaped"))).toBe(false);
  });

  test("a reader may not run commands (403); a writer may", async () => {
    const { request, app } = testApp();
    const reader = await createToken(app, { subject: "r", tenant: "default", roles: ["reader"] });
    const writer = await createToken(app, { subject: "w", tenant: "default", roles: ["writer"] });
    expect((await post(request, { cmd: ["true"] }, reader.token)).status).toBe(403);
    expect((await post(request, { cmd: ["true"] }, writer.token)).status).toBe(200);
  });

  test("tenants have separate workspaces: B never sees A's files", async () => {
    const { request, app } = testApp();
    const a = await createToken(app, { subject: "a", tenant: "tenant-a", roles: ["writer"] });
    const b = await createToken(app, { subject: "b", tenant: "tenant-b", roles: ["writer"] });
    await post(request, { cmd: ["sh", "-c", "echo secret-of-a > a.txt"] }, a.token);
    const seenByB = (await (
      await post(request, { cmd: ["sh", "-c", "ls; cat a.txt"] }, b.token)
    ).json()) as Result;
    expect(seenByB.status).toBe("FAILED");
    expect(seenByB.stdout).not.toContain("a.txt");
    expect(seenByB.stdout).not.toContain("secret-of-a");
    const seenByA = (await (
      await post(request, { cmd: ["cat", "a.txt"] }, a.token)
    ).json()) as Result;
    expect(seenByA.stdout).toBe("secret-of-a\n");
  });

  test("the data directory (token store, admin token) is hidden from runs", async () => {
    const { request, app, config } = testApp();
    await createToken(app, { subject: "x", tenant: "default", roles: ["reader"] });
    // Token records (their hashes) are in the WAL's segment.
    const walDir = path.resolve(config.data_dir, "wal");
    const store = path.join(walDir, fs.readdirSync(walDir)[0] as string);
    expect(fs.readFileSync(store, "latin1")).toContain("sha256");
    const result = (await (await post(request, { cmd: ["cat", store] })).json()) as Result;
    const hidden = result.enforced.hidden_paths;
    expect(hidden).toBeDefined();
    if (hidden?.applied === true) {
      expect(result.stdout).not.toContain("sha256");
    } else {
      // Without filesystem isolation the report must say so rather than pretend.
      expect(hidden?.applied).toBe(false);
    }
  });

  test("the server's environment, tokens included, does not reach the run", async () => {
    const { request } = testApp();
    process.env.VLTAIR_TEST_SECRET = "do-not-leak-0123";
    try {
      const result = (await (await post(request, { cmd: ["env"] })).json()) as Result;
      expect(result.status).toBe("OK");
      expect(result.stdout).not.toContain("do-not-leak-0123");
      expect(result.stdout).not.toContain("VLTAIR_");
    } finally {
      delete process.env.VLTAIR_TEST_SECRET;
    }
  });
});
