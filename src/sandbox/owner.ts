/**
 * The owner of a run's temp dir and cgroup: the server process that created them, written into
 * their name (`vltair-<traceId>-<owner>-<n>`) so that a server starting after a crash can tell
 * a dead server's leftovers from a live server's runs. On Linux the owner is pid, start time
 * (clock ticks since boot, against pid reuse) and pid namespace inode (a pid means nothing in
 * another namespace); elsewhere the pid alone. A name, unlike a file inside the directory,
 * cannot be rewritten by the run.
 */
import { readFile, readlink } from "node:fs/promises";

/** Who created a run's resources. */
export interface RunOwner {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), else null. */
  startTicks: number | null;
  /** Inode of the process's pid namespace (Linux), else null. */
  pidNs: number | null;
}

/** Whether the owner of a leftover is running: `unknown` when this process cannot tell. */
export type OwnerState = "alive" | "dead" | "unknown";

const TOKEN = /^([0-9a-z]{1,7})(?:\.([0-9a-z]{1,10})\.([0-9a-z]{1,10}))?$/;

/** The owner as a name component: `pid` or `pid.start.ns`, each base 36. */
export function formatOwner(owner: RunOwner): string {
  const pid = owner.pid.toString(36);
  if (owner.startTicks === null || owner.pidNs === null) return pid;
  return `${pid}.${owner.startTicks.toString(36)}.${owner.pidNs.toString(36)}`;
}

/** Parses {@link formatOwner}'s output; null when it is not one. */
export function parseOwner(token: string): RunOwner | null {
  const match = TOKEN.exec(token);
  if (match === null) return null;
  const pid = Number.parseInt(match[1] as string, 36);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  if (match[2] === undefined) return { pid, startTicks: null, pidNs: null };
  const startTicks = Number.parseInt(match[2], 36);
  const pidNs = Number.parseInt(match[3] as string, 36);
  if (!Number.isSafeInteger(startTicks) || !Number.isSafeInteger(pidNs)) return null;
  return { pid, startTicks, pidNs };
}

/** Field 22 (starttime) of a `/proc/<pid>/stat` line, or null. */
export function parseStartTicks(stat: string): number | null {
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const value = Number(fields[19]);
  return fields.length > 19 && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** The inode of a `pid:[4026531836]` namespace link, or null. */
export function parseNsInode(link: string | null): number | null {
  const match = link === null ? null : /^pid:\[(\d+)\]$/.exec(link);
  return match === null ? null : Number(match[1]);
}

async function startTicksOf(pid: number | "self"): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  return stat === null ? null : parseStartTicks(stat);
}

let self: Promise<RunOwner> | null = null;

/** This server process as an owner (probed once). */
export function selfOwner(): Promise<RunOwner> {
  if (self === null) {
    self = (async () => {
      if (process.platform !== "linux") return { pid: process.pid, startTicks: null, pidNs: null };
      const startTicks = await startTicksOf("self");
      const pidNs = parseNsInode(await readlink("/proc/self/ns/pid").catch(() => null));
      return { pid: process.pid, startTicks, pidNs };
    })();
  }
  return self;
}

function signalZero(pid: number): OwnerState {
  try {
    process.kill(pid, 0);
    return "alive";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH" ? "dead" : "alive";
  }
}

/**
 * Whether `owner` is running, as seen from `me`. Conservative: anything uncertain is `alive`
 * (a pid that exists without a start time to compare) or `unknown` (another pid namespace).
 */
export async function ownerState(owner: RunOwner, me: RunOwner): Promise<OwnerState> {
  if (owner.pidNs !== null || me.pidNs !== null) {
    if (owner.pidNs === null || me.pidNs === null || owner.pidNs !== me.pidNs) return "unknown";
    if (owner.pid === me.pid) return owner.startTicks === me.startTicks ? "alive" : "dead";
    const stat = await readFile(`/proc/${owner.pid}/stat`, "utf8").catch(
      (error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? "" : null),
    );
    if (stat === "") return "dead";
    if (stat === null) return "alive";
    const start = parseStartTicks(stat);
    return start === null || start === owner.startTicks ? "alive" : "dead";
  }
  // No start time (macOS, other Unix): our own pid is ourselves, as far as we can tell.
  if (owner.pid === me.pid) return "alive";
  return signalZero(owner.pid);
}
