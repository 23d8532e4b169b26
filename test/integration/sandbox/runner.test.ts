/**
 * `runSandboxed` end to end on this OS: statuses, fail-closed refusals, allow_partial, kill path,
 * temp dir cleanup, clock injection, logging. The status and kill-path tests run in both modes
 * (with bubblewrap when installed, and without it); Linux-only parts skip with a printed reason
 * elsewhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, readdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { linuxCpuUsage } from "../../../src/sandbox/linux/mod.ts";
import { detectCapabilities, runSandboxed, type SandboxResult } from "../../../src/sandbox/mod.ts";
import { formatOwner, selfOwner } from "../../../src/sandbox/owner.ts";
import { type Area, makeArea, modeCaps, sandboxModes } from "./harness.ts";

/** A shell loop that keeps one CPU busy for a few hundred ms. */
const BURN_CPU = ["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"];

const linux = process.platform === "linux";
const caps = await detectCapabilities();
if (!linux)
  console.log(
    `skip: sandbox runner integration tests run on Linux here (platform=${process.platform})`,
  );

let area: Area;
beforeAll(async () => {
  area = await makeArea();
});
afterAll(async () => {
  await area.dispose();
});

async function tempIsEmpty(dir = area.temp): Promise<void> {
  expect(await readdir(dir)).toEqual([]);
}

