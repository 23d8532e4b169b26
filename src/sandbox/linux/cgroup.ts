/**
 * cgroup v2 and v1 memory/pids control and CPU accounting for one run. v2 is used when the
 * server's own cgroup delegates the `memory` and `pids` controllers to children; otherwise v1
 * hierarchies are used per controller when mounted and writable (`cpuacct` only measures). The
 * report names the version used.
 */
import { readFileSync } from "node:fs";
import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A hierarchy the server is in: its key in `/proc/self/cgroup` and its directory there. */
export interface AttachPrime {
  /** `""` for cgroup v2, the controller name (e.g. `memory`) for a v1 hierarchy. */
  key: string;
  /** The server's path in that hierarchy when probed, e.g. `/system.slice/vltair.service`. */
  ownPath: string;
  /** The server's cgroup directory under the mount, e.g. `/sys/fs/cgroup/memory/…`. */
  ownDir: string;
}

/** Whether a hierarchy can host a run's cgroup, and where (the parent directory). */
export interface CgroupProbe {
  available: boolean;
  reason: string;
  parentDir: string | null;
}

/** What the host offers. */
export interface CgroupLayout {
  v2: CgroupProbe;
  v1Memory: CgroupProbe;
  v1Pids: CgroupProbe;
  /** v1 `cpuacct`: measures the CPU time of a run (`cpuacct.usage`), limits nothing. */
  v1Cpuacct: CgroupProbe;
  /** The server's own cgroup in a usable hierarchy (see attach-prime.ts), or null. */
  prime: AttachPrime | null;
}

/** Own cgroup paths parsed from `/proc/self/cgroup`: `""` key for v2, controller names for v1. */
export function parseSelfCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    for (const name of controllers.split(",")) paths.set(name, path);
  }
  return paths;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

let probeCounter = 0;

/** True when a child directory can be created and removed under `dir`. */
async function canCreateChild(dir: string): Promise<string | null> {
  probeCounter += 1;
  const probe = join(dir, `vltair-probe-${process.pid}-${probeCounter}`);
  try {
    await mkdir(probe);
    await rmdir(probe);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "unknown error";
  }
}

const no = (reason: string): CgroupProbe => ({ available: false, reason, parentDir: null });

/**
 * A v2 parent for run cgroups: the server's own cgroup when it enables `memory` and `pids` for
 * its children (only possible for the root cgroup, since a v2 cgroup with processes cannot
 * enable controllers), else its parent, the usual delegation layout (the server in a leaf,
 * runs created beside it, e.g. systemd `Delegate=yes` with the service moved into a leaf).
 */
async function v2Mount(root: string): Promise<string | null> {
  if (await exists(join(root, "cgroup.controllers"))) return root;
  if (await exists(join(root, "unified", "cgroup.controllers"))) return join(root, "unified");
  return null;
}

async function probeV2(root: string, own: Map<string, string>): Promise<CgroupProbe> {
  const ownPath = own.get("");
  if (ownPath === undefined) return no("no cgroup v2 entry in /proc/self/cgroup");
  const mount = await v2Mount(root);
  if (mount === null) return no("no cgroup v2 hierarchy mounted");
  const ownDir = join(mount, ownPath);
  const candidates = ownPath === "/" ? [ownDir] : [ownDir, dirname(ownDir)];
  const refusals: string[] = [];
  for (const dir of candidates) {
    const subtree = await readFile(join(dir, "cgroup.subtree_control"), "utf8").catch(() => "");
    const enabled = new Set(subtree.trim().split(/\s+/));
    if (!enabled.has("memory") || !enabled.has("pids")) {
      refusals.push(
        `${dir} does not delegate memory and pids (subtree_control: "${subtree.trim()}")`,
      );
      continue;
    }
    const failure = await canCreateChild(dir);
    if (failure !== null) {
      refusals.push(`cannot create a child cgroup in ${dir}: ${failure}`);
      continue;
    }
    return { available: true, reason: `delegated cgroup v2 at ${dir}`, parentDir: dir };
  }
  return no(`cgroup v2: ${refusals.join("; ")}`);
}

