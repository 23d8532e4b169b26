/** `vltair mcp` over stdio with the SDK's client: in process on a data directory, and as a proxy to a server. */
import { describe, expect, test } from "bun:test";
import * as path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, MAIN, readyUrl, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

async function stdioClient(args: string[], env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: BUN,
    args: [MAIN, "mcp", ...args],
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "vltair-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

type ToolResult = { isError?: boolean; structuredContent?: unknown; content?: { text?: string }[] };

describe.if(hasPosixSignals())("vltair mcp (stdio)", () => {
  test("serves a data directory in process, as its operator", async () => {
    const dataDir = path.join(tempDir(), "data");
    const client = await stdioClient(["--data-dir", dataDir]);
    try {
      expect((await client.listTools()).tools.map((x) => x.name)).toContain("context_search");
      const up = (await client.callTool({
        name: "context_upsert",
        arguments: { items: [{ id: "doc", text: "stdio in process" }] },
      })) as ToolResult;
      expect(up.structuredContent).toMatchObject({ inserted: 1 });
      const read = await client.readResource({ uri: "vltair://docs/global/doc" });
      expect(read.contents[0]).toMatchObject({ text: "stdio in process" });
    } finally {
      await client.close();
    }
  }, 30_000);

  test("proxies to a running server as the token named by --token-env (roles apply)", async () => {
    const cwd = tempDir();
    const server = start(BUN, [MAIN, "serve", "--port", "0"], {
      cwd,
      env: { VLTAIR_ADMIN_TOKEN: "mcp-e2e-admin-token-0123456789" },
    });
    try {
      const url = await readyUrl(server);
      const created = await fetch(`${url}/v1/tokens`, {
        method: "POST",
        headers: { authorization: "Bearer mcp-e2e-admin-token-0123456789" },
        body: JSON.stringify({ roles: ["reader"] }),
      });
      const reader = ((await created.json()) as { token: string }).token;
      const client = await stdioClient(["--server", url, "--token-env", "MCP_E2E_TOKEN"], {
        MCP_E2E_TOKEN: reader,
      });
      try {
        const refused = (await client.callTool({
          name: "context_upsert",
          arguments: { items: [{ id: "x", text: "y" }] },
        })) as ToolResult;
        expect(refused.isError).toBe(true);
        expect(refused.content?.[0]?.text).toStartWith("forbidden:");
        const stats = (await client.callTool({
          name: "context_stats",
          arguments: {},
        })) as ToolResult;
        expect(stats.structuredContent).toMatchObject({ tenant: "default", documents: 0 });
      } finally {
        await client.close();
      }
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
  }, 30_000);
});