for (const mode of sandboxModes("runner.test.ts")) {
  const on = linux && mode.available;
  const mc = await modeCaps(mode);
  describe(`statuses [${mode.name}]`, () => {
    let a: Area;
    beforeAll(async () => {
      a = await makeArea(mode);
    });
    afterAll(async () => {
      await a.dispose();
    });
    test.if(on)(
      "OK, FAILED with rc, command not found is rc 127, stdin reaches the child",
      async () => {
        const ok = await runSandboxed({ cmd: ["cat"], stdin: "from stdin" }, a.options());
        expect(ok).toMatchObject({ status: "OK", rc: 0, stdout: "from stdin", reason: null });
        const failed = await runSandboxed(
          { cmd: ["sh", "-c", "echo oops >&2; exit 3"] },
          a.options(),
        );
        expect(failed).toMatchObject({ status: "FAILED", rc: 3, stderr: "oops\n" });
        const missing = await runSandboxed({ cmd: ["no-such-command-vltair"] }, a.options());
        expect(missing).toMatchObject({ status: "FAILED", rc: 127 });
        await tempIsEmpty(a.temp);
      },
    );
    test.if(on)(
      "cpu_ms: a CPU-burning command reports > 0 and at most wall × cores; a sleeping one little",
      async () => {
        const measured = linuxCpuUsage(mc.cgroups).measured;
        const burn = await runSandboxed({ cmd: BURN_CPU }, a.options());
        const sleep = await runSandboxed({ cmd: ["sleep", "0.3"] }, a.options());
        expect(burn.status).toBe("OK");
        expect(sleep.status).toBe("OK");
        if (!measured) {
          // Never a made-up number: no cgroup here, so no figure.
          expect([burn.cpu_ms, sleep.cpu_ms]).toEqual([null, null]);
          return;
        }
        const cores = availableParallelism();
        expect(burn.cpu_ms).toBeGreaterThan(0);
        // duration_ms is rounded, cpu_ms too: one ms of slack each way.
        expect(burn.cpu_ms ?? 0).toBeLessThanOrEqual((burn.duration_ms + 1) * cores);
        // sleep spends its 300 ms off the CPU; starting sh/sleep costs a few ms.
        expect(sleep.cpu_ms).toBeGreaterThanOrEqual(0);
        expect(sleep.cpu_ms ?? 0).toBeLessThan(150);
        expect(sleep.duration_ms).toBeGreaterThanOrEqual(300);
      },
      30_000,
    );
    test.if(on)(
      "cpu_ms counts every process of the run, setsid children included",
      async () => {
        if (!linuxCpuUsage(mc.cgroups).measured) {
          console.log(`skip: cpu_ms of children [${mode.name}]: the host measures no cpu_ms`);
          return;
        }
        // The parent only waits: the CPU time is its two children's (one escapes with setsid).
        const script = `setsid sh -c '${BURN_CPU[2]}' & sh -c '${BURN_CPU[2]}' & wait`;
        const both = await runSandboxed({ cmd: ["sh", "-c", script] }, a.options());
        const one = await runSandboxed({ cmd: BURN_CPU }, a.options());
        expect(both.status).toBe("OK");
        // Two burners cost more than one (the same loop; a generous factor for a loaded host).
        expect(both.cpu_ms ?? 0).toBeGreaterThan((one.cpu_ms ?? 0) * 1.3);
      },
      30_000,
    );
    test.if(on)("TIMEOUT is rc 124; a TERM handler runs within the grace, once", async () => {
      const result = await runSandboxed(
        {
          cmd: ["sh", "-c", "trap 'echo cleaned; exit 0' TERM; sleep 30 & wait"],
          limits: { wall_ms: 300 },
        },
        a.options({ limits: { killGraceMs: 5000 } }),
      );
      expect(result).toMatchObject({ status: "TIMEOUT", rc: 124, reason: "wall_timeout" });
      expect(result.stdout).toBe("cleaned\n");
      expect(result.duration_ms).toBeGreaterThanOrEqual(300);
      // The command got SIGTERM at once: the run did not wait for the 5 s grace.
      expect(result.duration_ms).toBeLessThan(3000);
      await tempIsEmpty(a.temp);
    });
    test.if(on)("a command ignoring TERM is killed after the grace", async () => {
      const result = await runSandboxed(
        {
          cmd: ["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"],
          // Long enough for sh to set its trap on a loaded machine (at 200 ms it sometimes had
          // not, and TERM ended it at once).
          limits: { wall_ms: 1000 },
        },
        a.options({ limits: { killGraceMs: 200 } }),
      );
      expect(result.status).toBe("TIMEOUT");
      expect(result.duration_ms).toBeGreaterThanOrEqual(1200);
      expect(result.duration_ms).toBeLessThan(5000);
    });
    test.if(on)("an aborted signal kills the run: KILLED, reason cancelled", async () => {
      const controller = new AbortController();
      // Aborted once the command runs (its first output), not after a fixed delay: on a loaded
      // host a run may still be setting up at any fixed time, and that is a setup failure.
      const result = await runSandboxed(
        { cmd: ["sh", "-c", "echo up; exec sleep 30"] },
        a.options({ signal: controller.signal, onOutput: () => controller.abort() }),
      );
      expect(result).toMatchObject({ status: "KILLED", reason: "cancelled" });
      await tempIsEmpty(a.temp);
    });
    test.if(on && (mc.prlimit.available || mc.ulimit.available))(
      "cpu_ms is enforced through RLIMIT_CPU: KILLED, reason cpu_limit",
      async () => {
        const result = await runSandboxed(
          { cmd: ["sh", "-c", "while :; do :; done"], limits: { cpu_ms: 1000, wall_ms: 20_000 } },
          a.options(),
        );
        expect(result).toMatchObject({ status: "KILLED", rc: 152, reason: "cpu_limit" });
        // SIGXCPU reached the command (not a PID 1): no wrapper complained about its child.
        expect(result.stderr).toBe("");
        expect(result.enforced.cpu).toMatchObject({
          requested: 1000,
          applied: true,
          mechanism: "rlimit_cpu",
        });
      },
      20_000,
    );
    test.if(on)("eight runs at once each get their own HOME and all end OK", async () => {
      const runs = Array.from({ length: 8 }, (_, i) =>
        runSandboxed({ cmd: ["sh", "-c", `sleep 0.2; echo ${i} "$HOME"`] }, a.options()),
      );
      const results = await Promise.all(runs);
      const homes = new Set<string>();
      results.forEach((result, i) => {
        expect(result.status).toBe("OK");
        const [index, home] = result.stdout.trim().split(" ");
        expect(index).toBe(String(i));
        homes.add(home ?? "");
      });
      expect(homes.size).toBe(8);
      await tempIsEmpty(a.temp);
    });
    test.if(on)("a failing logger does not break the run nor leave anything behind", async () => {
      const result = await runSandboxed(
        { cmd: ["sh", "-c", "sleep 5"], limits: { wall_ms: 200 } },
        a.options({
          logger: () => {
            throw new Error("log sink down");
          },
        }),
      );
      expect(result).toMatchObject({ status: "TIMEOUT", rc: 124 });
      await tempIsEmpty(a.temp);
    });
  });
}