async function probeV1(
  root: string,
  own: Map<string, string>,
  controller: string,
): Promise<CgroupProbe> {
  const ownPath = own.get(controller);
  if (ownPath === undefined) return no(`no cgroup v1 ${controller} hierarchy in /proc/self/cgroup`);
  const dir = join(root, controller, ownPath);
  if (!(await exists(join(dir, "cgroup.procs"))))
    return no(`cgroup v1 ${controller} not mounted at ${dir}`);
  const failure = await canCreateChild(dir);
  if (failure !== null)
    return no(`cannot create a child cgroup v1 ${controller} in ${dir}: ${failure}`);
  return { available: true, reason: `writable cgroup v1 ${controller} at ${dir}`, parentDir: dir };
}

/** Probes the hierarchies under `root` for a process whose `/proc/self/cgroup` is `selfCgroup`. */
export async function probeCgroups(root: string, selfCgroup: string): Promise<CgroupLayout> {
  const own = parseSelfCgroup(selfCgroup);
  const v2 = await probeV2(root, own);
  const v1Memory = await probeV1(root, own, "memory");
  const v1Pids = await probeV1(root, own, "pids");
  const v1Cpuacct = await probeV1(root, own, "cpuacct");
  let prime: AttachPrime | null = null;
  const v2Path = own.get("");
  const v2Dir = await v2Mount(root);
  if (v2.available && v2Path !== undefined && v2Dir !== null)
    prime = { key: "", ownPath: v2Path, ownDir: join(v2Dir, v2Path) };
  else if (v1Memory.available && v1Memory.parentDir !== null)
    prime = { key: "memory", ownPath: own.get("memory") ?? "", ownDir: v1Memory.parentDir };
  else if (v1Pids.available && v1Pids.parentDir !== null)
    prime = { key: "pids", ownPath: own.get("pids") ?? "", ownDir: v1Pids.parentDir };
  else if (v1Cpuacct.available && v1Cpuacct.parentDir !== null)
    prime = { key: "cpuacct", ownPath: own.get("cpuacct") ?? "", ownDir: v1Cpuacct.parentDir };
  return { v2, v1Memory, v1Pids, v1Cpuacct, prime };
}

/** A run's cgroup directories; `memoryDir`/`pidsDir`/`cpuDir` may be the same directory (v2). */
export interface RunCgroup {
  version: 1 | 2;
  memoryDir: string | null;
  pidsDir: string | null;
  /** Where the run's CPU time is read: v2 `cpu.stat`, v1 `cpuacct.usage`; null = not measured. */
  cpuDir: string | null;
}

function runDirs(cg: RunCgroup): string[] {
  return [...new Set([cg.memoryDir, cg.pidsDir, cg.cpuDir].filter((d): d is string => d !== null))];
}

/** Directories to attach the run's first process to (each `cgroup.procs` once). */
export function procsFiles(cg: RunCgroup): string[] {
  return runDirs(cg).map((d) => join(d, "cgroup.procs"));
}

async function writeIfPresent(file: string, value: string): Promise<void> {
  if (await exists(file)) await writeFile(file, value);
}

/** Where a run's cgroups are created: one parent per controller, null = not used. */
export interface RunCgroupLayout {
  version: 1 | 2;
  memoryParent: string | null;
  pidsParent: string | null;
  /** v1: the `cpuacct` parent; v2: any non-null value measures (every v2 cgroup has `cpu.stat`). */
  cpuParent: string | null;
}

/**
 * Creates a run's cgroup(s) and writes the limits; `null` limit = controller not used. The CPU
 * time is measured whenever `layout.cpuParent` is set.
 */
