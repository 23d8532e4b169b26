/**
 * Every generated tool, called once over Streamable HTTP with the SDK's client, in an order
 * where each finds what it needs (a document, a workspace, a checkpoint). The table must name
 * every tool: a tool added to the route table without a case here fails the last test.
 */
import { describe, expect, test } from "bun:test";
import { toolsOf } from "../../../src/mcp/mod.ts";
import { ADMIN } from "../../support/app.ts";
import { callTool, mcpFixture, type ToolResult, textOf } from "../../support/mcp.ts";

const fx = mcpFixture();

interface Ctx {
  ws: string;
  fork: string;
  checkpoint: string;
  run: string;
}

/** Two gates: after the first signal the run still waits, so it can be cancelled. */
const GATED = {
  steps: [
    { id: "gate", kind: "wait", with: { signal: "go" } },
    { id: "gate2", kind: "wait", needs: ["gate"], with: { signal: "go2" } },
  ],
};

/** Tool, arguments (given what earlier calls made), and what the answer must hold. */
const CASES: [string, (c: Ctx) => Record<string, unknown>, (r: ToolResult, c: Ctx) => void][] = [
  [
    "context_upsert",
    () => ({ items: [{ id: "every/a.ts#1", text: "export const everyTool = 1;" }] }),
    (r) => expect(r.structuredContent).toMatchObject({ inserted: 1 }),
  ],
  [
    "context_search",
    () => ({ query: "everyTool", strategy: "sparse" }),
    (r) => expect(JSON.stringify(r.structuredContent)).toContain("every/a.ts#1"),
  ],
  [
    "context_list",
    () => ({}),
    (r) => expect(JSON.stringify(r.structuredContent)).toContain("every/a.ts#1"),
  ],
  ["context_stats", () => ({}), (r) => expect(r.structuredContent).toMatchObject({ documents: 1 })],
  [
    "context_merge",
    () => ({ base: "a\n", ours: "a\nb\n", theirs: "a\n" }),
    (r) => expect(r.structuredContent).toMatchObject({ clean: true }),
  ],
  [
    "context_get",
    () => ({ id: "every/a.ts#1" }),
    (r) => expect(r.structuredContent).toMatchObject({ version: 1 }),
  ],
  [
    "context_versions",
    () => ({ id: "every/a.ts#1" }),
    (r) => expect((r.structuredContent as { versions: unknown[] }).versions).toHaveLength(1),
  ],
  [
    "context_version",
    () => ({ id: "every/a.ts#1", version: 1 }),
    (r) => expect(r.structuredContent).toMatchObject({ version: 1 }),
  ],
  [
    "context_delete",
    () => ({ id: "every/a.ts#1" }),
    (r) => expect(r.structuredContent).toMatchObject({ deleted: true }),
  ],
  [
    "context_delete_batch",
    () => ({ items: [{ id: "every/a.ts#1" }] }),
    (r) => expect(r.structuredContent).toMatchObject({ deleted: 0 }),
  ],
  [
    "sandbox_capabilities",
    () => ({}),
    (r) => expect(r.structuredContent).toHaveProperty("mechanisms"),
  ],
  [
    "sandbox_exec",
    () => ({ cmd: ["echo", "hi"] }),
    (r) => expect(r.structuredContent).toMatchObject({ stdout: "hi\n" }),
  ],
  [
    "workspace_create",
    () => ({ name: "every" }),
    (r, c) => {
      c.ws = (r.structuredContent as { id: string }).id;
      expect(c.ws).toBeString();
    },
  ],
  [
    "workspace_list",
    () => ({}),
    (r, c) => expect(JSON.stringify(r.structuredContent)).toContain(c.ws),
  ],
  [
    "workspace_show",
    (c) => ({ ws: c.ws }),
    (r) => expect(r.structuredContent).toMatchObject({ name: "every" }),
  ],
  [
    "workspace_write_file",
    (c) => ({ ws: c.ws, path: "dir/f.txt", content: "hello" }),
    (r) => expect(r.structuredContent).toMatchObject({ size: 5 }),
  ],
  ["workspace_list_files", (c) => ({ ws: c.ws }), (r) => expect(textOf(r)).toContain('"dir"')],
  [
    "workspace_read_file",
    (c) => ({ ws: c.ws, path: "dir/f.txt" }),
    (r) => expect(JSON.parse(textOf(r))).toMatchObject({ content: "hello", encoding: "utf8" }),
  ],
  [
    "context_ingest",
    (c) => ({ workspace: c.ws }),
    (r) => expect(r.structuredContent).toMatchObject({ files: 1, chunks: 1 }),
  ],
  [
    "workspace_exec",
    (c) => ({ ws: c.ws, cmd: ["cat", "dir/f.txt"] }),
    (r) => expect(r.structuredContent).toMatchObject({ stdout: "hello" }),
  ],
  [
    "checkpoint_take",
    (c) => ({ ws: c.ws }),
    (r, c) => {
      c.checkpoint = (r.structuredContent as { checkpoint_id: string }).checkpoint_id;
      expect(c.checkpoint).toBeString();
    },
  ],
  ["checkpoint_list", (c) => ({ ws: c.ws }), (r, c) => expect(textOf(r)).toContain(c.checkpoint)],
  [
    "workspace_delete_file",
    (c) => ({ ws: c.ws, path: "dir/f.txt" }),
    (r) => expect(r.isError).toBeFalsy(),
  ],
  [
    "checkpoint_restore",
    (c) => ({ ws: c.ws, id: c.checkpoint }),
    (r) => expect(r.structuredContent).toHaveProperty("checkpoint_id"),
  ],
  [
    "checkpoint_fork",
    (c) => ({ ws: c.ws, id: c.checkpoint, name: "every-fork" }),
    (r, c) => {
      c.fork = (r.structuredContent as { id: string }).id;
      expect(c.fork).toBeString();
    },
  ],
  [
    "checkpoint_delete",
    (c) => ({ ws: c.ws, id: c.checkpoint }),
    (r) => expect(r.isError).toBeFalsy(),
  ],
  [
    "workspace_delete",
    (c) => ({ ws: c.fork }),
    (r) => expect(r.structuredContent).toMatchObject({ deleted: true }),
  ],
  [
    "workflow_put",
    () => ({ name: "gated", ...GATED }),
    (r) => expect(r.structuredContent).toMatchObject({ name: "gated", version: 1 }),
  ],
  ["workflow_list", () => ({}), (r) => expect(textOf(r)).toContain("gated")],
  ["workflow_get", () => ({ name: "gated" }), (r) => expect(textOf(r)).toContain('"gate"')],
  [
    "run_start",
    () => ({ workflow_ref: { name: "gated", version: 1 } }),
    (r, c) => {
      c.run = JSON.parse(textOf(r)).run_id;
      expect(c.run).toBeString();
    },
  ],
  ["run_list", () => ({}), (r, c) => expect(textOf(r)).toContain(c.run)],
  [
    "run_status",
    (c) => ({ id: c.run }),
    (r) => expect(r.structuredContent).toMatchObject({ status: "waiting" }),
  ],
  ["run_signal", (c) => ({ id: c.run, name: "go" }), (r) => expect(r.isError).toBeFalsy()],
  ["run_events", (c) => ({ id: c.run }), (r) => expect(textOf(r)).toContain("run.created")],
  [
    "run_fork",
    (c) => ({ id: c.run, from_step: "gate2" }),
    (r, c) =>
      expect(r.structuredContent).toMatchObject({
        forked_from: { run_id: c.run, step_id: "gate2" },
      }),
  ],
  ["run_cancel", (c) => ({ id: c.run }), () => {}],
  ["budget_list", () => ({}), (r) => expect(r.structuredContent).toEqual({ budgets: [] })],
  [
    "audit_list",
    () => ({ action: "context.write" }),
    (r) =>
      expect((r.structuredContent as { records: unknown[] }).records.length).toBeGreaterThan(0),
  ],
];

describe("every MCP tool", () => {
  test("answers without a tool error, in order", async () => {
    const client = await fx.clientFor(ADMIN);
    const ctx: Ctx = { ws: "", fork: "", checkpoint: "", run: "" };
    for (const [name, args, check] of CASES) {
      const result = await callTool(client, name, args(ctx));
      expect({ name, error: result.isError ? textOf(result) : null }).toEqual({
        name,
        error: null,
      });
      check(result, ctx);
    }
  }, 60_000);

  test("the table names every generated tool", () => {
    const names = toolsOf(fx.app().app.http.routes).map((t) => t.name);
    expect(CASES.map(([name]) => name).sort()).toEqual([...names].sort());
  });
});
