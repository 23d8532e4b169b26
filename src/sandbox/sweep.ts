/**
 * `sweepLeftovers`: called once at server start, removes the run temp dirs and empty run
 * cgroups a crashed server left behind, without touching the runs of a live server (another
 * server may share the temp root and the cgroup parent).
 *
 * A leftover is removed when its name (`vltair-<traceId>-<owner>-<n>`, see owner.ts) names a
 * server process that is gone (pid absent, or reused by a process with another start time).
 * Names that cannot be attributed from here (older `vltair-<traceId>-<n>` names, an owner in
 * another pid namespace, cgroup probes) are removed only when older than `staleAfterMs`, which
 * is longer than any run can last. A cgroup is removed only when it and its descendants hold no
 * process (the kernel refuses `rmdir` otherwise anyway), and a temp dir whose run cgroup still
 * holds processes (a command that outlived its crashed server) is kept.
 */
import { lstat, readdir, readFile, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { VltairError } from "../core/mod.ts";
import { parseSelfCgroup } from "./linux/mod.ts";
import { SANDBOX_LIMITS, type SandboxLogger } from "./options.ts";
import { type OwnerState, ownerState, parseOwner, type RunOwner, selfOwner } from "./owner.ts";
import { removeRunTempDir } from "./temp-dir.ts";

/** The longest a run can hold its resources: maximal wall limit, kill grace and reap wait. */
export const RUN_LIFETIME_MAX_MS =
  SANDBOX_LIMITS.specs.wallMsMax.max +
  SANDBOX_LIMITS.specs.killGraceMs.max +
  SANDBOX_LIMITS.specs.reapTimeoutMs.max;
/** Default age past which an unattributable leftover is removed: twice the longest run. */
export const STALE_AFTER_MS_DEFAULT = 2 * RUN_LIFETIME_MAX_MS;
/** Most entries of one directory examined; bounds the work of a sweep. */
const SWEEP_ENTRIES_MAX = 100_000;
/** Deepest cgroup subtree removed under one run cgroup. */
const CGROUP_DEPTH_MAX = 16;

/** Options of {@link sweepLeftovers}. */
export interface SweepOptions {
  /** The sandbox temp root (`SandboxOptions.tempRoot`); missing is fine. */
  tempRoot: string;
  /** Root of the cgroup mounts; `/sys/fs/cgroup` by default. */
  cgroupRoot?: string;
  logger?: SandboxLogger;
  /**
   * Age (by mtime) past which a leftover whose owner cannot be checked is removed; at least
   * {@link RUN_LIFETIME_MAX_MS}, default {@link STALE_AFTER_MS_DEFAULT} (2 h 3 min).
   */
  staleAfterMs?: number;
  /** Text of `/proc/self/cgroup` (for tests); read from the kernel by default. */
  selfCgroup?: string;
}

/** What a sweep removed. */
export interface SweepResult {
  tempDirs: number;
  cgroups: number;
}

/** A parsed leftover name. */
export type LeftoverName =
  | { kind: "run"; owner: RunOwner }
  | { kind: "unattributed" }
  | { kind: "foreign" };

const RUN_NAME = /^vltair-[0-9a-f]{1,32}-([0-9a-z.]{1,40})-[1-9][0-9]{0,15}$/;
const LEGACY_RUN_NAME = /^vltair-[0-9a-f]{1,32}-[1-9][0-9]{0,15}$/;
const PROBE_NAME = /^vltair-probe-[0-9]{1,10}-[0-9]{1,16}$/;

/** Classifies a directory name: a run of a known owner, a vltair name without one, or not ours. */
export function parseLeftoverName(name: string): LeftoverName {
  const run = RUN_NAME.exec(name);
  if (run !== null) {
    const owner = parseOwner(run[1] as string);
    return owner === null ? { kind: "unattributed" } : { kind: "run", owner };
  }
  if (LEGACY_RUN_NAME.test(name) || PROBE_NAME.test(name)) return { kind: "unattributed" };
  return { kind: "foreign" };
}

interface Judge {
  me: RunOwner;
  staleAfterMs: number;
  nowMs: number;
  cache: Map<string, OwnerState>;
}

/** Whether the leftover `name` (last modified at `mtimeMs`) may be removed. */
async function removable(judge: Judge, name: string, mtimeMs: number): Promise<boolean> {
  const parsed = parseLeftoverName(name);
  if (parsed.kind === "foreign") return false;
  if (parsed.kind === "run") {
    const key = `${parsed.owner.pid}.${parsed.owner.startTicks}.${parsed.owner.pidNs}`;
    let state = judge.cache.get(key);
    if (state === undefined) {
      state = await ownerState(parsed.owner, judge.me);
      judge.cache.set(key, state);
    }
    if (state === "alive") return false;
    if (state === "dead") return true;
  }
  return judge.nowMs - mtimeMs > judge.staleAfterMs;
}

/** Parent directories where this server's runs get their cgroups (see cgroup.ts). */
export async function cgroupParents(root: string, selfCgroup: string): Promise<string[]> {
  const own = parseSelfCgroup(selfCgroup);
  const parents = new Set<string>();
  const v2 = own.get("");
  if (v2 !== undefined) {
    for (const mount of [root, join(root, "unified")]) {
      const isV2 = await lstat(join(mount, "cgroup.controllers")).then(
        () => true,
        () => false,
      );
      if (!isV2) continue;
      const ownDir = join(mount, v2);
      parents.add(ownDir);
      if (v2 !== "/") parents.add(dirname(ownDir));
      break;
    }
  }
  for (const controller of ["memory", "pids", "cpuacct"]) {
    const path = own.get(controller);
    if (path !== undefined) parents.add(join(root, controller, path));
  }
  return [...parents];
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .slice(0, SWEEP_ENTRIES_MAX)
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}

async function procsCount(dir: string): Promise<number> {
  const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  return text.split("\n").filter((line) => line.trim() !== "").length;
}

/** Processes in `dir` and its descendants (bounded depth). */
async function treeProcs(dir: string, depth: number): Promise<number> {
  let count = await procsCount(dir);
  if (depth >= CGROUP_DEPTH_MAX) return count + 1;
  for (const child of await subdirs(dir)) count += await treeProcs(join(dir, child), depth + 1);
  return count;
}

/** Removes an empty cgroup subtree bottom-up; throws the first refusal. */
async function removeTree(dir: string, depth: number): Promise<void> {
  if (depth < CGROUP_DEPTH_MAX) {
    for (const child of await subdirs(dir)) await removeTree(join(dir, child), depth + 1);
  }
  await rmdir(dir);
}

interface CgroupSweep {
  removed: number;
  /** Names of run cgroups that still hold processes. */
  busy: Set<string>;
}

async function sweepCgroups(judge: Judge, parents: string[], log: SandboxLogger) {
  const out: CgroupSweep = { removed: 0, busy: new Set() };
  for (const parent of parents) {
    for (const name of await subdirs(parent)) {
      if (parseLeftoverName(name).kind === "foreign") continue;
      const dir = join(parent, name);
      const procs = await treeProcs(dir, 0);
      if (procs > 0) {
        out.busy.add(name);
        continue;
      }
      const info = await lstat(dir).catch(() => null);
      if (info === null || !(await removable(judge, name, info.mtimeMs))) continue;
      try {
        await removeTree(dir, 0);
        out.removed += 1;
        log("info", "sandbox.sweep.cgroup_removed", { path: dir });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "error";
        log("warn", "sandbox.sweep.cgroup_remove_failed", { path: dir, code });
      }
    }
  }
  return out;
}

async function sweepTempDirs(
  judge: Judge,
  tempRoot: string,
  busy: ReadonlySet<string>,
  log: SandboxLogger,
): Promise<number> {
  const uid = typeof process.getuid === "function" ? process.getuid() : null;
  let removed = 0;
  for (const name of await subdirs(tempRoot)) {
    if (parseLeftoverName(name).kind === "foreign") continue;
    const root = join(tempRoot, name);
    const info = await lstat(root).catch(() => null);
    // Never follow a symlink; leave other users' directories (a shared /tmp) alone.
    if (info === null || !info.isDirectory() || (uid !== null && info.uid !== uid)) continue;
    if (!(await removable(judge, name, info.mtimeMs))) continue;
    if (busy.has(name)) {
      log("warn", "sandbox.sweep.run_still_running", { path: root });
      continue;
    }
    const gone = await removeRunTempDir({ root, home: join(root, "home"), tmp: join(root, "tmp") });
    if (gone) {
      removed += 1;
      log("info", "sandbox.sweep.tempdir_removed", { path: root });
    } else log("warn", "sandbox.sweep.tempdir_remove_failed", { path: root });
  }
  return removed;
}

/**
 * Removes leftovers of crashed servers: run temp dirs under `tempRoot` and empty run cgroups
 * beside this server's. Never throws for what it finds (failures are logged); throws
 * `config_invalid` for a `staleAfterMs` below {@link RUN_LIFETIME_MAX_MS}.
 *
 * @example
 * ```ts
 * const swept = await sweepLeftovers({ tempRoot: "/var/tmp/vltair", logger });
 * swept.tempDirs; // 2
 * ```
 */
export async function sweepLeftovers(options: SweepOptions): Promise<SweepResult> {
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS_DEFAULT;
  if (!Number.isInteger(staleAfterMs) || staleAfterMs < RUN_LIFETIME_MAX_MS) {
    throw new VltairError("config_invalid", "staleAfterMs shorter than the longest run", {
      details: { field: "sandbox.stale_after_ms", min: RUN_LIFETIME_MAX_MS, value: staleAfterMs },
    });
  }
  const sink = options.logger;
  const log: SandboxLogger = (level, event, fields) => {
    try {
      sink?.(level, event, fields);
    } catch {
      // A failing log sink must not stop the sweep.
    }
  };
  const judge: Judge = { me: await selfOwner(), staleAfterMs, nowMs: Date.now(), cache: new Map() };
  let cgroups: CgroupSweep = { removed: 0, busy: new Set() };
  if (process.platform === "linux" || options.selfCgroup !== undefined) {
    const selfCgroup =
      options.selfCgroup ?? (await readFile("/proc/self/cgroup", "utf8").catch(() => ""));
    const parents = await cgroupParents(options.cgroupRoot ?? "/sys/fs/cgroup", selfCgroup);
    cgroups = await sweepCgroups(judge, parents, log);
  }
  for (const name of cgroups.busy) {
    const parsed = parseLeftoverName(name);
    if (parsed.kind === "run" && (await removable(judge, name, judge.nowMs))) {
      log("warn", "sandbox.sweep.cgroup_busy", { run: name });
    }
  }
  const tempDirs = await sweepTempDirs(judge, options.tempRoot, cgroups.busy, log);
  log("info", "sandbox.sweep.done", { temp_dirs: tempDirs, cgroups: cgroups.removed });
  return { tempDirs, cgroups: cgroups.removed };
}
