/**
 * The same sources serve on Deno (`deno run`), on Node (the bundle `bun build.ts node` makes) and
 * as the executable `bun build.ts` compiles, alone in an empty directory: the smoke stores a
 * policy and sees a write refused, so the Cedar module (embedded by build.ts) decides on each.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, DENO, DENO_RUN, MAIN, ROOT, run } from "../support/process.ts";
import { smokeServe } from "../support/smoke.ts";
import { tempDir } from "../support/tmp.ts";

const BUILD = path.join(ROOT, "build.ts");
/** Bundling and compiling take seconds each on a busy 2-core VM. */
const BUILD_TIMEOUT_MS = 120_000;
/** Start, readiness, the smoke's requests and SIGTERM. */
const SMOKE_TIMEOUT_MS = 60_000;

describe.if(hasPosixSignals())("runtimes", () => {
  let nodeBundle = "";
  let binary = "";
  beforeAll(async () => {
    nodeBundle = path.join(tempDir(), "vltair.mjs");
    binary = path.join(tempDir(), "vltair");
    for (const args of [
      ["node", "--outfile", nodeBundle],
      ["--outfile", binary],
    ]) {
      const built = await run(BUN, [BUILD, ...args], { cwd: ROOT, timeoutMs: BUILD_TIMEOUT_MS });
      expect(built.code).toBe(0);
    }
  }, BUILD_TIMEOUT_MS * 2);

  test(
    "Deno runs the sources and stops on SIGTERM",
    async () => {
      const result = await smokeServe(DENO, [...DENO_RUN, MAIN, "serve"], { cwd: tempDir() });
      expect(result.exitCode).toBe(0);
      expect(result.lines.find((l) => l.event === "server.listening")?.runtime).toStartWith(
        "deno ",
      );
    },
    SMOKE_TIMEOUT_MS,
  );

  test(
    "Node >= 20 runs the bundle through @hono/node-server and stops on SIGTERM",
    async () => {
      const result = await smokeServe("node", [nodeBundle, "serve"], { cwd: tempDir() });
      expect(result.exitCode).toBe(0);
      expect(result.lines.find((l) => l.event === "server.listening")?.runtime).toStartWith(
        "node ",
      );
    },
    SMOKE_TIMEOUT_MS,
  );

  test(
    "the compiled executable runs alone in an empty directory, Cedar module embedded",
    async () => {
      const cwd = tempDir();
      const alone = path.join(cwd, "vltair");
      fs.copyFileSync(binary, alone);
      fs.chmodSync(alone, 0o755);
      const result = await smokeServe(alone, ["serve"], { cwd });
      expect(result.exitCode).toBe(0);
      expect(result.lines.find((l) => l.event === "policy.engine_loaded")).toBeDefined();
    },
    SMOKE_TIMEOUT_MS,
  );
});
