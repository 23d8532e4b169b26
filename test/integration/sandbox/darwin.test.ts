/** macOS runs: sandbox-exec profile and rlimits. Only meaningful on macOS; skipped elsewhere with a reason. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { detectCapabilities, runSandboxed } from "../../../src/sandbox/mod.ts";
import { type Area, makeArea } from "./harness.ts";

const darwin = process.platform === "darwin";
if (!darwin)
  console.log(`skip: macOS sandbox-exec tests need macOS (platform=${process.platform})`);
const caps = await detectCapabilities();

let area: Area;
beforeAll(async () => {
  area = await makeArea();
});
afterAll(async () => {
  await area.dispose();
});

describe("darwin shim", () => {
  test.if(darwin && caps.sandboxExec.available)(
    "denies writes outside the workspace and the network",
    async () => {
      const result = await runSandboxed(
        { cmd: ["sh", "-c", `echo in > inside.txt; echo out > ${join(area.root, "escaped.txt")}`] },
        area.options(),
      );
      expect(result.status).toBe("FAILED");
      expect((await stat(join(area.ws, "inside.txt"))).isFile()).toBe(true);
      await expect(stat(join(area.root, "escaped.txt"))).rejects.toThrow();
      expect(result.enforced.filesystem).toMatchObject({
        applied: true,
        mechanism: "sandbox_exec",
      });
      expect(result.enforced.memory.applied).toBe(false);
      const net = await runSandboxed(
        { cmd: ["curl", "-sS", "--max-time", "3", "http://127.0.0.1:9"] },
        area.options(),
      );
      expect(net.status).toBe("FAILED");
      expect(net.enforced.network).toMatchObject({ applied: true, mechanism: "sandbox_exec" });
    },
  );
  test.if(darwin)("times out with rc 124 and kills the process group", async () => {
    const result = await runSandboxed(
      { cmd: ["sleep", "30"], limits: { wall_ms: 300 } },
      area.options(),
    );
    expect(result).toMatchObject({ status: "TIMEOUT", rc: 124 });
    expect(result.enforced.process_tree.applied).toBe(false);
  });
});
