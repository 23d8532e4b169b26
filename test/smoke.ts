/**
 * Smoke of a shipped form of the server, for .ci/run:
 *
 *   bun test/smoke.ts binary dist/vltair     the executable copied alone into an empty dir
 *   bun test/smoke.ts deno                   the sources under `deno run`
 *   bun test/smoke.ts node dist/node/vltair.mjs   the Node bundle
 *
 * Each starts on port 0, checks /v1/health and /metrics (401, then 200 with the token), upserts
 * and finds a document with a hybrid search, runs one sandboxed command and one that times out,
 * sends SIGTERM, and expects exit 0. Prints one JSON line; exits 1 on failure. Deno runs with
 * `--allow-all`, as docs/quickstart.md says: the sandbox reads /proc and /sys/fs/cgroup and
 * starts helpers, which Deno allows only then.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { DENO, MAIN } from "./support/process.ts";
import { smokeServe } from "./support/smoke.ts";

async function main(): Promise<number> {
  const [kind, file] = process.argv.slice(2);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-smoke-"));
  try {
    let command: string;
    let args: string[];
    if (kind === "binary" && file !== undefined) {
      command = path.join(cwd, path.basename(file));
      fs.copyFileSync(file, command);
      fs.chmodSync(command, 0o755);
      args = ["serve"];
    } else if (kind === "deno") {
      command = DENO;
      args = ["run", "--allow-all", MAIN, "serve"];
    } else if (kind === "node" && file !== undefined) {
      command = "node";
      args = [path.resolve(file), "serve"];
    } else {
      process.stderr.write("usage: bun test/smoke.ts binary FILE | deno | node FILE\n");
      return 2;
    }
    const result = await smokeServe(command, args, { cwd, sandbox: true });
    const listening = result.lines.find((l) => l.event === "server.listening");
    const ok = result.exitCode === 0 && result.health.status === "ok";
    process.stdout.write(
      `${JSON.stringify({ smoke: kind, ok, url: result.url, runtime: listening?.runtime, exit_code: result.exitCode })}\n`,
    );
    return ok ? 0 : 1;
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

process.exit(await main());
