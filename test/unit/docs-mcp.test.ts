/** docs/mcp.md's client snippets are valid: the stdio arguments parse, the HTTP entry is /mcp with a bearer header. */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseFlags } from "../../src/cli/args.ts";
import { mcpOptions } from "../../src/cli/commands/mcp.ts";
import { routeTableOnly } from "../../src/http/mod.ts";
import { toolsOf } from "../../src/mcp/mod.ts";
import { cli } from "../support/cli.ts";

const text = fs.readFileSync(path.join(import.meta.dirname, "../../docs/mcp.md"), "utf8");

function snippet(name: string): { mcpServers: Record<string, Record<string, unknown>> } {
  const match = new RegExp(`<!-- mcp:${name} -->\\n\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(text);
  expect(match).not.toBeNull();
  return JSON.parse(match?.[1] ?? "{}");
}

describe("docs/mcp.md client snippets", () => {
  test.each(["stdio", "proxy"])("%s: `vltair mcp` accepts its arguments", async (name) => {
    const entry = snippet(name).mcpServers.vltair as { command: string; args: string[] };
    expect(entry.command).toBe("vltair");
    expect(entry.args[0]).toBe("mcp");
    // The documented flags parse with the command's own flag table (an unknown one throws).
    expect(() => parseFlags(entry.args.slice(1), mcpOptions(), 0)).not.toThrow();
    expect(() => parseFlags(["--bogus"], mcpOptions(), 0)).toThrow("unknown flag --bogus");
    const help = await cli(["mcp", "--help"]);
    expect(help.stdout).toContain("Usage: vltair mcp");
  });

  test("http: the server's /mcp with a bearer header", () => {
    const entry = snippet("http").mcpServers.vltair as {
      url: string;
      headers: Record<string, string>;
    };
    expect(new URL(entry.url).pathname).toBe("/mcp");
    expect(entry.headers.Authorization).toStartWith("Bearer ");
  });
});

describe("docs/mcp.md tool table", () => {
  test("lists every generated tool with its route, and nothing else", () => {
    const rows = [...text.matchAll(/^\| `([a-z_]+)` \| `([A-Z]+) ([^`]+)`/gm)].map(
      (m) => `${m[1]} ${m[2]} ${m[3]}`,
    );
    const tools = toolsOf(routeTableOnly("docs")).map(
      (t) =>
        `${t.name} ${t.route.method} ${t.route.path.replace(/(?<=\/):([A-Za-z_]+)(\{[^}]*?(:[a-z]+)?\})?/g, (_, name, _p, verb) => `{${name}}${verb ?? ""}`)}`,
    );
    expect(rows.sort()).toEqual(tools.sort());
  });
});
