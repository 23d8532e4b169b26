/**
 * Workspaces over HTTP (issue 13 item 4): lifecycle, the files API (byte-exact round trips,
 * traversal refused with a stable code and nothing applied), tenancy (another tenant's id is
 * 404 on every route), quotas, expiry by TTL, metadata across a restart, runs in a workspace
 * (isolated from the tenant's other workspaces, in both sandbox modes), and the gate between
 * runs and the files API.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { SandboxResult } from "../../../src/sandbox/mod.ts";
import { sandboxModes } from "../sandbox/harness.ts";
import {
  disposeServers,
  type SandboxServer,
  sandboxServer,
  scratchDir,
  waitFor,
} from "../sandbox/server-harness.ts";

afterAll(disposeServers);

const linux = process.platform === "linux";
const MIB = 1024 * 1024;

type Ws = { id: string; name: string | null; created_at: string; expires_at: string | null };

async function createWs(server: SandboxServer, body: unknown = {}, token?: string): Promise<Ws> {
  return server.json<Ws>("/v1/sandbox/workspaces", {
    method: "POST",
    body: JSON.stringify(body),
    status: 201,
    ...(token === undefined ? {} : { token }),
  });
}

function put(server: SandboxServer, ws: string, file: string, body: BodyInit, token?: string) {
  return server.request(`/v1/sandbox/workspaces/${ws}/files/${file}`, {
    method: "PUT",
    body,
    ...(token === undefined ? {} : { token }),
  });
}

async function execIn(
  server: SandboxServer,
  ws: string,
  body: unknown,
  token?: string,
): Promise<SandboxResult> {
  return server.json<SandboxResult>(`/v1/sandbox/workspaces/${ws}/exec`, {
    method: "POST",
    body: JSON.stringify(body),
    ...(token === undefined ? {} : { token }),
  });
}

function treeOf(server: SandboxServer, ws: string): string {
  return path.join(server.dataDir, "sandbox", "default", "workspaces", ws, "tree");
}

describe("workspace lifecycle", () => {
  test("create (201), show, list with the default one, delete; then 404 everywhere", async () => {
    const server = sandboxServer();
    const ws = await createWs(server, { name: "build", ttl_ms: 3_600_000 });
    expect(ws.id).toMatch(/^ws_[a-z2-7]{20}$/);
    expect(ws).toMatchObject({
      name: "build",
      created_at: "2026-01-01T00:00:00.000Z",
      expires_at: "2026-01-01T01:00:00.000Z",
    });
    const shown = await server.json(`/v1/sandbox/workspaces/${ws.id}`);
    expect(shown).toEqual({ ...ws, size_bytes: 0, files: 0, checkpoints: [] });
    const list = await server.json<{ workspaces: Ws[] }>("/v1/sandbox/workspaces");
    expect(list.workspaces.map((w) => w.id).sort()).toEqual(["default", ws.id].sort());
    expect(list.workspaces.find((w) => w.id === "default")?.expires_at).toBeNull();
    expect(await server.json(`/v1/sandbox/workspaces/${ws.id}`, { method: "DELETE" })).toEqual({
      deleted: true,
    });
    expect(fs.existsSync(path.dirname(treeOf(server, ws.id)))).toBe(false);
    for (const [method, suffix] of [
      ["GET", ""],
      ["DELETE", ""],
      ["GET", "/files"],
      ["PUT", "/files/a"],
    ] as const) {
      const error = await server.errorOf(
        `/v1/sandbox/workspaces/${ws.id}${suffix}`,
        { method },
        404,
      );
      expect(error.code).toBe("not_found");
    }
  });

  test("the default workspace cannot be deleted (409 conflict) and is the one /v1/sandbox/exec uses", async () => {
    const server = sandboxServer();
    const error = await server.errorOf("/v1/sandbox/workspaces/default", { method: "DELETE" }, 409);
    expect(error).toMatchObject({ code: "conflict", details: { reason: "default_workspace" } });
    expect((await put(server, "default", "in-default.txt", "from the files API")).status).toBe(200);
    const result = await server.json<SandboxResult>("/v1/sandbox/exec", {
      method: "POST",
      body: JSON.stringify({ cmd: ["cat", "in-default.txt"] }),
    });
    expect(result).toMatchObject({ status: "OK", stdout: "from the files API" });
  });

  test("bad bodies and ids: stable codes, nothing created", async () => {
    const server = sandboxServer();
    const cases: [string, number, string, string | null][] = [
      ["", 400, "bad_request", null],
      ["{", 400, "bad_request", null],
      ['{"ttl_ms":0}', 400, "validation_failed", "ttl_ms"],
      ['{"ttl_ms":-5}', 400, "validation_failed", "ttl_ms"],
      ['{"ttl_ms":"1h"}', 400, "validation_failed", "ttl_ms"],
      ['{"ttl_ms":1.5}', 400, "validation_failed", "ttl_ms"],
      ['{"ttl_ms":999}', 400, "validation_failed", "ttl_ms"],
      ['{"ttl_ms":2592000001}', 400, "validation_failed", "ttl_ms"],
      ['{"name":""}', 400, "validation_failed", "name"],
      [`{"name":"${"n".repeat(129)}"}`, 400, "validation_failed", "name"],
      ['{"name":"a\\u0007b"}', 400, "validation_failed", "name"],
      ['{"name":7}', 400, "validation_failed", "name"],
      ['{"bogus":1}', 400, "validation_failed", "bogus"],
      ["[]", 400, "validation_failed", ""],
    ];
    for (const [body, status, code, field] of cases) {
      const error = await server.errorOf(
        "/v1/sandbox/workspaces",
        { method: "POST", body },
        status,
      );
      expect([body, error.code]).toEqual([body, code]);
      if (field !== null) expect([body, error.details.field]).toEqual([body, field]);
    }
    const list = await server.json<{ workspaces: Ws[] }>("/v1/sandbox/workspaces");
    expect(list.workspaces.map((w) => w.id)).toEqual(["default"]);
    for (const id of ["ws_x", "WS_AAAAAAAAAAAAAAAAAAAA", "..", "ws_aaaaaaaaaaaaaaaaaaaa"]) {
      const error = await server.errorOf(`/v1/sandbox/workspaces/${id}`, {}, 404);
      expect(error.code).toBe("not_found");
    }
  });

  test("a reader may list and read but not create, write or run", async () => {
    const server = sandboxServer();
    const ws = await createWs(server);
    const reader = await server.token("default", "reader");
    await server.json("/v1/sandbox/workspaces", { token: reader });
    await server.json(`/v1/sandbox/workspaces/${ws.id}/files`, { token: reader });
    for (const [method, suffix, body] of [
      ["POST", "", "{}"],
      ["PUT", `/${ws.id}/files/a`, "x"],
      ["DELETE", `/${ws.id}`, undefined],
      ["POST", `/${ws.id}/exec`, '{"cmd":["true"]}'],
    ] as const) {
      const error = await server.errorOf(
        `/v1/sandbox/workspaces${suffix}`,
        { method, token: reader, ...(body === undefined ? {} : { body }) },
        403,
      );
      expect(error.code).toBe("forbidden");
    }
  });
});

describe("files API", () => {
  test("binary files round-trip byte-exact; sha256 and size are the bytes'", async () => {
    const server = sandboxServer();
    const ws = await createWs(server);
    const every = new Uint8Array(256).map((_, i) => i);
    const big = randomBytes(3 * MIB + 17);
    for (const [name, bytes] of [
      ["bin/every-byte.bin", every],
      ["bin/big.bin", big],
      ["empty", new Uint8Array(0)],
      ["ünï cödé €.txt", new TextEncoder().encode("héllo\n")],
    ] as const) {
      const encoded = name.split("/").map(encodeURIComponent).join("/");
      const written = await (await put(server, ws.id, encoded, bytes)).json();
      expect(written).toEqual({
        path: name,
        size: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
      const got = await server.request(`/v1/sandbox/workspaces/${ws.id}/files/${encoded}`);
      expect(got.headers.get("content-type")).toBe("application/octet-stream");
      expect(got.headers.get("content-length")).toBe(String(bytes.length));
      expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    }
    // A run sees the same bytes.
    const seen = await execIn(server, ws.id, { cmd: ["sha256sum", "bin/big.bin"] });
    expect(seen.stdout).toStartWith(createHash("sha256").update(big).digest("hex"));
  });

  test("directories list name, type, size, mode and mtime; ?mode sets the bits; delete is recursive", async () => {
    const server = sandboxServer();
    const ws = await createWs(server);
    expect((await put(server, ws.id, "src/run.sh?mode=755", "#!/bin/sh\necho ran\n")).status).toBe(
      200,
    );
    expect((await put(server, ws.id, "src/lib/a.txt", "aaa")).status).toBe(200);
    fs.symlinkSync("lib/a.txt", path.join(treeOf(server, ws.id), "src", "link"));
    const listing = await server.json<{ path: string; entries: Record<string, unknown>[] }>(
      `/v1/sandbox/workspaces/${ws.id}/files/src`,
    );
    expect(listing.path).toBe("src");
    expect(listing.entries.map(({ mtime, ...rest }) => rest)).toEqual([
      { name: "lib", type: "dir", size: 0, mode: "0755" },
      { name: "link", type: "symlink", size: 0, mode: "0777" },
      { name: "run.sh", type: "file", size: 19, mode: "0755" },
    ]);
    for (const entry of listing.entries) expect(entry.mtime).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(await execIn(server, ws.id, { cmd: ["./src/run.sh"] })).toMatchObject({
      status: "OK",
      stdout: "ran\n",
    });
    // Replacing keeps the mode; reading through an inner symlink works.
    expect((await put(server, ws.id, "src/run.sh", "#!/bin/sh\necho again\n")).status).toBe(200);
    expect(await execIn(server, ws.id, { cmd: ["./src/run.sh"] })).toMatchObject({
      stdout: "again\n",
    });
    expect(
      await (await server.request(`/v1/sandbox/workspaces/${ws.id}/files/src/link`)).text(),
    ).toBe("aaa");
    const root = await server.json<{ entries: { name: string }[] }>(
      `/v1/sandbox/workspaces/${ws.id}/files`,
    );
    expect(root.entries.map((e) => e.name)).toEqual(["src"]);
    expect(
      await server.json(`/v1/sandbox/workspaces/${ws.id}/files/src`, { method: "DELETE" }),
    ).toEqual({ deleted: true });
    expect(fs.readdirSync(treeOf(server, ws.id))).toEqual([]);
  });

  test("missing paths are 404, a directory cannot be overwritten (409), bad modes are 400", async () => {
    const server = sandboxServer();
    const ws = await createWs(server);
    await put(server, ws.id, "dir/file", "x");
    const base = `/v1/sandbox/workspaces/${ws.id}/files`;
    expect((await server.errorOf(`${base}/nope`, {}, 404)).code).toBe("not_found");
    expect((await server.errorOf(`${base}/nope`, { method: "DELETE" }, 404)).code).toBe(
      "not_found",
    );
    const dir = await server.errorOf(`${base}/dir`, { method: "PUT", body: "x" }, 409);
    expect(dir).toMatchObject({ code: "conflict", details: { reason: "is_a_directory" } });
    const under = await server.errorOf(`${base}/dir/file/x`, { method: "PUT", body: "x" }, 400);
    expect(under).toMatchObject({
      code: "validation_failed",
      details: { issue: "not_a_directory" },
    });
    for (const mode of ["999", "75", "7555", "rwx", "-1"]) {
      const error = await server.errorOf(
        `${base}/m?mode=${mode}`,
        { method: "PUT", body: "x" },
        400,
      );
      expect([mode, error.code, error.details.field]).toEqual([mode, "validation_failed", "mode"]);
    }
    expect(fs.readdirSync(treeOf(server, ws.id))).toEqual(["dir"]);
  });

  test("paths that leave the workspace are 400 validation_failed (details.field path) and nothing is applied", async () => {
    const server = sandboxServer();
    const ws = await createWs(server);
    const tree = treeOf(server, ws.id);
    const outside = scratchDir("vltair-sbx-outside-");
    fs.writeFileSync(path.join(outside, "secret"), "outside secret");
    fs.symlinkSync(outside, path.join(tree, "out"));
    fs.symlinkSync(path.join(outside, "secret"), path.join(tree, "secret-link"));
    fs.symlinkSync("/nonexistent-vltair", path.join(tree, "dangling"));
    const cases: [string, string][] = [
      ["..%2Fescaped", "outside_workspace"],
      ["a%2F..%2F..%2Fescaped", "outside_workspace"],
      ["%2E%2E%2F%2E%2E%2Fescaped", "outside_workspace"],
      ["%2Fetc%2Fpasswd", "absolute"],
      ["/etc/passwd", "absolute"],
      ["out/secret", "symlink_escape"],
      ["out/new-file", "symlink_escape"],
      ["out", "symlink_escape"],
      ["secret-link", "symlink_escape"],
      ["dangling", "dangling_symlink"],
      ["a%00b", "invalid"],
      [`${"n".repeat(256)}`, "invalid"],
      [`${"d/".repeat(2100)}f`, "invalid"],
    ];
    const base = `/v1/sandbox/workspaces/${ws.id}/files/`;
    for (const [file, issue] of cases) {
      for (const method of ["PUT", "GET"] as const) {
        const error = await server.errorOf(
          `${base}${file}`,
          { method, ...(method === "PUT" ? { body: "pwned" } : {}) },
          400,
        );
        expect([file, method, error.code, error.details.field, error.details.issue]).toEqual([
          file,
          method,
          "validation_failed",
          "path",
          issue,
        ]);
      }
    }
    expect(fs.readdirSync(outside)).toEqual(["secret"]);
    expect(fs.readFileSync(path.join(outside, "secret"), "utf8")).toBe("outside secret");
    expect(
      fs.existsSync(
        path.join(server.dataDir, "sandbox", "default", "workspaces", ws.id, "escaped"),
      ),
    ).toBe(false);
    // Deleting a link that points out removes the link, never its target.
    expect(await server.json(`${base}out`, { method: "DELETE" })).toEqual({ deleted: true });
    expect(fs.readFileSync(path.join(outside, "secret"), "utf8")).toBe("outside secret");
    expect((await server.errorOf(base.slice(0, -1), { method: "DELETE" }, 405)).code).toBe(
      "method_not_allowed",
    );
  });

  test("the data directory is out of reach when it lies inside a workspace", async () => {
    const root = scratchDir("vltair-sbx-shared-");
    const server = sandboxServer({
      data_dir: path.join(root, "data"),
      sandbox_workspace: path.join(root, "{tenant}", ".."),
    });
    fs.writeFileSync(path.join(root, "data", "admin.token"), "the admin token");
    const error = await server.errorOf(
      "/v1/sandbox/workspaces/default/files/data/admin.token",
      {},
      400,
    );
    expect(error).toMatchObject({ code: "validation_failed", details: { issue: "hidden" } });
  });
});

describe("tenancy", () => {
  test("another tenant's workspace id is 404 on every route; its files are untouched", async () => {
    const server = sandboxServer();
    const ws = await createWs(server);
    await put(server, ws.id, "mine.txt", "tenant default's");
    const other = await server.token("acme", "admin");
    const routes: [string, string, string | undefined][] = [
      ["GET", "", undefined],
      ["DELETE", "", undefined],
      ["GET", "/files", undefined],
      ["GET", "/files/mine.txt", undefined],
      ["PUT", "/files/mine.txt", "overwritten"],
      ["DELETE", "/files/mine.txt", undefined],
      ["POST", "/exec", '{"cmd":["sh","-c","echo x > mine.txt"]}'],
    ];
    for (const [method, suffix, body] of routes) {
      const error = await server.errorOf(
        `/v1/sandbox/workspaces/${ws.id}${suffix}`,
        { method, token: other, ...(body === undefined ? {} : { body }) },
        404,
      );
      expect([method, suffix, error.code]).toEqual([method, suffix, "not_found"]);
    }
    const list = await server.json<{ workspaces: Ws[] }>("/v1/sandbox/workspaces", {
      token: other,
    });
    expect(list.workspaces.map((w) => w.id)).toEqual(["default"]);
    expect(fs.readFileSync(path.join(treeOf(server, ws.id), "mine.txt"), "utf8")).toBe(
      "tenant default's",
    );
  });

  for (const mode of sandboxModes("sandbox-workspaces.test.ts")) {
    test.if(linux && mode.available)(
      `[${mode.name}] a run sees only its own workspace: not the tenant's others, not its default one`,
      async () => {
        const server = sandboxServer({ sandbox_disable: mode.disable.join(",") });
        const a = await createWs(server);
        const b = await createWs(server);
        await put(server, a.id, "a.txt", "secret of a");
        await put(server, "default", "d.txt", "secret of default");
        const here = await execIn(server, b.id, { cmd: ["pwd"] });
        const aTree = path.join(path.dirname(here.stdout.trim()), "..", a.id, "tree");
        const defaultTree = path.join(server.dataDir, "workspaces", "default");
        const seen = await execIn(server, b.id, {
          cmd: [
            "sh",
            "-c",
            `cat ${aTree}/a.txt ${defaultTree}/d.txt; ls -A ${path.dirname(path.dirname(here.stdout.trim()))}; echo x > ${aTree}/evil`,
          ],
        });
        expect(seen.stdout).not.toContain("secret of");
        expect(seen.stdout.trim()).toBe(b.id);
        expect(fs.existsSync(path.join(treeOf(server, a.id), "evil"))).toBe(false);
        expect(seen.enforced.hidden_paths.applied).toBe(true);
        expect(await execIn(server, a.id, { cmd: ["cat", "a.txt"] })).toMatchObject({
          status: "OK",
          stdout: "secret of a",
        });
      },
      20_000,
    );
  }
});

describe("quotas and caps", () => {
  test("upload cap: 413 payload_too_large, nothing written, no temp file left", async () => {
    const server = sandboxServer({ sandbox_limits: '{"upload_bytes_max":1000}' });
    const ws = await createWs(server);
    expect((await put(server, ws.id, "ok.bin", new Uint8Array(1000))).status).toBe(200);
    const error = await server.errorOf(
      `/v1/sandbox/workspaces/${ws.id}/files/big.bin`,
      { method: "PUT", body: new Uint8Array(1001) },
      413,
    );
    expect(error).toMatchObject({ code: "payload_too_large", details: { limit_bytes: 1000 } });
    expect(fs.readdirSync(treeOf(server, ws.id))).toEqual(["ok.bin"]);
  });

  test("bytes and files quotas per tenant: 429 rate_limited naming the quota, nothing applied", async () => {
    const server = sandboxServer({
      sandbox_limits: `{"tenant_workspace_bytes_max":${MIB},"tenant_workspace_files_max":16}`,
    });
    const ws = await createWs(server);
    expect((await put(server, ws.id, "a.bin", new Uint8Array(600 * 1024))).status).toBe(200);
    const bytes = await server.errorOf(
      `/v1/sandbox/workspaces/default/files/b.bin`,
      { method: "PUT", body: new Uint8Array(600 * 1024) },
      429,
    );
    expect(bytes).toMatchObject({
      code: "rate_limited",
      details: { limit: "tenant_workspace_bytes_max", quota: MIB },
    });
    // Replacing a file counts only the difference.
    expect((await put(server, ws.id, "a.bin", new Uint8Array(1000 * 1024))).status).toBe(200);
    for (let i = 0; i < 15; i += 1)
      expect((await put(server, ws.id, `f${i}`, "x")).status).toBe(200);
    const files = await server.errorOf(
      `/v1/sandbox/workspaces/${ws.id}/files/one-more`,
      { method: "PUT", body: "x" },
      429,
    );
    expect(files).toMatchObject({ details: { limit: "tenant_workspace_files_max" } });
    expect(fs.existsSync(path.join(treeOf(server, ws.id), "one-more"))).toBe(false);
    // Another tenant has its own quota.
    expect((await put(server, "default", "x", "x", await server.token("acme"))).status).toBe(200);
  });

  test("a run that overshoots the quota blocks the next run until files are deleted", async () => {
    const server = sandboxServer({ sandbox_limits: `{"tenant_workspace_bytes_max":${MIB}}` });
    const ws = await createWs(server);
    const big = await execIn(server, ws.id, {
      cmd: ["sh", "-c", "head -c 2000000 /dev/zero > big"],
    });
    expect(big.status).toBe("OK");
    const refused = await server.errorOf(
      `/v1/sandbox/workspaces/${ws.id}/exec`,
      { method: "POST", body: '{"cmd":["true"]}' },
      429,
    );
    expect(refused).toMatchObject({
      code: "rate_limited",
      details: { limit: "tenant_workspace_bytes_max" },
    });
    await server.json(`/v1/sandbox/workspaces/${ws.id}/files/big`, { method: "DELETE" });
    expect(await execIn(server, ws.id, { cmd: ["true"] })).toMatchObject({ status: "OK" });
  });

  test("workspaces_max per tenant: 429 rate_limited", async () => {
    const server = sandboxServer({ sandbox_limits: '{"workspaces_max":1}' });
    await createWs(server);
    const error = await server.errorOf(
      "/v1/sandbox/workspaces",
      { method: "POST", body: "{}" },
      429,
    );
    expect(error).toMatchObject({ code: "rate_limited", details: { limit: "workspaces_max" } });
    await createWs(server, {}, await server.token("acme"));
  });

  test("new sandbox_limits keys are checked at start (config_invalid naming the key)", () => {
    for (const limits of [
      '{"workspace_ttl_ms_default":999}',
      '{"workspace_ttl_ms_default":7200000,"workspace_ttl_ms_max":3600000}',
      '{"upload_bytes_max":0}',
      '{"tenant_workspace_files_max":15}',
      '{"checkpoints_max":0}',
      '{"dir_entries_max":0}',
      '{"workspace_sweep_ms":999}',
      '{"workspaces_max":0}',
    ]) {
      expect(() => sandboxServer({ sandbox_limits: limits })).toThrow(
        expect.objectContaining({ code: "config_invalid" }),
      );
    }
  });
});

describe("expiry and restart", () => {
  test("past its TTL a workspace is 404 at once and removed by the sweep", async () => {
    const server = sandboxServer();
    const ws = await createWs(server, { ttl_ms: 1000 });
    await put(server, ws.id, "f", "x");
    server.advanceMs(999);
    await server.json(`/v1/sandbox/workspaces/${ws.id}`);
    server.advanceMs(1);
    expect((await server.errorOf(`/v1/sandbox/workspaces/${ws.id}/files/f`, {}, 404)).code).toBe(
      "not_found",
    );
    expect(fs.existsSync(treeOf(server, ws.id))).toBe(true);
    expect(await server.app.sandbox.workspaces.sweep()).toEqual({ expired: 1, orphans: 0 });
    expect(fs.existsSync(path.dirname(treeOf(server, ws.id)))).toBe(false);
    const line = server.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.event === "sandbox.workspace.deleted");
    expect(line).toMatchObject({ workspace: ws.id, reason: "expired" });
  });

  test("the sweep leaves a workspace a run is in, and takes it once the run ended", async () => {
    const server = sandboxServer();
    const ws = await createWs(server, { ttl_ms: 1000 });
    const go = path.join(treeOf(server, ws.id), "go");
    const running = execIn(server, ws.id, {
      cmd: ["sh", "-c", "while [ ! -e go ]; do sleep 0.01; done"],
      limits: { wall_ms: 20_000 },
    });
    await waitFor("the run to start", () =>
      server.logs.some((l) => l.includes('"sandbox.run.start"')) ? true : undefined,
    );
    server.advanceMs(5000);
    expect(await server.app.sandbox.workspaces.sweep()).toEqual({ expired: 0, orphans: 0 });
    fs.writeFileSync(go, "");
    expect((await running).status).toBe("OK");
    expect(await server.app.sandbox.workspaces.sweep()).toEqual({ expired: 1, orphans: 0 });
  }, 30_000);

  test("metadata and files survive a restart; a crashed creation is swept", async () => {
    const first = sandboxServer();
    const ws = await createWs(first, { name: "keep", ttl_ms: 86_400_000 });
    await put(first, ws.id, "kept.txt", "still here");
    await first.close();
    const orphan = path.join(
      first.dataDir,
      "sandbox",
      "default",
      "workspaces",
      "ws_aaaaaaaaaaaaaaaaaaaa",
    );
    fs.mkdirSync(path.join(orphan, "tree"), { recursive: true });
    // The second server's start-up sweep removes the orphan before the first request.
    const second = sandboxServer({}, { dataDir: first.dataDir });
    expect(await second.json(`/v1/sandbox/workspaces/${ws.id}`)).toMatchObject({
      id: ws.id,
      name: "keep",
      created_at: ws.created_at,
      expires_at: ws.expires_at,
    });
    expect(
      await (await second.request(`/v1/sandbox/workspaces/${ws.id}/files/kept.txt`)).text(),
    ).toBe("still here");
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.existsSync(treeOf(second, ws.id))).toBe(true);
  });
});

describe("runs and the files API", () => {
  test("while a run is in a workspace its files API answers 409 run_in_progress; other workspaces are free", async () => {
    const server = sandboxServer();
    const ws = await createWs(server);
    const running = execIn(server, ws.id, {
      cmd: ["sh", "-c", "while [ ! -e go ]; do sleep 0.01; done"],
      limits: { wall_ms: 20_000 },
    });
    await waitFor("the run to start", () =>
      server.logs.some((l) => l.includes('"sandbox.run.start"')) ? true : undefined,
    );
    for (const [method, file] of [
      ["PUT", "x"],
      ["GET", "x"],
      ["DELETE", "x"],
    ] as const) {
      const error = await server.errorOf(
        `/v1/sandbox/workspaces/${ws.id}/files/${file}`,
        { method, ...(method === "PUT" ? { body: "x" } : {}) },
        409,
      );
      expect(error).toMatchObject({ code: "conflict", details: { reason: "run_in_progress" } });
    }
    expect(
      (await server.errorOf(`/v1/sandbox/workspaces/${ws.id}`, { method: "DELETE" }, 409)).code,
    ).toBe("conflict");
    expect((await put(server, "default", "free", "x")).status).toBe(200);
    fs.writeFileSync(path.join(treeOf(server, ws.id), "go"), "");
    expect((await running).status).toBe("OK");
    expect((await put(server, ws.id, "x", "x")).status).toBe(200);
  }, 30_000);
});
