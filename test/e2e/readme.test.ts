/**
 * The README quickstart runs verbatim: the server block's command after `npm ci &&` (the
 * install already happened) in a scratch directory that links the project, then every line of
 * each `quickstart:client` block of README.md and docs/quickstart.md through bash.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { poll, ROOT, run } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

/** The fenced block after each `<!-- quickstart:NAME -->` marker of a markdown file. */
export function quickstartBlocks(file: string, name: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const pattern = new RegExp(`<!-- quickstart:${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``, "g");
  return [...text.matchAll(pattern)].map((m) => m[1] ?? "");
}

const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  TZ: "UTC",
  LC_ALL: "C.UTF-8",
  PATH: `${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
};
delete env.VLTAIR_ADMIN_TOKEN;

describe.if(hasPosixSignals())("README quickstart", () => {
  const cwd = tempDir();
  let server: ReturnType<typeof spawn> | null = null;
  let serverOut = "";

  beforeAll(async () => {
    for (const entry of ["package.json", "src", "node_modules", "build.ts", "tsconfig.json"]) {
      fs.symlinkSync(path.join(ROOT, entry), path.join(cwd, entry));
    }
    const [block] = quickstartBlocks("README.md", "server");
    const command = (block ?? "").trim().replace(/^npm ci && /, "");
    expect(command).toBe("npm start");
    server = spawn("bash", ["-c", command], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout?.on("data", (chunk: Buffer) => {
      serverOut += chunk.toString("utf8");
    });
    await poll(
      () => (serverOut.includes('"server.ready"') ? true : undefined),
      30_000,
      "npm start (server.ready)",
    );
  });

  afterAll(async () => {
    if (server?.pid === undefined) return;
    const exited = new Promise((resolve) => server?.on("close", resolve));
    process.kill(-server.pid, "SIGTERM");
    await exited;
  });

  test("the server block is the documented two-command setup on port 7700", () => {
    expect(serverOut).toContain('"url":"http://127.0.0.1:7700"');
  });

  test("every README client line works as written", async () => {
    const blocks = quickstartBlocks("README.md", "client");
    expect(blocks).toHaveLength(1);
    const result = await run("bash", ["-euo", "pipefail", "-c", blocks[0] ?? ""], { cwd, env });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ status: "ok", version: "0.1.0" });
    expect(lines[1]).toBe("401");
    const counters = lines.slice(2, -2);
    expect(counters.length).toBeGreaterThan(0);
    for (const line of counters) expect(line).toMatch(/^vltair_http_requests_total\{.*\} \d+$/);
    const created = JSON.parse(lines.at(-2) ?? "") as { token: string; roles: string[] };
    expect(created.roles).toEqual(["reader"]);
    expect(created.token).toStartWith("vlt_");
    expect(JSON.parse(lines.at(-1) ?? "")).toMatchObject({ error: { code: "not_found" } });
  }, 30_000);

  test("docs/quickstart.md client lines work as written", async () => {
    const blocks = quickstartBlocks("docs/quickstart.md", "client");
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const result = await run("bash", ["-euo", "pipefail", "-c", block], { cwd, env });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('"tenant":"acme"');
      expect(result.stdout).toContain("acme  writer  ci-bot");
    }
  }, 30_000);
});
