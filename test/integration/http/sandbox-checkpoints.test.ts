/**
 * Checkpoints over HTTP (issue 13 item 5): a restore brings a tree a run mangled back byte-exact,
 * a run can never change a checkpoint's bytes, forks are independent workspaces, ids are
 * content addresses, the store counts toward the quota and is collected, and every bad id,
 * tenant or state answers a stable code with nothing applied.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { SandboxResult } from "../../../src/sandbox/mod.ts";
import {
  disposeServers,
  type SandboxServer,
  sandboxServer,
  waitFor,
} from "../sandbox/server-harness.ts";
import { treeState } from "../sandbox/tree-state.ts";

afterAll(disposeServers);

const linux = process.platform === "linux";

type Ws = { id: string };
type Taken = { checkpoint_id: string; size_bytes: number; files: number; stored_bytes: number };

async function newWs(server: SandboxServer, body = "{}"): Promise<string> {
  return (await server.json<Ws>("/v1/sandbox/workspaces", { method: "POST", body, status: 201 }))
    .id;
}

function run(server: SandboxServer, ws: string, script: string): Promise<SandboxResult> {
  return server.json<SandboxResult>(`/v1/sandbox/workspaces/${ws}/exec`, {
    method: "POST",
    body: JSON.stringify({ cmd: ["sh", "-c", script] }),
  });
}

function take(server: SandboxServer, ws: string): Promise<Taken> {
  return server.json<Taken>(`/v1/sandbox/workspaces/${ws}/checkpoints`, {
    method: "POST",
    status: 201,
  });
}

/** A server with a workspace filled by FILL, its state, and a checkpoint of it. */
async function filled() {
  const server = sandboxServer();
  const ws = await newWs(server);
  expect((await run(server, ws, FILL)).status).toBe("OK");
  const before = treeState(treeOf(server, ws));
  const taken = await take(server, ws);
  return { server, ws, before, taken };
}

function restore(server: SandboxServer, ws: string, id: string) {
  return server.json<Record<string, number>>(
    `/v1/sandbox/workspaces/${ws}/checkpoints/${id}:restore`,
    { method: "POST" },
  );
}

function treeOf(server: SandboxServer, ws: string): string {
  return path.join(server.dataDir, "sandbox", "default", "workspaces", ws, "tree");
}

function storeOf(server: SandboxServer): string {
  return path.join(server.dataDir, "sandbox", "default", "store");
}

/** A tree with binary files, modes, links, an empty directory, made by a run. */
const FILL = [
  "mkdir -p src/lib empty-dir bin",
  "printf 'print(1)\\n' > src/main.py",
  "head -c 300000 /dev/urandom > bin/blob",
  "printf '\\000\\001\\377\\376' > bin/tiny",
  "printf '#!/bin/sh\\necho ok\\n' > bin/run.sh && chmod 755 bin/run.sh",
  "echo secret > src/lib/key && chmod 600 src/lib/key",
  "ln -s main.py src/link",
  "chmod 555 src/lib",
].join(" && ");

/** Everything a run does to a tree it breaks. */
const MANGLE = [
  "chmod 755 src/lib",
  "echo tampered >> src/main.py",
  "printf X | dd of=bin/blob bs=1 seek=10 conv=notrunc 2>/dev/null",
  "chmod 644 bin/run.sh",
  "rm -rf empty-dir src/link && ln -s /etc src/link",
  "echo new > new.txt && mkdir -p more/deep && echo x > more/deep/x",
].join(" && ");

