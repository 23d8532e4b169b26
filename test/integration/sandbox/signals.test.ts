/**
 * Signals on every path (issue 13): the command is never PID 1 of its PID namespace, so a
 * self-kill, a segfault and the TERM of a timeout act as they do outside a sandbox, and the
 * run's init reports the command's real wait status. Both modes. RLIMIT_CPU: runner.test.ts;
 * the cgroup OOM kill (rc 137): adversarial.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { INIT_SCRIPT } from "../../../src/sandbox/linux/init-script.ts";
import { runSandboxed } from "../../../src/sandbox/mod.ts";
import {
  type Area,
  killAll,
  makeArea,
  marker,
  modeCaps,
  processesWith,
  sandboxModes,
} from "./harness.ts";

const linux = process.platform === "linux";

for (const mode of sandboxModes("signals.test.ts")) {
  const caps = await modeCaps(mode);
  const on = linux && mode.available;
  // Our init (unshare, no bubblewrap) reports the exact wait status.
  const exact = !caps.bubblewrap.available && caps.perl.available;

  describe(`[${mode.name}]`, () => {
    let area: Area;
    beforeAll(async () => {
      area = await makeArea(mode);
    });
    afterAll(async () => {
      await area.dispose();
    });

    const deaths: [string, string, number, string][] = [
      ["kill -9 $$", "KILLED", 137, "signal:SIGKILL"],
      ["kill -SEGV $$", "KILLED", 139, "signal:SIGSEGV"],
      ["kill -TERM $$", "KILLED", 143, "signal:SIGTERM"],
    ];
    for (const [script, status, rc, reason] of deaths) {
      test.if(on)(`'${script}' is reported as a death by that signal`, async () => {
        const result = await runSandboxed({ cmd: ["sh", "-c", script] }, area.options());
        expect(result).toMatchObject({ status, rc, reason });
      });
    }
    test.if(on)(
      "'exit 137': an exit code with the init, read as bash would under bubblewrap",
      async () => {
        const result = await runSandboxed({ cmd: ["sh", "-c", "exit 137"] }, area.options());
        // bubblewrap's reaper passes the status on as bash does (128 + n); our init reports it.
        if (exact) expect(result).toMatchObject({ status: "FAILED", rc: 137, reason: null });
        else expect(result).toMatchObject({ status: "KILLED", rc: 137, reason: "signal:SIGKILL" });
      },
    );
    test.if(on)(
      "a timeout ends right after the TERM (not after the grace) and nothing of the run is alive",
      async () => {
        const mark = marker("timeout");
        const result = await runSandboxed(
          { cmd: ["sh", "-c", "sleep 30 & sleep 30; :", mark], limits: { wall_ms: 500 } },
          area.options({ limits: { killGraceMs: 5000 } }),
        );
        const left = await processesWith(mark);
        await killAll(left);
        expect(result).toMatchObject({ status: "TIMEOUT", rc: 124 });
        expect(result.duration_ms).toBeLessThan(500 + 2500);
        expect(left).toEqual([]);
      },
      15_000,
    );
  });
}

describe("the init on its own", () => {
  const perl = linux ? "perl" : null;
  function runInit(cmd: string[], signalAfterMs: number | null) {
    return new Promise<{ code: number | null; marker: string }>((resolve) => {
      const child = spawn(perl ?? "perl", ["-e", INIT_SCRIPT, "S-", "--", ...cmd], {
        stdio: ["ignore", "ignore", "ignore", "pipe"],
      });
      let text = "";
      child.stdio[3]?.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (signalAfterMs !== null && text.includes("R"))
          setTimeout(() => child.kill("SIGTERM"), signalAfterMs);
      });
      child.on("close", (code) => resolve({ code, marker: text }));
    });
  }
  test.if(linux)("forwards TERM to the command and reports how it ended", async () => {
    const trapped = await runInit(
      ["sh", "-c", 'trap "exit 3" TERM; printf R >&3; exec 3>&-; while :; do sleep 0.02; done'],
      50,
    );
    expect(trapped).toEqual({ code: 3, marker: `RX${3 << 8}\n` });
  });
  test.if(linux)("a command that cannot be run is 127", async () => {
    const missing = await runInit(["/nonexistent/vltair/cmd"], null);
    expect(missing).toEqual({ code: 127, marker: `X${127 << 8}\n` });
  });
});
