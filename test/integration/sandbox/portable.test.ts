/**
 * The portable POSIX shim (ps-based tracking, ulimit) exercised on this host through `execute`,
 * so the fallback used on other Unixes is not untested code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { detectCapabilities } from "../../../src/sandbox/capabilities.ts";
import { execute } from "../../../src/sandbox/execute.ts";
import { resolveLimitConfig } from "../../../src/sandbox/options.ts";
import { portableShim } from "../../../src/sandbox/portable.ts";
import { createRunTempDir, removeRunTempDir } from "../../../src/sandbox/temp-dir.ts";
import { validateRequest } from "../../../src/sandbox/validate.ts";
import { type Area, killAll, makeArea, marker, processesWith } from "./harness.ts";

const posix = process.platform !== "win32";
if (!posix) console.log("skip: the portable POSIX shim needs a POSIX shell and ps");
const caps = await detectCapabilities();

let area: Area;
beforeAll(async () => {
  area = await makeArea();
});
afterAll(async () => {
  await area.dispose();
});

async function runPortable(body: unknown) {
  const limits = resolveLimitConfig({ killGraceMs: 200 });
  const req = validateRequest(body, limits);
  const temp = await createRunTempDir(area.temp, "cafe");
  try {
    const plan = await portableShim.prepare({
      req,
      cwd: area.ws,
      workspaceRoot: area.ws,
      temp,
      runName: "vltair-cafe-0",
      caps: { ...caps, platform: "portable-test" },
      limits,
    });
    const done = await execute({
      plan,
      cwd: area.ws,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdin: undefined,
      wallMs: req.wallMs,
      outputBytes: req.outputBytes,
      killGraceMs: limits.killGraceMs,
      reapTimeoutMs: limits.reapTimeoutMs,
      clockMs: () => performance.now(),
      signal: undefined,
      log: () => undefined,
    });
    return { plan, done };
  } finally {
    await removeRunTempDir(temp);
  }
}

describe("portable shim", () => {
  test.if(posix)("runs, reports ready, and applies ulimit -n", async () => {
    const { plan, done } = await runPortable({ cmd: ["sh", "-c", "ulimit -n"] });
    expect(done.ready).toBe(true);
    expect(done.exitCode).toBe(0);
    expect(done.stdout.text()).toBe("1024\n");
    expect(plan.enforced.filesystem.applied).toBe(false);
  });
  test.if(posix)("a timeout kills the group and its descendants, found through ps", async () => {
    const mark = marker("portable");
    const { done } = await runPortable({
      cmd: ["sh", "-c", `sh -c 'sleep 30' ${mark} & sleep 30`],
      limits: { wall_ms: 300 },
    });
    const left = await processesWith(mark).catch(() => []);
    await killAll(left);
    expect(done.killReason).toBe("timeout");
    expect(done.survivors).toBe(0);
    expect(left).toEqual([]);
  });
});
