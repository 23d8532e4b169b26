/**
 * Sweeping after a real crash (Linux): a server process is SIGKILLed mid-run, leaving its run
 * temp dir and cgroups; `sweepLeftovers` removes them, and never touches a live run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runSandboxed, sweepLeftovers } from "../../../src/sandbox/mod.ts";
import { cgroupParents } from "../../../src/sandbox/sweep.ts";
import { type Area, killAll, makeArea, marker, processesWith, sandboxModes } from "./harness.ts";

const linux = process.platform === "linux";
if (!linux) console.log(`skip: crash sweep test runs on Linux (platform=${process.platform})`);

const POLL_DEADLINE_MS = 15_000;
const POLL_INTERVAL_MS = 20;

/** Polls `check` until it returns true or the deadline passes. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + POLL_DEADLINE_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function runCgroupDirs(runName: string): Promise<string[]> {
  const self = await readFile("/proc/self/cgroup", "utf8");
  const parents = await cgroupParents("/sys/fs/cgroup", self);
  const found: string[] = [];
  for (const parent of parents)
    if (await exists(join(parent, runName))) found.push(join(parent, runName));
  return found;
}

/** Whether no process is listed in any of the run's cgroups (zombies included). */
async function cgroupsEmpty(dirs: readonly string[]): Promise<boolean> {
  for (const dir of dirs) {
    const procs = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    if (procs.trim() !== "") return false;
  }
  return true;
}

let area: Area;
beforeAll(async () => {
  area = await makeArea();
});
afterAll(async () => {
  await area.dispose();
});

describe("sweepLeftovers after a crash", () => {
  test.each(sandboxModes("sweep.test.ts").map((m) => [m.name, m] as const))(
    "[%s] a SIGKILLed server's run dies with it; its temp dir and cgroups are swept",
    async (_name, mode) => {
      if (!linux || !mode.available) return;
      const own = await makeArea(mode);
      const tag = marker("crash-sweep");
      const child = spawn(
        process.execPath,
        [join(import.meta.dir, "crash-child.ts"), own.ws, own.temp, tag, mode.disable.join(",")],
        { stdio: "ignore" },
      );
      const exited = new Promise((resolve) => child.on("exit", resolve));
      try {
        await until("the run to start", () => exists(join(own.ws, "started")));
        const [runName] = await readdir(own.temp);
        expect(runName).toMatch(/^vltair-[0-9a-f]{32}-[0-9a-z.]+-1$/);
        const cgroups = await runCgroupDirs(runName as string);
        child.kill("SIGKILL");
        await exited;
        // bubblewrap (--die-with-parent) and unshare (the perl tether's PR_SET_PDEATHSIG with
        // --kill-child) die with their server and take the command along: nothing kills it here.
        // A killed process stays in cgroup.procs until it is reaped (by the host's init, slow
        // under load): the sweep rightly keeps a run whose cgroup is not empty.
        await until(
          "the command to die with its server and be reaped",
          async () => (await processesWith(tag)).length === 0 && (await cgroupsEmpty(cgroups)),
        );
        expect(await readdir(own.temp)).toEqual([runName as string]);
        const events: string[] = [];
        const swept = await sweepLeftovers({
          tempRoot: own.temp,
          logger: (_level, event) => events.push(event),
        });
        expect(swept).toEqual({ tempDirs: 1, cgroups: cgroups.length });
        expect(await readdir(own.temp)).toEqual([]);
        for (const dir of cgroups) expect(await exists(dir)).toBe(false);
        expect(events).toContain("sandbox.sweep.done");
      } finally {
        child.kill("SIGKILL");
        await killAll(await processesWith(tag));
        await own.dispose();
      }
    },
    30_000,
  );
  test.if(linux)("a live run of this server is left alone", async () => {
    const go = join(area.ws, "go");
    const running = runSandboxed(
      {
        cmd: ["sh", "-c", `while [ ! -e ${go} ]; do sleep 0.02; done; echo done`],
        limits: { wall_ms: 10_000 },
      },
      area.options(),
    );
    await until("the run's temp dir", async () => (await readdir(area.temp)).length === 1);
    const [runName] = await readdir(area.temp);
    const cgroups = await runCgroupDirs(runName as string);
    expect(await sweepLeftovers({ tempRoot: area.temp })).toEqual({ tempDirs: 0, cgroups: 0 });
    for (const dir of cgroups) expect(await exists(dir)).toBe(true);
    await writeFile(go, "");
    expect(await running).toMatchObject({ status: "OK", stdout: "done\n" });
    expect(await readdir(area.temp)).toEqual([]);
  });
});
