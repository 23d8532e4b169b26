/**
 * MCP workspace, file and checkpoint tools (generated from the sandbox v2 routes), and a
 * streamed exec's output as progress notifications — over Streamable HTTP with the SDK client.
 */
import { describe, expect, test } from "bun:test";
import { callTool, mcpFixture, type ToolResult, textOf } from "../../support/mcp.ts";

const fx = mcpFixture();
const { clientFor } = fx;
const call = callTool;
const jsonOf = (r: ToolResult) => JSON.parse(textOf(r));
const tokenFor = (tenant: string, role: "reader" | "writer" | "admin") =>
  fx.app().tokenFor(tenant, role);

describe("MCP workspace tools", () => {
  test("files round-trip byte-exact (UTF-8 and binary), traversal is refused, checkpoints restore", async () => {
    const client = await clientFor(await tokenFor("ws-tools", "writer"));
    const created = await call(client, "workspace_create", { name: "mcp" });
    const ws = (created.structuredContent as { id: string }).id;
    expect(ws).toBeString();
    const text = "héllo from MCP\n";
    const wrote = await call(client, "workspace_write_file", {
      ws,
      path: "src/a b.txt",
      content: text,
    });
    expect(wrote.structuredContent).toMatchObject({ path: "src/a b.txt", size: 16 });
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    await call(client, "workspace_write_file", {
      ws,
      path: "bin/all.bytes",
      content: Buffer.from(binary).toString("base64"),
      encoding: "base64",
    });
    expect(jsonOf(await call(client, "workspace_read_file", { ws, path: "src/a b.txt" }))).toEqual({
      content: text,
      encoding: "utf8",
      size_bytes: 16,
    });
    const readBinary = jsonOf(
      await call(client, "workspace_read_file", { ws, path: "bin/all.bytes" }),
    );
    expect(readBinary.encoding).toBe("base64");
    expect(Buffer.from(readBinary.content, "base64").equals(Buffer.from(binary))).toBe(true);
    const listing = jsonOf(await call(client, "workspace_read_file", { ws, path: "src" }));
    expect(listing.entries.map((e: { name: string }) => e.name)).toEqual(["a b.txt"]);
    const traversal = await call(client, "workspace_write_file", {
      ws,
      path: "../x",
      content: "x",
    });
    expect(traversal.isError).toBe(true);
    expect(textOf(traversal)).toStartWith("validation_failed:");

    const taken = await call(client, "checkpoint_take", { ws });
    const id = (taken.structuredContent as { checkpoint_id: string }).checkpoint_id;
    await call(client, "workspace_write_file", { ws, path: "src/a b.txt", content: "changed" });
    await call(client, "workspace_delete_file", { ws, path: "bin" });
    const restored = await call(client, "checkpoint_restore", { ws, id });
    expect(restored.isError).toBeFalsy();
    expect(
      jsonOf(await call(client, "workspace_read_file", { ws, path: "src/a b.txt" })).content,
    ).toBe(text);
    const forked = await call(client, "checkpoint_fork", { ws, id, name: "fork" });
    const fork = (forked.structuredContent as { id: string }).id;
    const ran = await call(client, "workspace_exec", { ws: fork, cmd: ["cat", "src/a b.txt"] });
    expect(ran.structuredContent).toMatchObject({ status: "OK", stdout: text });
  }, 30_000);

  test("another tenant's workspace is not found through every workspace tool", async () => {
    const a = await clientFor(await tokenFor("ws-tenant-a", "writer"));
    const b = await clientFor(await tokenFor("ws-tenant-b", "admin"));
    const ws = ((await call(a, "workspace_create", {})).structuredContent as { id: string }).id;
    await call(a, "workspace_write_file", { ws, path: "secret.txt", content: "a's secret" });
    for (const [name, args] of [
      ["workspace_show", { ws }],
      ["workspace_read_file", { ws, path: "secret.txt" }],
      ["workspace_list_files", { ws }],
      ["workspace_write_file", { ws, path: "x", content: "x" }],
      ["workspace_delete_file", { ws, path: "secret.txt" }],
      ["workspace_exec", { ws, cmd: ["cat", "secret.txt"] }],
      ["checkpoint_take", { ws }],
      ["checkpoint_list", { ws }],
      ["workspace_delete", { ws }],
    ] as const) {
      const refused = await call(b, name, args);
      expect({ name, text: textOf(refused).split(":")[0] }).toEqual({ name, text: "not_found" });
    }
    const listed = (await call(b, "workspace_list", {})).structuredContent as {
      workspaces: { id: string }[];
    };
    expect(listed.workspaces.map((w) => w.id)).not.toContain(ws);
    expect(jsonOf(await call(a, "workspace_read_file", { ws, path: "secret.txt" })).content).toBe(
      "a's secret",
    );
  }, 30_000);

  test("a reader cannot write, run or checkpoint: forbidden as on REST", async () => {
    const reader = await clientFor(await tokenFor("ws-reader", "reader"));
    for (const [name, args] of [
      ["workspace_create", {}],
      ["workspace_exec", { ws: "default", cmd: ["true"] }],
      ["sandbox_exec", { cmd: ["true"] }],
    ] as const) {
      expect(textOf(await call(reader, name, args))).toStartWith("forbidden:");
    }
  });
});