export async function createRunCgroup(
  layout: RunCgroupLayout,
  name: string,
  limits: { memBytes: number | null; pids: number | null },
): Promise<RunCgroup> {
  const cg: RunCgroup = { version: layout.version, memoryDir: null, pidsDir: null, cpuDir: null };
  const created: string[] = [];
  try {
    if (layout.version === 2) {
      const parent = layout.memoryParent ?? layout.pidsParent ?? layout.cpuParent;
      if (parent === null) return cg;
      const dir = join(parent, name);
      await mkdir(dir);
      created.push(dir);
      if (limits.memBytes !== null) {
        await writeFile(join(dir, "memory.max"), String(limits.memBytes));
        await writeIfPresent(join(dir, "memory.swap.max"), "0");
        cg.memoryDir = dir;
      }
      if (limits.pids !== null) {
        await writeFile(join(dir, "pids.max"), String(limits.pids));
        cg.pidsDir = dir;
      }
      if (layout.cpuParent !== null) cg.cpuDir = dir;
      if (cg.memoryDir === null && cg.pidsDir === null && cg.cpuDir === null) await rmdir(dir);
      return cg;
    }
    if (layout.memoryParent !== null && limits.memBytes !== null) {
      const dir = join(layout.memoryParent, name);
      await mkdir(dir);
      created.push(dir);
      cg.memoryDir = dir;
      await writeFile(join(dir, "memory.limit_in_bytes"), String(limits.memBytes));
      await writeIfPresent(join(dir, "memory.memsw.limit_in_bytes"), String(limits.memBytes));
    }
    if (layout.pidsParent !== null && limits.pids !== null) {
      const dir = join(layout.pidsParent, name);
      await mkdir(dir);
      created.push(dir);
      cg.pidsDir = dir;
      await writeFile(join(dir, "pids.max"), String(limits.pids));
    }
    if (layout.cpuParent !== null) {
      const dir = join(layout.cpuParent, name);
      await mkdir(dir);
      created.push(dir);
      cg.cpuDir = dir;
    }
    return cg;
  } catch (error) {
    for (const dir of created) await rmdir(dir).catch(() => undefined);
    throw error;
  }
}

/**
 * Reads a cgroup file, "" when it cannot be read. Synchronous on purpose, like the `/proc` reads
 * in proc.ts: cgroupfs files are generated in memory, and a thread-pool round trip per read cost
 * more than the read itself on the run's critical path (after the command exits).
 */
function readCgroupFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Pids currently in the run's cgroup(s). */
export async function cgroupMembers(cg: RunCgroup): Promise<number[]> {
  const pids = new Set<number>();
  for (const file of procsFiles(cg)) {
    const text = readCgroupFile(file);
    for (const line of text.split("\n")) if (line.trim() !== "") pids.add(Number(line));
  }
  return [...pids].sort((a, b) => a - b);
}

function counter(text: string, key: string): number {
  const match = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}

/** True when the kernel OOM-killed a process of the run because of its memory limit. */
export async function cgroupOomKilled(cg: RunCgroup): Promise<boolean> {
  if (cg.memoryDir === null) return false;
  if (cg.version === 2)
    return counter(readCgroupFile(join(cg.memoryDir, "memory.events")), "oom_kill") > 0;
  return counter(readCgroupFile(join(cg.memoryDir, "memory.oom_control")), "oom_kill") > 0;
}

/** Peak memory of the run in bytes, or null when the kernel does not report one. */
export async function cgroupPeakBytes(cg: RunCgroup): Promise<number | null> {
  if (cg.memoryDir === null) return null;
  const file = cg.version === 2 ? "memory.peak" : "memory.max_usage_in_bytes";
  const text = readCgroupFile(join(cg.memoryDir, file)).trim();
  const value = Number(text);
  return text !== "" && Number.isFinite(value) ? value : null;
}

/**
 * CPU time (user + system) of every process that was in the run's cgroup, in integer ms, or
 * null when not measured: v2 `cpu.stat` `usage_usec`, v1 `cpuacct.usage` (ns). Read once no
 * process of the run is alive, so it is the final figure.
 */
export async function cgroupCpuMs(cg: RunCgroup): Promise<number | null> {
  if (cg.cpuDir === null) return null;
  if (cg.version === 2) {
    const match = /^usage_usec (\d+)$/m.exec(readCgroupFile(join(cg.cpuDir, "cpu.stat")));
    return match ? Math.round(Number(match[1]) / 1000) : null;
  }
  const text = readCgroupFile(join(cg.cpuDir, "cpuacct.usage")).trim();
  return /^\d+$/.test(text) ? Math.round(Number(text) / 1e6) : null;
}

/** Removes the run's cgroup directories (they must be empty); true when all are gone. */
export async function removeRunCgroup(cg: RunCgroup): Promise<boolean> {
  let ok = true;
  for (const dir of runDirs(cg)) {
    try {
      await rmdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") ok = false;
    }
  }
  return ok;
}
