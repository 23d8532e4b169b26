/**
 * `runSandboxed` end to end on this OS: statuses, allow_partial, kill path, temp dir cleanup,
 * clock injection, logging. Linux-only parts skip with a printed reason elsewhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { detectCapabilities, runSandboxed, type SandboxResult } from "../../../src/sandbox/mod.ts";
import { type Area, makeArea } from "./harness.ts";

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

async function tempIsEmpty(): Promise<void> {
  expect(await readdir(area.temp)).toEqual([]);
}

describe("statuses", () => {
  test.if(linux)(
    "OK, FAILED with rc, command not found is rc 127, stdin reaches the child",
    async () => {
      const ok = await runSandboxed({ cmd: ["cat"], stdin: "from stdin" }, area.options());
      expect(ok).toMatchObject({ status: "OK", rc: 0, stdout: "from stdin", reason: null });
      const failed = await runSandboxed(
        { cmd: ["sh", "-c", "echo oops >&2; exit 3"] },
        area.options(),
      );
      expect(failed).toMatchObject({ status: "FAILED", rc: 3, stderr: "oops\n" });
      const missing = await runSandboxed({ cmd: ["no-such-command-vltair"] }, area.options());
      expect(missing).toMatchObject({ status: "FAILED", rc: 127 });
      await tempIsEmpty();
    },
  );
  test.if(linux)("TIMEOUT is rc 124; a TERM handler runs within the grace", async () => {
    const result = await runSandboxed(
      {
        cmd: ["sh", "-c", "trap 'echo cleaned; exit 0' TERM; sleep 30 & wait"],
        limits: { wall_ms: 300 },
      },
      area.options(),
    );
    expect(result).toMatchObject({ status: "TIMEOUT", rc: 124, reason: "wall_timeout" });
    expect(result.stdout).toBe("cleaned\n");
    expect(result.duration_ms).toBeGreaterThanOrEqual(300);
    await tempIsEmpty();
  });
  test.if(linux)("a command ignoring TERM is killed after the grace", async () => {
    const result = await runSandboxed(
      { cmd: ["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"], limits: { wall_ms: 200 } },
      area.options({ limits: { killGraceMs: 200 } }),
    );
    expect(result.status).toBe("TIMEOUT");
    expect(result.duration_ms).toBeGreaterThanOrEqual(400);
    expect(result.duration_ms).toBeLessThan(5000);
  });
  test.if(linux)("an aborted signal kills the run: KILLED, reason cancelled", async () => {
    const controller = new AbortController();
    const pending = runSandboxed(
      { cmd: ["sleep", "30"] },
      area.options({ signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 100);
    const result = await pending;
    expect(result).toMatchObject({ status: "KILLED", reason: "cancelled" });
    await tempIsEmpty();
  });
  test.if(linux && caps.prlimit.available)(
    "cpu_ms is enforced through RLIMIT_CPU: KILLED, reason cpu_limit",
    async () => {
      const result = await runSandboxed(
        { cmd: ["sh", "-c", "while :; do :; done"], limits: { cpu_ms: 1000, wall_ms: 20_000 } },
        area.options(),
      );
      expect(result).toMatchObject({ status: "KILLED", reason: "cpu_limit" });
      expect(result.enforced.cpu).toMatchObject({
        requested: 1000,
        applied: true,
        mechanism: "rlimit_cpu",
      });
    },
  );
});

describe("allow_partial", () => {
  const noBwrap = { tools: { bwrap: "/nonexistent/vltair/bwrap" } };
  test.if(linux)(
    "false with bubblewrap absent: INTERNAL_ERROR with a stable reason, nothing runs",
    async () => {
      const result = await runSandboxed(
        { cmd: ["touch", "ran.txt"], allow_partial: false },
        area.options({ ...noBwrap, disable: ["unshare"] }),
      );
      expect(result.status).toBe("INTERNAL_ERROR");
      expect(result.rc).toBe(1);
      expect(result.reason).toStartWith("limit_not_applied:");
      expect(result.reason).toContain("filesystem");
      expect(result.reason).toContain("network");
      expect(result.enforced.filesystem).toMatchObject({ applied: false });
      expect(result.enforced.filesystem.reason).toContain("/nonexistent/vltair/bwrap not found");
      expect(await readdir(area.ws)).not.toContain("ran.txt");
      await tempIsEmpty();
    },
  );
  test.if(linux)(
    "true with bubblewrap absent: runs and reports filesystem as not applied",
    async () => {
      const result = await runSandboxed({ cmd: ["true"] }, area.options(noBwrap));
      expect(result.status).toBe("OK");
      expect(result.enforced.filesystem.applied).toBe(false);
      expect(result.enforced.network.mechanism).toBe(
        caps.unshare.available ? "unshare_netns" : "none",
      );
    },
  );
  test.if(linux && caps.bubblewrap.available)("false with everything available runs", async () => {
    const result = await runSandboxed({ cmd: ["true"], allow_partial: false }, area.options());
    expect(result.status).toBe(
      caps.cgroups?.v1Pids.available || caps.cgroups?.v2.available ? "OK" : "INTERNAL_ERROR",
    );
  });
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

describe("concurrency", () => {
  test.if(linux)("eight runs at once each get their own HOME and all end OK", async () => {
    const runs = Array.from({ length: 8 }, (_, i) =>
      runSandboxed({ cmd: ["sh", "-c", `sleep 0.2; echo ${i} "$HOME"`] }, area.options()),
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
    await tempIsEmpty();
  });
});

describe("a failing logger", () => {
  test.if(linux)("does not break the run nor leave anything behind", async () => {
    const result = await runSandboxed(
      { cmd: ["sh", "-c", "sleep 5"], limits: { wall_ms: 200 } },
      area.options({
        logger: () => {
          throw new Error("log sink down");
        },
      }),
    );
    expect(result).toMatchObject({ status: "TIMEOUT", rc: 124 });
    await tempIsEmpty();
  });
});

describe("cgroups", () => {
  const parents = [
    caps.cgroups?.v1Memory.parentDir,
    caps.cgroups?.v1Pids.parentDir,
    caps.cgroups?.v2.parentDir,
  ];
  const dirs = parents.filter((d): d is string => typeof d === "string");
  test.if(linux && dirs.length > 0)("no run cgroup is left behind by the runs above", async () => {
    for (const dir of dirs) {
      const left = (await readdir(dir)).filter((name) => /^vltair-[0-9a-f]+-\d+$/.test(name));
      expect(left).toEqual([]);
    }
  });
});