describe("fail closed", () => {
  // Neither bubblewrap nor the init's mount stage: no filesystem view at all.
  const noView = {
    tools: { bwrap: "/nonexistent/vltair/bwrap", perl: "/nonexistent/vltair/perl" },
  };
  test.if(linux)(
    "no filesystem view: SANDBOX_DENIED naming filesystem and how to get it; nothing runs",
    async () => {
      const result = await runSandboxed(
        { cmd: ["touch", "ran.txt"] },
        area.options({ ...noView, disable: ["unshare"] }),
      );
      expect(result).toMatchObject({ status: "SANDBOX_DENIED", rc: 1, stdout: "" });
      expect(result.reason).toStartWith("required_not_applied:filesystem");
      expect(result.reason).toContain("to get it: install bubblewrap");
      expect(result.enforced.filesystem).toMatchObject({ applied: false });
      expect(result.enforced.filesystem.reason).toContain("/nonexistent/vltair/bwrap not found");
      expect(await readdir(area.ws)).not.toContain("ran.txt");
      await tempIsEmpty();
    },
  );
  test.if(linux)(
    "a request's allow_partial:true is honoured only when the operator allows partial runs",
    async () => {
      const request = { cmd: ["sh", "-c", "echo ran"], allow_partial: true };
      const refused = await runSandboxed(request, area.options(noView));
      expect(refused.status).toBe("SANDBOX_DENIED");
      expect(refused.reason).toContain("filesystem");
      const partial = await runSandboxed(request, area.options({ ...noView, allowPartial: true }));
      expect(partial).toMatchObject({ status: "OK", stdout: "ran\n" });
      expect(partial.enforced.filesystem.applied).toBe(false);
      const strict = await runSandboxed(
        { ...request, allow_partial: false },
        area.options({ ...noView, allowPartial: true }),
      );
      expect(strict.status).toBe("SANDBOX_DENIED");
    },
  );
  test.if(linux)("hidden paths are never waived, whatever the operator allows", async () => {
    const secret = join(area.root, "secret");
    await writeFile(secret, "s3cr3t");
    const result = await runSandboxed(
      { cmd: ["cat", secret] },
      area.options({ ...noView, allowPartial: true, hiddenPaths: [secret] }),
    );
    expect(result).toMatchObject({ status: "SANDBOX_DENIED", stdout: "" });
    expect(result.reason).toStartWith("required_not_applied:hidden_paths — ");
  });
  test.if(linux)("the operator's list decides: an unavailable required limit refuses", async () => {
    const result = await runSandboxed(
      { cmd: ["touch", "cpu.txt"], limits: { cpu_ms: 1000 } },
      area.options({
        require: ["cpu"],
        disable: ["prlimit"],
        tools: { prlimit: "/nonexistent/vltair/prlimit" },
      }),
    );
    expect(result.status).toBe("SANDBOX_DENIED");
    expect(result.reason).toStartWith("required_not_applied:cpu — ");
    expect(result.reason).toContain("install prlimit");
    expect(await readdir(area.ws)).not.toContain("cpu.txt");
  });
  test.if(linux)("an unknown name in the list is config_invalid", async () => {
    const error = await runSandboxed(
      { cmd: ["true"] },
      area.options({ require: ["seccomp" as never] }),
    ).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("config_invalid");
  });
  test.if(linux && caps.bubblewrap.available)(
    "allow_partial:false with everything available runs",
    async () => {
      const result = await runSandboxed({ cmd: ["true"], allow_partial: false }, area.options());
      expect(result.status).toBe(
        caps.cgroups?.v1Pids.available || caps.cgroups?.v2.available ? "OK" : "SANDBOX_DENIED",
      );
    },
  );
  test.if(linux)("network allow refused by the server: SANDBOX_DENIED, nothing runs", async () => {
    const result = await runSandboxed(
      { cmd: ["touch", "denied.txt"], network: "allow" },
      area.options({ networkAllowPermitted: false }),
    );
    expect(result).toMatchObject({
      status: "SANDBOX_DENIED",
      reason: "network_allow_refused",
      rc: 1,
    });
    expect(await readdir(area.ws)).not.toContain("denied.txt");
  });
});

describe("allow_partial without rlimits (AR-12)", () => {
  test.if(linux)(
    "rlimits switched off (prlimit and sh ulimit) and allow_partial false: INTERNAL_ERROR naming them",
    async () => {
      const result = await runSandboxed(
        { cmd: ["touch", "rl.txt"], allow_partial: false, limits: { cpu_ms: 1000 } },
        area.options({ tools: { prlimit: "/nonexistent/vltair/prlimit" }, disable: ["prlimit"] }),
      );
      expect(result.status).toBe("INTERNAL_ERROR");
      expect(result.reason).toContain("cpu");
      expect(result.reason).toContain("file_size");
      expect(result.reason).toContain("open_files");
      expect(result.enforced.open_files.reason).toContain("prlimit unavailable");
      expect(result.enforced.open_files.reason).toContain("sh ulimit unavailable");
      expect(await readdir(area.ws)).not.toContain("rl.txt");
    },
  );
});

