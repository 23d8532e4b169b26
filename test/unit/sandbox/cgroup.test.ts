/**
 * cgroup detection and the attach/limit path against fake hierarchies in a temp dir (AR-4,
 * AR-9): deterministic `available`/`reason`, and the files a run's cgroup gets.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cgroupCpuMs,
  cgroupMembers,
  cgroupOomKilled,
  cgroupPeakBytes,
  createRunCgroup,
  parseSelfCgroup,
  probeCgroups,
  procsFiles,
  removeRunCgroup,
} from "../../../src/sandbox/linux/cgroup.ts";
import { chooseCgroup, linuxCpuUsage } from "../../../src/sandbox/linux/linux-shim.ts";

let root = "";
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "vltair-cg-test-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function touch(path: string, text = ""): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
}

describe("parseSelfCgroup", () => {
  test("maps v1 controllers and the v2 entry", () => {
    const paths = parseSelfCgroup("4:memory:/a/b\n8:cpu,cpuacct:/c\n0::/user.slice/x\n");
    expect(paths.get("memory")).toBe("/a/b");
    expect(paths.get("cpuacct")).toBe("/c");
    expect(paths.get("")).toBe("/user.slice/x");
  });
});

describe("probeCgroups", () => {
  test("a delegated v2 cgroup (memory and pids in subtree_control) is used", async () => {
    await touch(join(root, "cgroup.controllers"), "memory pids");
    await touch(join(root, "svc", "cgroup.subtree_control"), "memory pids\n");
    const layout = await probeCgroups(root, "0::/svc\n");
    expect(layout.v2.available).toBe(true);
    expect(layout.v2.parentDir).toBe(join(root, "svc"));
    expect(chooseCgroup(layout).version).toBe(2);
    expect(linuxCpuUsage(layout)).toMatchObject({ measured: true, mechanism: "cgroup_v2" });
  });
  test("a server in a leaf of a delegated v2 subtree creates runs beside itself", async () => {
    await touch(join(root, "cgroup.controllers"), "memory pids");
    await touch(join(root, "app", "cgroup.subtree_control"), "memory pids\n");
    await touch(join(root, "app", "server", "cgroup.subtree_control"), "");
    const layout = await probeCgroups(root, "0::/app/server\n");
    expect(layout.v2).toMatchObject({ available: true, parentDir: join(root, "app") });
  });
  test("v2 without delegation is reported with a reason, v1 is used instead", async () => {
    await touch(join(root, "unified", "cgroup.controllers"), "");
    await touch(join(root, "unified", "cgroup.subtree_control"), "");
    await touch(join(root, "memory", "srv", "cgroup.procs"));
    await touch(join(root, "pids", "cgroup.procs"));
    const layout = await probeCgroups(root, "4:memory:/srv\n8:pids:/\n0::/\n");
    expect(layout.v2.available).toBe(false);
    expect(layout.v2.reason).toContain("does not delegate memory and pids");
    expect(layout.v1Memory.available).toBe(true);
    expect(layout.v1Memory.parentDir).toBe(join(root, "memory", "srv"));
    expect(layout.v1Pids.available).toBe(true);
    expect(chooseCgroup(layout)).toMatchObject({
      version: 1,
      memoryParent: join(root, "memory", "srv"),
      cpuParent: null,
    });
    expect(linuxCpuUsage(layout)).toMatchObject({ measured: false, mechanism: "none" });
    expect(linuxCpuUsage(layout).reason).toContain("no cgroup v1 cpuacct hierarchy");
  });
  test("a writable v1 cpuacct hierarchy alone measures CPU time", async () => {
    await touch(join(root, "cpuacct", "srv", "cgroup.procs"));
    const layout = await probeCgroups(root, "2:cpuacct:/srv\n");
    const dir = join(root, "cpuacct", "srv");
    expect(layout.v1Cpuacct).toMatchObject({ available: true, parentDir: dir });
    expect(chooseCgroup(layout)).toMatchObject({
      version: 1,
      memoryParent: null,
      pidsParent: null,
      cpuParent: dir,
    });
    expect(linuxCpuUsage(layout)).toMatchObject({ measured: true, mechanism: "cgroup_v1_cpuacct" });
    expect(layout.prime).toEqual({ key: "cpuacct", ownPath: "/srv", ownDir: dir });
  });
  test("nothing mounted: every probe says why", async () => {
    const layout = await probeCgroups(root, "");
    expect(layout.v2).toEqual({
      available: false,
      reason: "no cgroup v2 entry in /proc/self/cgroup",
      parentDir: null,
    });
    expect(layout.v1Memory.reason).toContain("no cgroup v1 memory");
    expect(chooseCgroup(layout).version).toBeNull();
    expect(chooseCgroup(null).memoryReason).toBe("no cgroup hierarchy");
  });
});

describe("createRunCgroup", () => {
  test("a name clash fails and leaves the existing directory alone", async () => {
    const parent = join(root, "svc");
    await touch(join(parent, "cgroup.subtree_control"), "memory pids");
    await touch(join(parent, "run1", "memory.swap.max"), "max");
    const cg = await createRunCgroup(
      { version: 2, memoryParent: parent, pidsParent: parent, cpuParent: parent },
      "run1",
      {
        memBytes: 64 * 1024 * 1024,
        pids: 32,
      },
    ).catch((error: NodeJS.ErrnoException) => error);
    // mkdir of an existing directory fails like a name clash would: nothing is left half-made.
    expect((cg as NodeJS.ErrnoException).code).toBe("EEXIST");
    expect(await readFile(join(parent, "run1", "memory.swap.max"), "utf8")).toBe("max");
  });
  test("v2 on a fresh name writes the limits and lists one cgroup.procs", async () => {
    const parent = join(root, "svc");
    await mkdir(parent, { recursive: true });
    const cg = await createRunCgroup(
      { version: 2, memoryParent: parent, pidsParent: parent, cpuParent: parent },
      "run2",
      {
        memBytes: 1048576,
        pids: 16,
      },
    );
    expect(await readFile(join(parent, "run2", "memory.max"), "utf8")).toBe("1048576");
    expect(await readFile(join(parent, "run2", "pids.max"), "utf8")).toBe("16");
    expect(procsFiles(cg)).toEqual([join(parent, "run2", "cgroup.procs")]);
    await writeFile(
      join(parent, "run2", "memory.events"),
      "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    );
    await writeFile(join(parent, "run2", "memory.peak"), "2097152\n");
    await writeFile(join(parent, "run2", "cgroup.procs"), "12\n11\n");
    expect(await cgroupOomKilled(cg)).toBe(true);
    expect(await cgroupPeakBytes(cg)).toBe(2097152);
    expect(await cgroupMembers(cg)).toEqual([11, 12]);
    // cpu.stat usage_usec, rounded to ms.
    expect(await cgroupCpuMs(cg)).toBeNull(); // no cpu.stat yet: not measured, not 0
    await writeFile(
      join(parent, "run2", "cpu.stat"),
      "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n",
    );
    expect(await cgroupCpuMs(cg)).toBe(1235);
  });
  test("v2 without memory and pids keeps the cgroup for CPU time alone", async () => {
    const parent = join(root, "svc");
    await mkdir(parent, { recursive: true });
    const cg = await createRunCgroup(
      { version: 2, memoryParent: null, pidsParent: null, cpuParent: parent },
      "run4",
      { memBytes: null, pids: null },
    );
    expect(cg).toEqual({
      version: 2,
      memoryDir: null,
      pidsDir: null,
      cpuDir: join(parent, "run4"),
    });
    expect(procsFiles(cg)).toEqual([join(parent, "run4", "cgroup.procs")]);
  });
  test("v1 uses one directory per controller and reads oom_control", async () => {
    const mem = join(root, "memory");
    const pids = join(root, "pids");
    await mkdir(mem, { recursive: true });
    await mkdir(pids, { recursive: true });
    const cpu = join(root, "cpuacct");
    await mkdir(cpu, { recursive: true });
    const cg = await createRunCgroup(
      { version: 1, memoryParent: mem, pidsParent: pids, cpuParent: cpu },
      "run3",
      { memBytes: 1048576, pids: 8 },
    );
    expect(await readFile(join(mem, "run3", "memory.limit_in_bytes"), "utf8")).toBe("1048576");
    expect(await readFile(join(pids, "run3", "pids.max"), "utf8")).toBe("8");
    expect(procsFiles(cg).sort()).toEqual(
      [
        join(mem, "run3", "cgroup.procs"),
        join(pids, "run3", "cgroup.procs"),
        join(cpu, "run3", "cgroup.procs"),
      ].sort(),
    );
    // cpuacct.usage is in ns.
    await writeFile(join(cpu, "run3", "cpuacct.usage"), "2500000000\n");
    expect(await cgroupCpuMs(cg)).toBe(2500);
    await writeFile(
      join(mem, "run3", "memory.oom_control"),
      "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    );
    expect(await cgroupOomKilled(cg)).toBe(false);
    await rm(join(mem, "run3"), { recursive: true });
    await rm(join(pids, "run3"), { recursive: true });
    await rm(join(cpu, "run3"), { recursive: true });
    expect(await removeRunCgroup(cg)).toBe(true);
  });
});
