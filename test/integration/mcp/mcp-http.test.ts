/**
 * MCP over Streamable HTTP at `/mcp`, with the SDK's own client (its fetch goes to the app in
 * process): generated tools, calls with the token's roles and tenant, documents as resources,
 * sessions bound to their token, DNS-rebinding protection, and cancellation.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import * as v from "valibot";
import { defineRoute } from "../../../src/http/route.ts";
import { toolsOf } from "../../../src/mcp/mod.ts";
import { ADMIN } from "../../support/app.ts";
import type { ContextTestApp } from "../../support/context.ts";
import { callTool, mcpFixture, textOf } from "../../support/mcp.ts";
import { poll } from "../../support/process.ts";

const fx = mcpFixture();
const { clientFor } = fx;
let t: ContextTestApp;
beforeAll(() => {
  t = fx.app();
});
const call = callTool;

describe("MCP tools", () => {
  test("the tool list holds API.md's context and sandbox tools, with schemas and hints from the routes", async () => {
    const client = await clientFor(ADMIN);
    const { tools } = await client.listTools();
    const names = tools.map((x) => x.name);
    for (const name of [
      "context_search",
      "context_get",
      "context_list",
      "context_versions",
      "context_upsert",
      "context_delete",
      "context_merge",
      "sandbox_exec",
    ]) {
      expect(names).toContain(name);
    }
    const search = tools.find((x) => x.name === "context_search");
    expect(search?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(Object.keys(search?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["query", "k", "strategy", "filters", "at"]),
    );
    expect(search?.outputSchema?.properties).toHaveProperty("results");
    const del = tools.find((x) => x.name === "context_delete");
    expect(del?.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(del?.inputSchema.required).toEqual(expect.arrayContaining(["id"]));
  });

  test("a field added to a route's schema is in its tool's input schema (generated, not copied)", () => {
    const route = (body: v.GenericSchema) =>
      defineRoute({
        method: "POST",
        path: "/v1/things/:id",
        summary: "s",
        tag: "t",
        access: "reader",
        body,
        tool: { name: "thing", title: "T", readOnly: true, destructive: false, idempotent: true },
        responses: { 200: { description: "ok", schema: v.object({ ok: v.boolean() }) } },
        handler: (c) => c.json({ ok: true }),
      });
    const before = toolsOf([route(v.strictObject({ a: v.string() }))])[0];
    const after = toolsOf([route(v.strictObject({ a: v.string(), added: v.number() }))])[0];
    expect(Object.keys(before?.inputSchema.properties as object)).toEqual(["id", "a"]);
    expect(Object.keys(after?.inputSchema.properties as object)).toEqual(["id", "a", "added"]);
  });

  test("calls answer the route's body; errors carry the envelope code", async () => {
    const client = await clientFor(ADMIN);
    const up = await call(client, "context_upsert", {
      items: [{ id: "src/a.ts#1", text: "export function parseMcpConfig() {}" }],
    });
    expect(up.isError).toBeFalsy();
    expect(up.structuredContent).toMatchObject({ inserted: 1 });
    const found = await call(client, "context_search", {
      query: "parse config",
      k: 5,
      strategy: "sparse",
    });
    expect((found.structuredContent as { results: { id: string }[] }).results[0]?.id).toBe(
      "src/a.ts#1",
    );
    const got = await call(client, "context_get", { id: "src/a.ts#1" });
    expect((got.structuredContent as { text: string }).text).toContain("parseMcpConfig");
    const versions = await call(client, "context_versions", { id: "src/a.ts#1" });
    expect((versions.structuredContent as { versions: unknown[] }).versions).toHaveLength(1);
    const merged = await call(client, "context_merge", {
      base: "a\n",
      ours: "a\nb\n",
      theirs: "a\n",
    });
    expect(merged.structuredContent).toMatchObject({ merged: "a\nb\n", clean: true });
    const missing = await call(client, "context_get", { id: "nope" });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toStartWith("not_found:");
    const invalid = await call(client, "context_search", { query: "x", k: 0 });
    expect(textOf(invalid)).toStartWith("validation_failed:");
    const deleted = await call(client, "context_delete", { id: "src/a.ts#1" });
    expect(deleted.structuredContent).toMatchObject({ deleted: true });
  });
});

describe("MCP tenancy and roles: exactly as on REST", () => {
  test("a reader's context_upsert is forbidden; tenant A never sees tenant B's documents", async () => {
    const reader = await clientFor(await t.tokenFor("acme", "reader"));
    const refused = await call(reader, "context_upsert", { items: [{ id: "x", text: "y" }] });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toStartWith("forbidden:");
    const a = await clientFor(await t.tokenFor("tenant-a", "writer"));
    const b = await clientFor(await t.tokenFor("tenant-b", "writer"));
    await call(a, "context_upsert", { items: [{ id: "secret", text: "alpha launch codes" }] });
    const search = await call(b, "context_search", {
      query: "launch codes",
      k: 5,
      strategy: "sparse",
    });
    expect((search.structuredContent as { results: unknown[] }).results).toEqual([]);
    expect(textOf(await call(b, "context_get", { id: "secret" }))).toStartWith("not_found:");
    const resources = await b.listResources();
    expect(resources.resources.map((r) => r.name)).not.toContain("secret");
    await expect(b.readResource({ uri: "vltair://docs/global/secret" })).rejects.toThrow(
      "not_found",
    );
    const own = await a.readResource({ uri: "vltair://docs/global/secret" });
    expect(own.contents[0]).toMatchObject({ text: "alpha launch codes" });
  });

  test("a session belongs to the token that opened it: another token naming it gets 404", async () => {
    await clientFor(ADMIN);
    const init = await t.app.http.app.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: {
          authorization: `Bearer ${ADMIN}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            clientInfo: { name: "x", version: "1" },
          },
        }),
      }),
    );
    const session = init.headers.get("mcp-session-id") ?? "";
    expect(session).not.toBe("");
    await init.body?.cancel();
    const other = await t.tokenFor("default", "admin");
    const stolen = await t.app.http.app.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: {
          authorization: `Bearer ${other}`,
          "mcp-session-id": session,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      }),
    );
    expect(stolen.status).toBe(404);
  });

  test("DNS rebinding: a foreign Host or Origin is 403; no token is 401", async () => {
    const post = (headers: Record<string, string>) =>
      t.app.http.app.fetch(
        new Request("http://127.0.0.1:7700/mcp", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            ...headers,
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
        }),
      );
    const auth = { authorization: `Bearer ${ADMIN}` };
    expect(
      (await post({ ...auth, host: "evil.example.com", origin: "http://evil.example.com" })).status,
    ).toBe(403);
    expect(
      (await post({ ...auth, host: "127.0.0.1:7700", origin: "http://evil.example.com" })).status,
    ).toBe(403);
    expect((await post({})).status).toBe(401);
  });
});

describe("MCP cancellation", () => {
  test("cancelling a sandbox_exec of a long sleep ends it within a second, nothing left alive", async () => {
    const client = await clientFor(ADMIN);
    const marker = `${30 + Math.floor(Math.random() * 1000) / 1000}`;
    const alive = () =>
      spawnSync("pgrep", ["-f", `sleep ${marker}`], { encoding: "utf8" }).stdout.trim() !== "";
    const abort = new AbortController();
    const running = client
      .callTool({ name: "sandbox_exec", arguments: { cmd: ["sleep", marker] } }, undefined, {
        signal: abort.signal,
      })
      .catch((error: unknown) => error);
    await poll(() => (alive() ? true : undefined), 10_000, "the sleep to start");
    const abortedAt = performance.now();
    abort.abort();
    await running;
    await poll(() => (alive() ? undefined : true), 5_000, "the sleep to end");
    expect(performance.now() - abortedAt).toBeLessThan(1000);
  }, 30_000);
});

describe("MCP resource subscriptions", () => {
  test("a subscriber hears of changes by anyone in its tenant (REST too), never of another tenant's", async () => {
    const { ResourceUpdatedNotificationSchema } = await import(
      "@modelcontextprotocol/sdk/types.js"
    );
    const uri = "vltair://docs/global/shared%2Fnotes.md";
    const heard = (client: Client) => {
      const uris: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        uris.push(n.params.uri);
      });
      return uris;
    };
    const a = await clientFor(await t.tokenFor("sub-a", "reader"));
    const b = await clientFor(await t.tokenFor("sub-b", "reader"));
    const heardA = heard(a);
    const heardB = heard(b);
    await a.subscribeResource({ uri });
    await b.subscribeResource({ uri });
    const upsert = async (tenant: string, text: string) => {
      const response = await t.app.http.app.fetch(
        new Request("http://127.0.0.1/v1/context/docs:upsert", {
          method: "POST",
          headers: { authorization: `Bearer ${await t.tokenFor(tenant, "writer")}` },
          body: JSON.stringify({ items: [{ id: "shared/notes.md", text }] }),
        }),
      );
      expect(response.status).toBe(200);
    };
    await upsert("sub-a", "written over REST by another token of tenant A");
    await poll(() => (heardA.length === 1 ? true : undefined), 5_000, "A's notification");
    expect(heardA).toEqual([uri]);
    // B's own tenant's write comes after A's: had A's reached B, it would have come first.
    await upsert("sub-b", "tenant B's own document of the same id");
    await poll(() => (heardB.length === 1 ? true : undefined), 5_000, "B's notification");
    expect(heardB).toEqual([uri]);
    expect(heardA).toEqual([uri]);
    await a.unsubscribeResource({ uri });
    await upsert("sub-a", "after unsubscribing");
    await upsert("sub-b", "B again");
    await poll(() => (heardB.length === 2 ? true : undefined), 5_000, "B's second notification");
    expect(heardA).toEqual([uri]);
  });
});