describe("setup failure", () => {
  test.if(linux)(
    "a wrapper that fails before the command is INTERNAL_ERROR sandbox_setup_failed",
    async () => {
      // Passes the capability probe (its last argument is "true") but fails every real run.
      const fake = join(area.root, "fake-bwrap");
      await writeFile(
        fake,
        '#!/bin/sh\nfor a; do last=$a; done\n[ "$last" = true ] && exit 0\necho "fake-bwrap: cannot set up" >&2\nexit 1\n',
      );
      await chmod(fake, 0o755);
      const result = await runSandboxed(
        { cmd: ["echo", "ran"] },
        area.options({ tools: { bwrap: fake } }),
      );
      expect(result.stdout).toBe("");
      expect(result).toMatchObject({
        status: "INTERNAL_ERROR",
        reason: "sandbox_setup_failed",
        rc: 1,
      });
      expect(result.stderr).toContain("fake-bwrap: cannot set up");
      await tempIsEmpty();
    },
  );
});

describe("clock and trace", () => {
  test.if(linux)("AR-14: duration comes from the injected monotonic clock", async () => {
    let ticks = 0;
    const clockMs = () => {
      ticks += 1;
      return ticks * 7;
    };
    const result = await runSandboxed(
      { cmd: ["true"], limits: { wall_ms: 1000 } },
      area.options({ clockMs }),
    );
    expect(result.duration_ms).toBe(7);
    expect(result.status).toBe("OK");
  });
  test.if(linux)(
    "AR-8: a run whose measured duration reaches wall_ms is TIMEOUT even if the timer did not fire",
    async () => {
      let ticks = 0;
      const clockMs = () => {
        ticks += 1;
        return ticks === 1 ? 0 : 5000;
      };
      const result = await runSandboxed(
        { cmd: ["true"], limits: { wall_ms: 5000 } },
        area.options({ clockMs }),
      );
      expect(result).toMatchObject({ status: "TIMEOUT", rc: 124, duration_ms: 5000 });
    },
  );
  test.if(linux)("uses the given trace id and logs without env values", async () => {
    const events: [string, string, Record<string, unknown>][] = [];
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const result: SandboxResult = await runSandboxed(
      { cmd: ["true"], env: { API_KEY: "value-not-logged" } },
      area.options({
        traceId,
        logger: (level, event, fields) => events.push([level, event, fields]),
      }),
    );
    expect(result.trace_id).toBe(traceId);
    for (const [, , fields] of events) expect(fields.trace_id).toBe(traceId);
    expect(events.map((e) => e[1])).toContain("sandbox.run.start");
    expect(events.map((e) => e[1])).toContain("sandbox.run.end");
    expect(JSON.stringify(events)).not.toContain("value-not-logged");
  });
});

describe("temp root", () => {
  test.if(linux)(
    "a temp root that is a file is INTERNAL_ERROR temp_dir_create_failed",
    async () => {
      const file = join(area.root, "not-a-dir");
      await writeFile(file, "x");
      const result = await runSandboxed(
        { cmd: ["touch", "never.txt"] },
        area.options({ tempRoot: file }),
      );
      expect(result).toMatchObject({
        status: "INTERNAL_ERROR",
        reason: "temp_dir_create_failed",
        rc: 1,
      });
      expect(await readdir(area.ws)).not.toContain("never.txt");
    },
  );
});

describe("options", () => {
  test.if(linux)(
    "a workspace of / or a missing one is config_invalid and nothing runs",
    async () => {
      const slash = await runSandboxed(
        { cmd: ["true"] },
        area.options({ workspaceRoot: "/" }),
      ).catch((e: unknown) => e);
      expect((slash as { code?: string }).code).toBe("config_invalid");
      const missing = await runSandboxed(
        { cmd: ["true"] },
        area.options({ workspaceRoot: join(area.root, "nope") }),
      ).catch((e: unknown) => e);
      expect((missing as { code?: string }).code).toBe("config_invalid");
      expect(await readdir(area.temp)).toEqual([]);
    },
  );
});

describe("cgroups", () => {
  const parents = [
    caps.cgroups?.v1Memory.parentDir,
    caps.cgroups?.v1Pids.parentDir,
    caps.cgroups?.v1Cpuacct.parentDir,
    caps.cgroups?.v2.parentDir,
  ];
  const dirs = parents.filter((d): d is string => typeof d === "string");
  test.if(linux && dirs.length > 0)("no run cgroup is left behind by the runs above", async () => {
    for (const dir of dirs) {
      // This process's runs only: other servers on the host may share the parent.
      const mine = new RegExp(
        `^vltair-[0-9a-f]+-${formatOwner(await selfOwner()).replaceAll(".", "\\.")}-\\d+$`,
      );
      const left = (await readdir(dir)).filter((name) => mine.test(name));
      expect(left).toEqual([]);
    }
  });
});
