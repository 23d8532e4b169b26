/**
 * The same sources serve on Deno (`deno run`) and on Node (a `bun build --target=node` bundle).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import * as path from "node:path";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, DENO, DENO_RUN, MAIN, ROOT, run } from "../support/process.ts";
import { smokeServe } from "../support/smoke.ts";
import { tempDir } from "../support/tmp.ts";

describe.if(hasPosixSignals())("runtimes", () => {
  let nodeBundle = "";
  beforeAll(async () => {
    const out = tempDir();
    nodeBundle = path.join(out, "vltair.mjs");
    const built = await run(
      BUN,
      ["build", MAIN, "--target=node", "--format=esm", "--outfile", nodeBundle],
      { cwd: ROOT },
    );
    expect(built.code).toBe(0);
  });

  test("Deno runs the sources and stops on SIGTERM", async () => {
    const result = await smokeServe(DENO, [...DENO_RUN, MAIN, "serve"], { cwd: tempDir() });
    expect(result.exitCode).toBe(0);
    expect(result.lines.find((l) => l.event === "server.listening")?.runtime).toStartWith("deno ");
  });

  test("Node >= 20 runs the bundle through @hono/node-server and stops on SIGTERM", async () => {
    const result = await smokeServe("node", [nodeBundle, "serve"], { cwd: tempDir() });
    expect(result.exitCode).toBe(0);
    expect(result.lines.find((l) => l.event === "server.listening")?.runtime).toStartWith("node ");
  });
});
