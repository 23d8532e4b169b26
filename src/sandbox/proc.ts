/**
 * Linux `/proc` scanning: which processes belong to a run. A process belongs to it when it
 * descends from the leader, shares the leader's process group, or lives in one of the run's PID
 * namespaces. Zombies are dead (only unreaped) and are not counted as alive.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { assert } from "../core/mod.ts";

/** Most `/proc` entries scanned; `pid_max` on 64-bit Linux is at most 4194304. */
export const PROC_ENTRIES_MAX = 4_194_304;

/** One process as seen in `/proc/<pid>/stat`. */
export interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  /** `pid:[inode]` of the process's PID namespace, or null when unreadable. */
  pidNs: string | null;
}

/** Start time (clock ticks since boot, field 22) from a stat line, to tell a reused pid apart. */
export function statStartTime(text: string): string | null {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? null;
}

/** True when `pid` is alive (not a zombie) and still the process that started at `startTime`. */
export function isSameLiveProcess(procRoot: string, pid: number, startTime: string): boolean {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  const parsed = parseStat(text);
  if (parsed === null || parsed.state === "Z" || parsed.state === "X") return false;
  return statStartTime(text) === startTime;
}

/** Parses `/proc/<pid>/stat`; returns null when the text is not a stat line. */
export function parseStat(text: string): Omit<ProcEntry, "pidNs"> | null {
  const close = text.lastIndexOf(")");
  const open = text.indexOf("(");
  if (close < 0 || open < 0) return null;
  const pid = Number(text.slice(0, open).trim());
  const fields = text.slice(close + 2).split(" ");
  const state = fields[0] ?? "";
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isInteger(pgid)) return null;
  return { pid, ppid, pgid, state };
}

/**
 * Lists the processes under `procRoot`; vanished ones are skipped. Synchronous reads on
 * purpose: `/proc` files are generated in memory, and one thread-pool round trip per process
 * made a scan of ~100 processes cost 6–20 ms on a loaded 2-core machine instead of ~1 ms.
 */
export function listProcesses(procRoot: string, withNs: boolean): ProcEntry[] {
  const names = readdirSync(procRoot);
  assert(names.length <= PROC_ENTRIES_MAX, "proc entries within pid_max");
  const entries: ProcEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${name}/stat`, "utf8");
    } catch {
      continue; // The process exited between readdir and read: it is not alive.
    }
    const stat = parseStat(text);
    if (stat === null) continue;
    let pidNs: string | null = null;
    if (withNs) pidNs = readlinkOrNull(`${procRoot}/${name}/ns/pid`);
    entries.push({ ...stat, pidNs });
  }
  return entries;
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null; // Gone or not ours to read: no namespace to attribute.
  }
}

/** Which processes of `entries` belong to the run (alive ones only). */
export function runMembers(
  entries: readonly ProcEntry[],
  run: { leaderPid: number; pidNamespaces: ReadonlySet<string>; selfPid: number },
): number[] {
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const list = children.get(e.ppid) ?? [];
    list.push(e.pid);
    children.set(e.ppid, list);
  }
  const members = new Set<number>();
  const queue = [run.leaderPid];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    if (members.has(pid)) continue;
    members.add(pid);
    for (const child of children.get(pid) ?? []) queue.push(child);
    assert(members.size <= entries.length + 1, "descendant walk bounded by the process count");
  }
  for (const e of entries) {
    if (e.pgid === run.leaderPid) members.add(e.pid);
    if (e.pidNs !== null && run.pidNamespaces.has(e.pidNs)) members.add(e.pid);
  }
  const alive = new Set(
    entries.filter((e) => e.state !== "Z" && e.state !== "X").map((e) => e.pid),
  );
  return [...members].filter((pid) => pid !== run.selfPid && alive.has(pid)).sort((a, b) => a - b);
}

/** PID namespaces of the leader's descendants that differ from the server's own. */
export function foreignNamespaces(
  entries: readonly ProcEntry[],
  leaderPid: number,
  ownNs: string | null,
): string[] {
  const members = runMembers(entries, { leaderPid, pidNamespaces: new Set(), selfPid: -1 });
  const byPid = new Map(entries.map((e) => [e.pid, e]));
  const found = new Set<string>();
  for (const pid of members) {
    const ns = byPid.get(pid)?.pidNs ?? null;
    if (ns !== null && ns !== ownNs) found.add(ns);
  }
  return [...found];
}

/** Most processes visited when walking a run's tree through `children` files. */
export const TREE_WALK_MAX = 4096;

/**
 * PID namespaces (other than `ownNs`) of the leader and its descendants, found by walking
 * `/proc/<pid>/task/<pid>/children` (cheap: no full scan). Returns null when the kernel has no
 * `children` files, so the caller can fall back to a full scan.
 */
export function treeNamespaces(
  procRoot: string,
  leaderPid: number,
  ownNs: string | null,
): string[] | null {
  const self = process.pid;
  if (!existsSync(`${procRoot}/${self}/task/${self}/children`)) return null;
  const found = new Set<string>();
  const queue = [leaderPid];
  let visited = 0;
  while (queue.length > 0 && visited < TREE_WALK_MAX) {
    const pid = queue.pop() as number;
    visited += 1;
    let children: string;
    try {
      children = readFileSync(`${procRoot}/${pid}/task/${pid}/children`, "utf8");
    } catch {
      continue; // The process exited meanwhile: nothing below it to find.
    }
    const ns = readlinkOrNull(`${procRoot}/${pid}/ns/pid`);
    if (ns !== null && ns !== ownNs) found.add(ns);
    for (const child of children.trim().split(" ")) if (child !== "") queue.push(Number(child));
  }
  return [...found];
}

/**
 * The leader and its live descendants (pid → start time), walked through `children` files
 * (zombies excluded); null when the kernel has no `children` files.
 */
export function treeMembers(procRoot: string, leaderPid: number): Map<number, string> | null {
  const self = process.pid;
  if (!existsSync(`${procRoot}/${self}/task/${self}/children`)) return null;
  const found = new Map<number, string>();
  const queue = [leaderPid];
  while (queue.length > 0 && found.size < TREE_WALK_MAX) {
    const pid = queue.pop() as number;
    let stat: string;
    let children: string;
    try {
      stat = readFileSync(`${procRoot}/${pid}/stat`, "utf8");
      children = readFileSync(`${procRoot}/${pid}/task/${pid}/children`, "utf8");
    } catch {
      continue; // Exited meanwhile.
    }
    const parsed = parseStat(stat);
    if (parsed !== null && parsed.state !== "Z" && parsed.state !== "X") {
      found.set(pid, statStartTime(stat) ?? "");
    }
    for (const child of children.trim().split(" ")) if (child !== "") queue.push(Number(child));
  }
  return found;
}

/**
 * True for a process that only wraps the command: one in the server's own PID namespace (bwrap,
 * unshare), or the init of a deeper one (NSpid's innermost entry is 1). False for the command
 * and what it starts, and for a process that is gone or unreadable.
 */
export function isWrapperProcess(procRoot: string, pid: number): boolean {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/status`, "utf8");
  } catch {
    return false;
  }
  const line = /^NSpid:\s*(.*)$/m.exec(text)?.[1];
  if (line === undefined) return false;
  const levels = line.trim().split(/\s+/);
  return levels.length === 1 || levels.at(-1) === "1";
}
