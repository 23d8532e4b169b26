/**
 * Sweeping leftovers of crashed servers: owner tokens, who counts as alive, and what
 * `sweepLeftovers` removes or keeps in a fake temp root and a fake cgroup hierarchy.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  formatOwner,
  ownerState,
  parseOwner,
  parseStartTicks,
  type RunOwner,
  selfOwner,
} from "../../../src/sandbox/owner.ts";
import {
  parseLeftoverName,
  RUN_LIFETIME_MAX_MS,
  STALE_AFTER_MS_DEFAULT,
  sweepLeftovers,
} from "../../../src/sandbox/sweep.ts";

const linux = process.platform === "linux";
const me = await selfOwner();
const TRACE = "0af7651916cd43dd8448eb211c80319c";

/** A pid that existed a moment ago and has been reaped. */
function deadPid(): number {
  const child = spawnSync("true");
  expect(child.status).toBe(0);
  return child.pid;
}

/** An owner that is gone: this pid in an earlier incarnation (Linux), or a reaped pid. */
const previousMe: RunOwner = linux
  ? { ...me, startTicks: (me.startTicks ?? 0) + 1 }
  : { pid: deadPid(), startTicks: null, pidNs: null };
/** An owner in another pid namespace: cannot be checked from here. */
const foreignNs: RunOwner = { pid: 1, startTicks: 1, pidNs: (me.pidNs ?? 0) + 1 };

const name = (owner: RunOwner, n = 1) => `vltair-${TRACE}-${formatOwner(owner)}-${n}`;

describe("owner tokens", () => {
  test("round-trip, base 36, and refuse garbage", () => {
    const owner = { pid: 4_194_304, startTicks: 370_232, pidNs: 4_026_531_836 };
    expect(formatOwner(owner)).toBe("2hwcg.7xo8.1ulajuk");
    expect(parseOwner(formatOwner(owner))).toEqual(owner);
    expect(parseOwner("ff")).toEqual({ pid: 555, startTicks: null, pidNs: null });
    for (const bad of ["", "0", "a.b", "A", "../1", "a.b.c.d", "zzzzzzzz"]) {
      expect(parseOwner(bad)).toBeNull();
    }
  });
  test("start ticks are field 22 of /proc/<pid>/stat, even with spaces in the name", () => {
    const rest = "S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10";
    expect(parseStartTicks(`42 (a b) c) ${rest}`)).toBe(98765);
    expect(parseStartTicks("42 (x) S 1")).toBeNull();
  });
  test("leftover names: runs with an owner, legacy and probe names, anything else is foreign", () => {
    expect(parseLeftoverName(name(me))).toEqual({ kind: "run", owner: me });
    expect(parseLeftoverName("vltair-ab-3").kind).toBe("unattributed");
    expect(parseLeftoverName("vltair-probe-123-4").kind).toBe("unattributed");
    for (const other of ["vltair-sbx-it-Xa12", "vltair-test-abc", "vltair-ab", "other-ab-1-2"]) {
      expect(parseLeftoverName(other).kind).toBe("foreign");
    }
  });
  test("alive, dead, unknown", async () => {
    expect(await ownerState(me, me)).toBe("alive");
    expect(await ownerState(previousMe, me)).toBe("dead");
    const dead = linux
      ? { ...me, pid: deadPid() }
      : { pid: deadPid(), startTicks: null, pidNs: null };
    expect(await ownerState(dead, me)).toBe("dead");
    if (linux) expect(await ownerState(foreignNs, me)).toBe("unknown");
  });
});

