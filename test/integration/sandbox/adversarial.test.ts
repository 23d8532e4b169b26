/**
 * Adversarial runs on Linux (issues 7 and 13): each asserts the status and the `enforced`
 * report, in both modes (with bubblewrap when installed, and without it). Tests needing a
 * mechanism this host lacks are skipped with a printed reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { VltairError } from "../../../src/core/mod.ts";
import { runSandboxed, type SandboxMechanism } from "../../../src/sandbox/mod.ts";
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
if (!linux)
  console.log(`skip: Linux adversarial sandbox tests need Linux (platform=${process.platform})`);
/** Runs that lose a required limit on purpose (no cgroups) are allowed by the operator here. */
const partial = { allowPartial: true } as const;

for (const mode of sandboxModes("adversarial.test.ts")) {
  const caps = await modeCaps(mode);
  const on = linux && mode.available;
  const cgroupV1 = caps.cgroups?.v1Memory.available === true && caps.cgroups.v1Pids.available;
  const cgroups = on && (cgroupV1 || caps.cgroups?.v2.available === true);
  const view = on && (caps.bubblewrap.available || caps.mountStage.available);
  const netns = on && (caps.bubblewrap.available || caps.unshare.available);
  if (on && !cgroups)
    console.log(`skip [${mode.name}]: pids/memory cgroup tests: no writable cgroup`);
  if (on && !view)
    console.log(
      `skip [${mode.name}]: filesystem tests: ${caps.bubblewrap.reason}; ${caps.mountStage.reason}`,
    );

  describe(`[${mode.name}]`, () => {
    let area: Area;
    beforeAll(async () => {
      area = await makeArea(mode);
    });
    afterAll(async () => {
      await area.dispose();
    });

    describe("fork bomb", () => {
      test.if(cgroups)("is contained by the pids limit and nothing survives", async () => {
        const mark = marker("bomb");
        const result = await runSandboxed(
          {
            cmd: ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 30", mark],
            limits: { wall_ms: 1500, pids: 32 },
          },
          area.options(),
        );
        const left = await processesWith(mark);
        await killAll(left);
        expect(result.status).toBe("TIMEOUT");
        expect(result.rc).toBe(124);
        expect(result.enforced.pids).toMatchObject({ requested: 32, applied: true });
        expect(result.enforced.pids.mechanism).toMatch(/^cgroup_v[12]$/);
        expect(result.stderr).toMatch(/fork|Resource temporarily unavailable/i);
        expect(left).toEqual([]);
      });
    });

    describe("memory hog", () => {
      test.if(cgroups)("is MEM_LIMIT under the cgroup limit", async () => {
        const result = await runSandboxed(
          {
            cmd: ["perl", "-e", '$x = "a" x (512 * 1024 * 1024); print "survived\\n"'],
            limits: { mem_bytes: 64 * 1024 * 1024, wall_ms: 20_000 },
          },
          area.options(),
        );
        expect(result.status).toBe("MEM_LIMIT");
        expect(result.rc).toBe(137);
        expect(result.reason).toBe("memory_limit:cgroup_oom_kill");
        expect(result.stdout).not.toContain("survived");
        expect(result.enforced.memory).toMatchObject({
          requested: 64 * 1024 * 1024,
          applied: true,
        });
        expect(result.enforced.memory.mechanism).toMatch(/^cgroup_v[12]$/);
        expect(result.max_rss_bytes).toBeGreaterThan(0);
        expect(result.max_rss_bytes).toBeLessThanOrEqual(64 * 1024 * 1024);
      });
      test.if(on && (caps.prlimit.available || caps.ulimit.available))(
        "without cgroups RLIMIT_AS stops it and it is MEM_LIMIT",
        async () => {
          const result = await runSandboxed(
            {
              cmd: ["perl", "-e", '$x = "a" x (512 * 1024 * 1024); print "survived\\n"'],
              limits: { mem_bytes: 64 * 1024 * 1024 },
            },
            area.options({ ...partial, disable: ["cgroup_v1", "cgroup_v2"] }),
          );
          expect(result.status).toBe("MEM_LIMIT");
          expect(result.reason).toBe("memory_limit:rlimit_as");
          expect(result.enforced.memory).toMatchObject({ applied: true, mechanism: "rlimit_as" });
          expect(result.enforced.memory.reason).toContain("cgroup_v1 disabled by configuration");
        },
      );
    });

    describe("network deny", () => {
      let server: Server;
      let port = 0;
      let connections = 0;
      beforeAll(async () => {
        server = createServer((socket) => {
          connections += 1;
          socket.end("hello\n");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
        port = (server.address() as { port: number }).port;
      });
      afterAll(() => {
        server.close();
      });
      const connect = () => [
        "bash",
        "-c",
        `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected && cat <&3`,
      ];

      test.if(netns)("blocks a connection to a listener on 127.0.0.1", async () => {
        const before = connections;
        const result = await runSandboxed(
          { cmd: connect(), network: "deny", limits: { wall_ms: 10_000 } },
          area.options(),
        );
        expect(result.status).toBe("FAILED");
        expect(result.stdout).not.toContain("connected");
        expect(connections).toBe(before);
        expect(result.enforced.network).toMatchObject({ requested: "deny", applied: true });
        expect(result.enforced.network.mechanism).toMatch(/_netns$/);
      });
      test.if(on)(
        "the same command connects when the network is allowed (the test can fail)",
        async () => {
          const before = connections;
          const result = await runSandboxed(
            { cmd: connect(), network: "allow", limits: { wall_ms: 10_000 } },
            area.options(),
          );
          expect(result.status).toBe("OK");
          expect(result.stdout).toBe("connected\nhello\n");
          expect(connections).toBe(before + 1);
          expect(result.enforced.network).toMatchObject({
            requested: "allow",
            applied: true,
            mechanism: "none",
          });
        },
      );
    });

    describe("filesystem", () => {
      let outside = "";
      beforeAll(async () => {
        // Under /var/tmp, not /tmp: the sandbox's private /tmp would hide a /tmp path anyway.
        outside = await mkdtemp("/var/tmp/vltair-outside-");
      });
      afterAll(async () => {
        await rm(outside, { recursive: true, force: true });
      });
      test.if(view)("a write outside the workspace fails; inside it succeeds", async () => {
        const result = await runSandboxed(
          { cmd: ["sh", "-c", `echo in > inside.txt && echo out > ${outside}/escaped.txt`] },
          area.options(),
        );
        expect(result.status).toBe("FAILED");
        expect(result.stderr).toMatch(/Read-only file system/);
        await expect(stat(join(outside, "escaped.txt"))).rejects.toThrow();
        expect((await stat(join(area.ws, "inside.txt"))).isFile()).toBe(true);
        expect(result.enforced.filesystem).toMatchObject({
          requested: "workspace_rw",
          applied: true,
          mechanism: caps.bubblewrap.available ? "bubblewrap" : "unshare_mount",
        });
      });
      test.if(view)("even as root the command cannot remount / read-write", async () => {
        const result = await runSandboxed(
          {
            cmd: [
              "sh",
              "-c",
              `mount -o remount,rw / 2>/dev/null; echo out > ${outside}/escaped.txt`,
            ],
          },
          area.options(),
        );
        expect(result.status).toBe("FAILED");
        await expect(stat(join(outside, "escaped.txt"))).rejects.toThrow();
      });
    });

    describe("setsid grandchild", () => {
      const variants: [string, SandboxMechanism[], boolean][] = [
        ["every mechanism", [], on],
        ["no cgroups (PID namespace found through /proc)", ["cgroup_v1", "cgroup_v2"], netns],
      ];
      for (const [name, disable, available] of variants) {
        test.if(available)(`sleeping past the timeout is dead afterwards: ${name}`, async () => {
          const mark = marker("orphan");
          const result = await runSandboxed(
            {
              cmd: ["sh", "-c", `(setsid sh -c 'sleep 30' ${mark} &); sleep 30`],
              limits: { wall_ms: 800 },
            },
            area.options({ ...partial, disable }),
          );
          const left = await processesWith(mark);
          await killAll(left);
          expect(result.status).toBe("TIMEOUT");
          expect(result.rc).toBe(124);
          expect(left).toEqual([]);
          expect(result.enforced.process_tree.applied).toBe(true);
        });
      }
      test.if(netns || cgroups)("left behind by a command that exits 0 is killed too", async () => {
        const mark = marker("daemon");
        const result = await runSandboxed(
          { cmd: ["sh", "-c", `setsid sh -c 'sleep 30' ${mark} > /dev/null 2>&1 & exit 0`] },
          area.options(),
        );
        const left = await processesWith(mark);
        await killAll(left);
        expect(result.status).toBe("OK");
        expect(left).toEqual([]);
        expect(result.enforced.process_tree).toMatchObject({
          requested: "no_survivors",
          applied: true,
        });
      });
      test.if(on)(
        "with every mechanism off the report admits the process tree is not guaranteed",
        async () => {
          const result = await runSandboxed(
            { cmd: ["true"] },
            area.options({
              ...partial,
              disable: ["bubblewrap", "unshare", "cgroup_v1", "cgroup_v2", "prlimit"],
            }),
          );
          expect(result.status).toBe("OK");
          expect(result.enforced.process_tree).toMatchObject({ applied: false, mechanism: "none" });
          expect(result.enforced.network).toMatchObject({ applied: false });
          expect(result.enforced.memory).toMatchObject({ applied: false });
        },
      );
    });

    describe("output", () => {
      test.if(on)("200 MB of output keeps memory bounded and truncates on the cap", async () => {
        const cap = 1024 * 1024;
        const rssBefore = process.memoryUsage().rss;
        const result = await runSandboxed(
          {
            cmd: [
              "sh",
              "-c",
              "head -c 200000000 /dev/zero | tr '\\0' 'a'; head -c 200000000 /dev/zero | tr '\\0' 'b' >&2",
            ],
            limits: { output_bytes: cap },
          },
          area.options(),
        );
        const rssGrowth = process.memoryUsage().rss - rssBefore;
        expect(result.status).toBe("OUTPUT_LIMIT");
        expect(result.stdout_truncated).toBe(true);
        expect(result.stdout).toBe(`${"a".repeat(cap)}\n[TRUNCATED at ${cap} bytes]`);
        expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
      });
      test.if(on)(
        "invalid UTF-8 becomes U+FFFD; a character straddling the cap is dropped whole",
        async () => {
          const invalid = await runSandboxed({ cmd: ["printf", "a\\377\\376b"] }, area.options());
          expect(invalid.status).toBe("OK");
          expect(invalid.stdout).toBe("a\uFFFD\uFFFDb");
          const straddle = await runSandboxed(
            { cmd: ["printf", "%s", `${"x".repeat(15)}€`], limits: { output_bytes: 16 } },
            area.options(),
          );
          expect(straddle.status).toBe("OUTPUT_LIMIT");
          expect(straddle.stdout).toBe(`${"x".repeat(15)}\n[TRUNCATED at 16 bytes]`);
          expect(straddle.stdout_truncated).toBe(true);
          expect(straddle.stderr_truncated).toBe(false);
        },
      );
    });

    describe("environment", () => {
      test.if(on)(
        "a secret of the server is invisible; named passthrough and HOME inside the run dir",
        async () => {
          process.env.VLTAIR_TEST_SECRET_TOKEN = "s3cr3t-value";
          process.env.COVERAGE_FILE = "/ws/.coverage";
          try {
            const result = await runSandboxed({ cmd: ["env"] }, area.options());
            expect(result.status).toBe("OK");
            expect(result.stdout).not.toContain("s3cr3t-value");
            expect(result.stdout).not.toContain("VLTAIR_TEST_SECRET_TOKEN");
            expect(result.stdout).toContain("COVERAGE_FILE=/ws/.coverage\n");
            expect(result.stdout).toContain(`HOME=${area.temp}/vltair-${result.trace_id}-`);
          } finally {
            delete process.env.VLTAIR_TEST_SECRET_TOKEN;
            delete process.env.COVERAGE_FILE;
          }
        },
      );
    });

    describe("cwd", () => {
      test.if(on)("'../..' is refused with validation_failed and nothing runs", async () => {
        const error = await runSandboxed(
          { cmd: ["touch", "ran"], cwd: "../.." },
          area.options(),
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VltairError);
        expect((error as VltairError).code).toBe("validation_failed");
        expect((error as VltairError).details.field).toBe("cwd");
        expect(await readdir(area.temp)).toEqual([]);
      });
    });
  });
}