describe("MCP progress", () => {
  test("sandbox_exec with a progress token streams each line before the run ends", async () => {
    const client = await clientFor(await tokenFor("progress", "writer"));
    const messages: { message: string | undefined; atMs: number }[] = [];
    const startedMs = performance.now();
    const result = (await client.callTool(
      {
        name: "sandbox_exec",
        arguments: {
          cmd: ["sh", "-c", "echo one; sleep 0.4; echo two >&2; sleep 0.4; echo three"],
        },
      },
      undefined,
      { onprogress: (p) => messages.push({ message: p.message, atMs: performance.now() }) },
    )) as ToolResult;
    const endedMs = performance.now();
    expect(result.structuredContent).toMatchObject({ status: "OK", stdout: "one\nthree\n" });
    expect(messages.map((m) => m.message)).toEqual([
      "stdout: one\n",
      "stderr: two\n",
      "stdout: three\n",
    ]);
    // The first line arrived while the command was still sleeping.
    expect((messages[0]?.atMs ?? endedMs) - startedMs).toBeLessThan(endedMs - startedMs - 300);
  }, 30_000);

  test("context_ingest with a progress token reports each batch, then the counts", async () => {
    const client = await clientFor(await tokenFor("progress", "writer"));
    for (const n of [1, 2]) {
      const written = await call(client, "workspace_write_file", {
        ws: "default",
        path: `docs/n${n}.md`,
        content: `note ${n}\n`,
      });
      expect(written.isError).toBeFalsy();
    }
    const messages: string[] = [];
    const result = (await client.callTool(
      { name: "context_ingest", arguments: { path: "docs" } },
      undefined,
      { onprogress: (p) => messages.push(String(p.message)) },
    )) as ToolResult;
    expect(result.structuredContent).toMatchObject({ files: 2, chunks: 2, inserted: 2 });
    expect(messages).toEqual(["progress: files 2, chunks 2"]);
  }, 30_000);

  test("without a progress token the same tool answers once, with no notifications", async () => {
    const client = await clientFor(await tokenFor("progress", "writer"));
    let notified = 0;
    client.setNotificationHandler(
      (await import("@modelcontextprotocol/sdk/types.js")).ProgressNotificationSchema,
      () => {
        notified++;
      },
    );
    const result = await call(client, "sandbox_exec", { cmd: ["echo", "quiet"] });
    expect(result.structuredContent).toMatchObject({ stdout: "quiet\n" });
    expect(notified).toBe(0);
  });
});
