/** Windows runs: tree kill on timeout and an honest report. Only meaningful on Windows; skipped elsewhere with a reason. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runSandboxed } from "../../../src/sandbox/mod.ts";
import { type Area, makeArea } from "./harness.ts";

const windows = process.platform === "win32";
if (!windows)
  console.log(`skip: Windows taskkill tests need Windows (platform=${process.platform})`);

let area: Area;
beforeAll(async () => {
  area = await makeArea();
});
afterAll(async () => {
  await area.dispose();
});

describe("windows shim", () => {
  test.if(windows)(
    "times out with rc 124 through taskkill /T /F and reports what it cannot enforce",
    async () => {
      const result = await runSandboxed(
        { cmd: ["cmd.exe", "/c", "ping -n 30 127.0.0.1 > NUL"], limits: { wall_ms: 500 } },
        area.options(),
      );
      expect(result).toMatchObject({ status: "TIMEOUT", rc: 124 });
      expect(result.enforced.timeout.mechanism).toBe("monotonic_timer+taskkill_tree");
      for (const key of ["memory", "pids", "network", "filesystem"] as const) {
        expect(result.enforced[key].applied).toBe(false);
        expect(result.enforced[key].reason.length).toBeGreaterThan(5);
      }
    },
  );
  test.if(windows)("a missing command fails without hanging", async () => {
    const result = await runSandboxed({ cmd: ["no-such-command-vltair.exe"] }, area.options());
    expect(result).toMatchObject({ status: "FAILED", rc: 127, reason: "command_not_found" });
  });
});
