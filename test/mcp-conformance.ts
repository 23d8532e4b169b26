/**
 * The MCP conformance suite (`@modelcontextprotocol/conformance`, pinned) against `/mcp` of a
 * real server: every scenario of a capability vltair declares (tools, resources with subscribe,
 * logging) plus the transport's. The suite sends no Authorization header, so the server runs
 * with `--no-auth` on loopback. Scenarios that need the suite's own fixture tools, resources or
 * prompts are not applicable (docs/mcp.md lists them with the reason). Exit 1 on any failure.
 *
 *   npx bun test/mcp-conformance.ts
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { BUN, MAIN, ROOT, readyUrl, start } from "./support/process.ts";

/** The scenarios of what vltair declares; docs/mcp.md lists the rest as not applicable. */
export const APPLICABLE_SCENARIOS = [
  "server-initialize",
  "ping",
  "tools-list",
  "logging-set-level",
  "resources-list",
  "resources-subscribe",
  "resources-unsubscribe",
  "server-sse-multiple-streams",
  "dns-rebinding-protection",
] as const;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-mcp-conformance-"));
const server = start(BUN, [
  MAIN,
  "serve",
  "--no-auth",
  "--port",
  "0",
  "--data-dir",
  path.join(dir, "data"),
]);
let failed = 0;
try {
  const url = (await readyUrl(server)).replace("127.0.0.1", "localhost");
  const cli = path.join(
    ROOT,
    "node_modules",
    "@modelcontextprotocol",
    "conformance",
    "dist",
    "index.js",
  );
  for (const scenario of APPLICABLE_SCENARIOS) {
    const run = spawnSync(
      process.execPath,
      [cli, "server", "--url", `${url}/mcp`, "--scenario", scenario],
      {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    const summary = /Passed: (\d+)\/(\d+), (\d+) failed/.exec(run.stdout + run.stderr);
    const ok =
      run.status === 0 && summary !== null && summary[3] === "0" && summary[1] === summary[2];
    if (!ok) failed++;
    process.stdout.write(
      `${ok ? "ok  " : "FAIL"} ${scenario}: ${summary?.[0] ?? `exit ${run.status}`}\n`,
    );
    if (!ok) process.stdout.write(`${run.stdout}\n${run.stderr}\n`);
  }
} finally {
  server.proc.kill("SIGTERM");
  await server.exited;
  fs.rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(
  `mcp conformance: ${APPLICABLE_SCENARIOS.length - failed}/${APPLICABLE_SCENARIOS.length} scenarios passed\n`,
);
process.exit(failed === 0 ? 0 : 1);