describe("checkpoints", () => {
  test.if(linux)(
    "restore brings a tree a run mangled back byte-exact; taking it again gives the same id",
    async () => {
      const { server, ws, before, taken } = await filled();
      expect(taken.checkpoint_id).toMatch(/^[0-9a-f]{64}$/);
      expect(taken).toMatchObject({ files: before.length, stored_bytes: taken.size_bytes });
      expect((await take(server, ws)).checkpoint_id).toBe(taken.checkpoint_id);
      expect((await run(server, ws, MANGLE)).status).toBe("OK");
      expect(treeState(treeOf(server, ws))).not.toEqual(before);
      const restored = await restore(server, ws, taken.checkpoint_id);
      expect(restored).toMatchObject({ checkpoint_id: taken.checkpoint_id });
      expect(treeState(treeOf(server, ws))).toEqual(before);
      // The run sees the restored tree.
      expect((await run(server, ws, "./bin/run.sh && cat src/link")).stdout).toBe("ok\nprint(1)\n");
      const list = await server.json<{ checkpoints: { checkpoint_id: string }[] }>(
        `/v1/sandbox/workspaces/${ws}/checkpoints`,
      );
      expect(list.checkpoints.map((c) => c.checkpoint_id)).toEqual([taken.checkpoint_id]);
    },
    30_000,
  );

  test.if(linux)(
    "a run cannot change a checkpoint's bytes: the store is read-only copies, restored files are new copies",
    async () => {
      const { server, ws, before, taken } = await filled();
      const tamper =
        'chmod -R u+w . && find . -type f | while read f; do printf EVIL | dd of="$f" conv=notrunc 2>/dev/null; done';
      for (let round = 0; round < 2; round += 1) {
        expect((await run(server, ws, tamper)).status).toBe("OK");
        await restore(server, ws, taken.checkpoint_id);
        expect(treeState(treeOf(server, ws))).toEqual(before);
      }
      // Every blob is named by its bytes, read-only, and linked from nowhere else.
      const blobs = fs
        .readdirSync(path.join(storeOf(server), "blobs"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile());
      expect(blobs.length).toBeGreaterThan(0);
      for (const blob of blobs) {
        const abs = path.join(blob.parentPath, blob.name);
        const info = fs.statSync(abs);
        expect([blob.name, info.nlink, info.mode & 0o777]).toEqual([blob.name, 1, 0o444]);
        expect(createHash("sha256").update(fs.readFileSync(abs)).digest("hex")).toBe(blob.name);
      }
    },
    30_000,
  );

  test.if(linux)(
    "fork: a new, independent workspace holding the checkpoint; the store is collected when nothing uses it",
    async () => {
      const { server, ws, before, taken } = await filled();
      const fork = await server.json<Ws & { name: string; checkpoint_id: string }>(
        `/v1/sandbox/workspaces/${ws}/checkpoints/${taken.checkpoint_id}:fork`,
        { method: "POST", body: '{"name":"try-it","ttl_ms":60000}', status: 201 },
      );
      expect(fork).toMatchObject({ name: "try-it", checkpoint_id: taken.checkpoint_id });
      expect(fork.id).not.toBe(ws);
      expect(treeState(treeOf(server, fork.id))).toEqual(before);
      await run(server, fork.id, MANGLE);
      expect(treeState(treeOf(server, ws))).toEqual(before);
      expect(await server.json(`/v1/sandbox/workspaces/${fork.id}`)).toMatchObject({
        checkpoints: [taken.checkpoint_id],
      });
      // The original goes; the fork still restores its checkpoint.
      await server.json(`/v1/sandbox/workspaces/${ws}`, { method: "DELETE" });
      await restore(server, fork.id, taken.checkpoint_id);
      expect(treeState(treeOf(server, fork.id))).toEqual(before);
      await server.json(`/v1/sandbox/workspaces/${fork.id}/checkpoints/${taken.checkpoint_id}`, {
        method: "DELETE",
      });
      const left = fs.readdirSync(path.join(storeOf(server), "blobs"), { recursive: true });
      expect(left.filter((name) => String(name).length === 64 + 3)).toEqual([]);
      expect(fs.readdirSync(path.join(storeOf(server), "manifests"))).toEqual([]);
    },
    30_000,
  );

  test("unknown, malformed and other workspaces' checkpoint ids are 404; other tenants get 404 everywhere", async () => {
    const server = sandboxServer();
    const a = await newWs(server);
    const b = await newWs(server);
    fs.writeFileSync(path.join(treeOf(server, a), "f"), "x");
    const taken = await take(server, a);
    const id = taken.checkpoint_id;
    const cases: [string, string, string | undefined][] = [
      ["POST", `/v1/sandbox/workspaces/${a}/checkpoints/${"0".repeat(64)}:restore`, undefined],
      ["POST", `/v1/sandbox/workspaces/${a}/checkpoints/${"0".repeat(64)}:fork`, "{}"],
      ["DELETE", `/v1/sandbox/workspaces/${a}/checkpoints/${"0".repeat(64)}`, undefined],
      ["DELETE", `/v1/sandbox/workspaces/${a}/checkpoints/not-an-id`, undefined],
      // A checkpoint of workspace a is not one of b's.
      ["POST", `/v1/sandbox/workspaces/${b}/checkpoints/${id}:restore`, undefined],
    ];
    for (const [method, url, body] of cases) {
      const error = await server.errorOf(
        url,
        { method, ...(body === undefined ? {} : { body }) },
        404,
      );
      expect([url, error.code]).toEqual([url, "not_found"]);
    }
    // Not an id, or not a verb: no such route.
    for (const suffix of ["XYZ:restore", `${id}:explode`]) {
      const error = await server.errorOf(
        `/v1/sandbox/workspaces/${a}/checkpoints/${suffix}`,
        { method: "POST" },
        404,
      );
      expect(error.code).toBe("not_found");
    }
    const other = await server.token("acme", "admin");
    for (const [method, suffix, body] of [
      ["POST", "", undefined],
      ["GET", "", undefined],
      ["DELETE", `/${id}`, undefined],
      ["POST", `/${id}:restore`, undefined],
      ["POST", `/${id}:fork`, "{}"],
    ] as const) {
      const error = await server.errorOf(
        `/v1/sandbox/workspaces/${a}/checkpoints${suffix}`,
        { method, token: other, ...(body === undefined ? {} : { body }) },
        404,
      );
      expect([method, suffix, error.code]).toEqual([method, suffix, "not_found"]);
    }
    // Nothing was applied: still one checkpoint, a's tree intact, no fork made.
    expect(await server.json(`/v1/sandbox/workspaces/${a}`)).toMatchObject({ checkpoints: [id] });
    const list = await server.json<{ workspaces: Ws[] }>("/v1/sandbox/workspaces");
    expect(list.workspaces).toHaveLength(3);
    const bad = await server.errorOf(
      `/v1/sandbox/workspaces/${a}/checkpoints/${id}:fork`,
      { method: "POST", body: '{"ttl_ms":0}' },
      400,
    );
    expect(bad).toMatchObject({ code: "validation_failed", details: { field: "ttl_ms" } });
    expect(
      (await server.json<{ workspaces: Ws[] }>("/v1/sandbox/workspaces")).workspaces,
    ).toHaveLength(3);
  });

  test("checkpoints_max and the tenant's bytes quota (the store counts): 429, nothing kept", async () => {
    const server = sandboxServer({
      sandbox_limits: '{"checkpoints_max":2,"tenant_workspace_bytes_max":1048576}',
    });
    const ws = await newWs(server);
    const tree = treeOf(server, ws);
    fs.writeFileSync(path.join(tree, "a"), "1");
    await take(server, ws);
    fs.writeFileSync(path.join(tree, "a"), "2");
    await take(server, ws);
    fs.writeFileSync(path.join(tree, "a"), "3");
    const many = await server.errorOf(
      `/v1/sandbox/workspaces/${ws}/checkpoints`,
      { method: "POST" },
      429,
    );
    expect(many).toMatchObject({ code: "rate_limited", details: { limit: "checkpoints_max" } });
    const other = await newWs(server);
    fs.writeFileSync(path.join(treeOf(server, other), "big"), new Uint8Array(600 * 1024));
    const full = await server.errorOf(
      `/v1/sandbox/workspaces/${other}/checkpoints`,
      { method: "POST" },
      429,
    );
    expect(full).toMatchObject({
      code: "rate_limited",
      details: { limit: "tenant_workspace_bytes_max" },
    });
    expect(await server.json(`/v1/sandbox/workspaces/${other}/checkpoints`)).toEqual({
      checkpoints: [],
    });
    const stored = fs
      .readdirSync(path.join(storeOf(server), "blobs"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile());
    expect(stored).toHaveLength(2);
  });

  test.if(linux)(
    "while a run is in the workspace, take and restore are 409 run_in_progress",
    async () => {
      const server = sandboxServer();
      const ws = await newWs(server);
      fs.writeFileSync(path.join(treeOf(server, ws), "f"), "x");
      const taken = await take(server, ws);
      const running = run(server, ws, "while [ ! -e go ]; do sleep 0.01; done");
      await waitFor("the run to start", () =>
        server.logs.some((l) => l.includes('"sandbox.run.start"')) ? true : undefined,
      );
      for (const url of [
        `/v1/sandbox/workspaces/${ws}/checkpoints`,
        `/v1/sandbox/workspaces/${ws}/checkpoints/${taken.checkpoint_id}:restore`,
      ]) {
        const error = await server.errorOf(url, { method: "POST" }, 409);
        expect(error).toMatchObject({ code: "conflict", details: { reason: "run_in_progress" } });
      }
      fs.writeFileSync(path.join(treeOf(server, ws), "go"), "");
      expect((await running).status).toBe("OK");
    },
    30_000,
  );

  test("checkpoints survive a restart; an expired workspace's checkpoints are collected by the sweep", async () => {
    const first = sandboxServer();
    const ws = await newWs(first, '{"ttl_ms":5000}');
    fs.writeFileSync(path.join(treeOf(first, ws), "kept"), "kept bytes");
    const taken = await take(first, ws);
    await first.close();
    const second = sandboxServer({}, { dataDir: first.dataDir });
    fs.writeFileSync(path.join(treeOf(second, ws), "kept"), "changed");
    await restore(second, ws, taken.checkpoint_id);
    expect(fs.readFileSync(path.join(treeOf(second, ws), "kept"), "utf8")).toBe("kept bytes");
    second.advanceMs(5000);
    expect(await second.app.sandbox.workspaces.sweep()).toEqual({ expired: 1, orphans: 0 });
    expect(fs.readdirSync(path.join(storeOf(second), "manifests"))).toEqual([]);
  });
});
