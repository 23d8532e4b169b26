/** MCP clients of an in-process app over Streamable HTTP (the SDK's client; its fetch is the app's). */
import { afterAll, beforeAll } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type ContextTestApp, contextApp } from "./context.ts";

/** A tool call's result as the tests read it. */
export type ToolResult = {
  isError?: boolean;
  structuredContent?: unknown;
  content?: { text?: string }[];
};

/** The first text block of a result (a refused call's `code: message`). */
export const textOf = (r: ToolResult) => r.content?.[0]?.text ?? "";

/** Calls a tool. */
export const callTool = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as ToolResult;

/** The app's fetch, with `headers` set on every request. */
export const fetchInApp =
  (t: ContextTestApp, headers: Record<string, string> = {}) =>
  (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    for (const [k, value] of Object.entries(headers)) request.headers.set(k, value);
    return Promise.resolve(t.app.http.app.fetch(request));
  };

/**
 * One app for a test file and a factory of connected clients; clients and app are closed after
 * the file.
 */
export function mcpFixture(): {
  app: () => ContextTestApp;
  clientFor: (token: string) => Promise<Client>;
} {
  let t: ContextTestApp | null = null;
  const clients: Client[] = [];
  beforeAll(async () => {
    t = await contextApp();
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.close();
    await t?.app.close();
  });
  const app = () => {
    if (t === null) throw new Error("the MCP fixture's app is not started yet");
    return t;
  };
  return {
    app,
    clientFor: async (token) => {
      const transport = new StreamableHTTPClientTransport(new URL("http://127.0.0.1:7700/mcp"), {
        fetch: fetchInApp(app()),
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      });
      const client = new Client({ name: "vltair-test", version: "1.0.0" });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
  };
}