let root = "";
let temp = "";
let cg = "";
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "vltair-sweep-test-"));
  temp = join(root, "temp");
  cg = join(root, "cg");
  await mkdir(temp);
  // A cgroup v1 layout: this server in /srv of the memory and pids hierarchies.
  await mkdir(join(cg, "memory", "srv"), { recursive: true });
  await mkdir(join(cg, "pids", "srv"), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const SELF_CGROUP = "4:memory:/srv\n8:pids:/srv\n";
const HOURS_3_S = 3 * 3600;

async function leftoverTempDir(dirName: string, ageS = 0): Promise<string> {
  const dir = join(temp, dirName);
  await mkdir(join(dir, "home"), { recursive: true });
  await mkdir(join(dir, "tmp"));
  await writeFile(join(dir, "tmp", "f"), "x");
  if (ageS > 0) {
    const when = Date.now() / 1000 - ageS;
    await utimes(dir, when, when);
  }
  return dir;
}

async function leftoverCgroup(dirName: string, procs = "", ageS = 0): Promise<string[]> {
  const dirs = [join(cg, "memory", "srv", dirName), join(cg, "pids", "srv", dirName)];
  for (const dir of dirs) {
    await mkdir(dir);
    if (procs !== "") await writeFile(join(dir, "cgroup.procs"), procs);
    if (ageS > 0) {
      const when = Date.now() / 1000 - ageS;
      await utimes(dir, when, when);
    }
  }
  return dirs;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

function sweep(extra: { staleAfterMs?: number } = {}) {
  const events: string[] = [];
  const run = sweepLeftovers({
    tempRoot: temp,
    cgroupRoot: cg,
    selfCgroup: SELF_CGROUP,
    logger: (_level, event) => events.push(event),
    ...extra,
  });
  return { run, events };
}

describe("sweepLeftovers", () => {
  test("removes the temp dir and empty cgroups of a dead server, keeps a live server's", async () => {
    const deadDir = await leftoverTempDir(name(previousMe));
    const deadCgroups = await leftoverCgroup(name(previousMe));
    const liveDir = await leftoverTempDir(name(me, 2));
    const liveCgroups = await leftoverCgroup(name(me, 2));
    const { run, events } = sweep();
    expect(await run).toEqual({ tempDirs: 1, cgroups: 2 });
    expect(await exists(deadDir)).toBe(false);
    for (const dir of deadCgroups) expect(await exists(dir)).toBe(false);
    expect(await exists(liveDir)).toBe(true);
    for (const dir of liveCgroups) expect(await exists(dir)).toBe(true);
    expect(events).toContain("sandbox.sweep.done");
  });
  test("a dead server's run whose cgroup still has processes is kept, with a warning", async () => {
    const dir = await leftoverTempDir(name(previousMe));
    const cgroups = await leftoverCgroup(name(previousMe), "4242\n");
    const { run, events } = sweep();
    expect(await run).toEqual({ tempDirs: 0, cgroups: 0 });
    expect(await exists(dir)).toBe(true);
    for (const c of cgroups) expect(await exists(c)).toBe(true);
    expect(events).toContain("sandbox.sweep.cgroup_busy");
    expect(events).toContain("sandbox.sweep.run_still_running");
  });
  test("empty nested cgroups under a dead run are removed bottom-up", async () => {
    const [memoryDir] = await leftoverCgroup(name(previousMe));
    await mkdir(join(memoryDir as string, "child", "grandchild"), { recursive: true });
    expect(await sweep().run).toEqual({ tempDirs: 0, cgroups: 2 });
    expect(await readdir(join(cg, "memory", "srv"))).toEqual([]);
  });
  test.if(linux)("unattributable leftovers go only once older than staleAfterMs", async () => {
    const freshForeign = await leftoverTempDir(name(foreignNs, 1));
    const oldForeign = await leftoverTempDir(name(foreignNs, 2), HOURS_3_S);
    const freshLegacy = await leftoverTempDir("vltair-ab-1");
    const oldLegacy = await leftoverTempDir("vltair-ab-2", HOURS_3_S);
    const [freshCg] = await leftoverCgroup("vltair-ab-1");
    const oldCgroups = await leftoverCgroup("vltair-probe-77-1", "", HOURS_3_S);
    expect(await sweep().run).toEqual({ tempDirs: 2, cgroups: 2 });
    expect(await exists(freshForeign)).toBe(true);
    expect(await exists(freshLegacy)).toBe(true);
    expect(await exists(freshCg as string)).toBe(true);
    expect(await exists(oldForeign)).toBe(false);
    expect(await exists(oldLegacy)).toBe(false);
    for (const dir of oldCgroups) expect(await exists(dir)).toBe(false);
  });
  test("foreign names, symlinks and plain files are never touched; locked dirs are removed", async () => {
    const foreign = await leftoverTempDir("vltair-sbx-it-Xa12", HOURS_3_S);
    const target = await leftoverTempDir("elsewhere");
    await symlink(target, join(temp, name(previousMe, 3)));
    await writeFile(join(temp, name(previousMe, 4)), "not a dir");
    const locked = await leftoverTempDir(name(previousMe, 5));
    await import("node:fs/promises").then((fs) => fs.chmod(join(locked, "tmp"), 0o000));
    expect(await sweep().run).toEqual({ tempDirs: 1, cgroups: 0 });
    expect(await exists(foreign)).toBe(true);
    expect(await exists(join(target, "tmp", "f"))).toBe(true);
    expect(await exists(join(temp, name(previousMe, 4)))).toBe(true);
    expect(await exists(locked)).toBe(false);
  });
  test("cgroup v2: runs beside the server's leaf are swept, the leaf itself is not", async () => {
    const v2 = join(root, "v2");
    await mkdir(join(v2, "app", "server"), { recursive: true });
    await writeFile(join(v2, "cgroup.controllers"), "memory pids");
    await mkdir(join(v2, "app", name(previousMe)));
    await mkdir(join(v2, "app", name(me, 2)));
    const result = await sweepLeftovers({
      tempRoot: temp,
      cgroupRoot: v2,
      selfCgroup: "0::/app/server\n",
    });
    expect(result).toEqual({ tempDirs: 0, cgroups: 1 });
    expect((await readdir(join(v2, "app"))).sort()).toEqual([name(me, 2), "server"].sort());
  });
  test("a missing temp root or cgroup hierarchy is nothing to sweep", async () => {
    const result = await sweepLeftovers({
      tempRoot: join(root, "nope"),
      cgroupRoot: join(root, "no-cg"),
      selfCgroup: "0::/x\n",
    });
    expect(result).toEqual({ tempDirs: 0, cgroups: 0 });
  });
  test("staleAfterMs shorter than the longest run is config_invalid", async () => {
    expect(STALE_AFTER_MS_DEFAULT).toBeGreaterThan(RUN_LIFETIME_MAX_MS);
    await expect(sweep({ staleAfterMs: RUN_LIFETIME_MAX_MS - 1 }).run).rejects.toMatchObject({
      code: "config_invalid",
    });
  });
});
