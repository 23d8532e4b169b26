/**
 * The portable POSIX shim (ps-based tracking, ulimit) exercised on this host through `execute`,
 * so the fallback used on other Unixes is not untested code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { detectCapabilities } from "../../../src/sandbox/capabilities.ts";
import { execute } from "../../../src/sandbox/execute.ts";
import { resolveLimitConfig } from "../../../src/sandbox/options.ts";
import { portableShim } from "../../../src/sandbox/portable.ts";
import type { SandboxShim } from "../../../src/sandbox/shim.ts";
import { classify } from "../../../src/sandbox/status.ts";
import { createRunTempDir, removeRunTempDir } from "../../../src/sandbox/temp-dir.ts";
import { validateRequest } from "../../../src/sandbox/validate.ts";
import { windowsShim } from "../../../src/sandbox/windows.ts";
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

async function runPortable(body: unknown, shim: SandboxShim = portableShim) {
  const limits = resolveLimitConfig({ killGraceMs: 200 });
  const req = validateRequest(body, limits);
  const temp = await createRunTempDir(area.temp, "cafe");
  try {
    const plan = await shim.prepare({
      req,
      cwd: area.ws,
      workspaceRoot: area.ws,
      temp,
      runName: "vltair-cafe-0",
      caps: { ...caps, platform: "portable-test" },
      limits,
      hidden: [],
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
    // No cgroup and no rusage of a child from the runtime: no CPU figure, never a guess.
    expect(await plan.tracker.cpuMs()).toBeNull();
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

describe("windows shim code paths on this host", () => {
  test.if(posix)("a missing command is command_not_found and nothing is signalled", async () => {
    const { plan, done } = await runPortable({ cmd: ["no-such-command-vltair"] }, windowsShim);
    expect(plan.readyMarker).toBe(false);
    expect(await plan.tracker.cpuMs()).toBeNull();
    expect(done.spawnError).toBe("ENOENT");
    expect(done.ready).toBe(false);
    const status = classify({
      ready: done.ready,
      exitCode: done.exitCode,
      exitSignal: done.exitSignal,
      killReason: done.killReason,
      durationMs: done.durationMs,
      wallMs: 30_000,
      cgroupOomKill: false,
      allocationFailure: false,
      survivors: done.survivors,
      outputExceeded: false,
      commandNotFound: done.spawnError === "ENOENT",
    });
    expect(status).toEqual({ status: "FAILED", rc: 127, reason: "command_not_found" });
  });
  test.if(posix)("a timeout without taskkill kills the direct child", async () => {
    const { done } = await runPortable(
      { cmd: ["sleep", "30"], limits: { wall_ms: 200 } },
      windowsShim,
    );
    expect(done.killReason).toBe("timeout");
    expect(done.exitSignal).toBe("SIGKILL");
    expect(done.survivors).toBe(0);
  });
});
