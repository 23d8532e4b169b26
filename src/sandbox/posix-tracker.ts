/**
 * Tracker of a POSIX run: the leader's process group, its descendants, its PID namespaces
 * (Linux `/proc`) and its cgroup. `ps` is used where there is no `/proc` (macOS).
 */
import { execFile } from "node:child_process";
import { assert } from "../core/mod.ts";
import {
  cgroupCpuMs,
  cgroupMembers,
  cgroupOomKilled,
  cgroupPeakBytes,
  type RunCgroup,
  removeRunCgroup,
} from "./linux/cgroup.ts";
import {
  foreignNamespaces,
  isSameLiveProcess,
  isWrapperProcess,
  listProcesses,
  type ProcEntry,
  parseStat,
  runMembers,
  treeMembers,
  treeNamespaces,
} from "./proc.ts";
import type { KillSignal, RunTracker } from "./shim.ts";

/** Most bytes of `ps` output read; a few hundred thousand processes at ~40 bytes each. */
const PS_OUTPUT_BYTES_MAX = 16 * 1024 * 1024;

/** Options of {@link PosixTracker}. */
export interface PosixTrackerOptions {
  /** Read `/proc` (Linux); otherwise `ps`. */
  procfs: boolean;
  cgroup: RunCgroup | null;
  /** The server's own PID namespace, or null when none/unknown. */
  ownPidNamespace: string | null;
  /** The leader is a wrapper (bwrap/unshare) whose death kills the command. */
  leaderIsWrapper: boolean;
}

/** The process table through `ps`, or null when `ps` could not be run. */
function psList(): Promise<ProcEntry[] | null> {
  return new Promise((resolve) => {
    execFile(
      "ps",
      ["-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid=", "-o", "stat="],
      { maxBuffer: PS_OUTPUT_BYTES_MAX },
      (error, stdout) => {
        if (error !== null) return resolve(null);
        const entries: ProcEntry[] = [];
        for (const line of String(stdout).split("\n")) {
          const [pid, ppid, pgid, stat] = line.trim().split(/\s+/);
          const parsed = parseStat(`${pid} (ps) ${(stat ?? "?")[0]} ${ppid} ${pgid}`);
          if (parsed !== null) entries.push({ ...parsed, pidNs: null });
        }
        resolve(entries);
      },
    );
  });
}

/** Sends a signal; false when the target is already gone (ESRCH) or not ours (EPERM). */
function send(pid: number, signal: KillSignal | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    // Whether the process is really gone is verified by the next `members()` scan, not here.
    return false;
  }
}

/** Tracks one POSIX run. */
export class PosixTracker implements RunTracker {
  private leaderPid = -1;
  private readonly namespaces = new Set<string>();
  /** Wrapper processes outside the cgroup (pid → start time), seen when the command started. */
  private readonly wrappers = new Map<number, string>();
  /**
   * Processes the TERM phase spares (pid → start time): the wrappers and the run's init, so that
   * the command gets exactly one SIGTERM (the init would forward a second one).
   */
  private readonly spared = new Map<number, string>();

  constructor(private readonly options: PosixTrackerOptions) {}

  async started(leaderPid: number): Promise<void> {
    // A pid of 0, 1 or -1 would turn "signal the run" into "signal everything": never.
    assert(Number.isInteger(leaderPid) && leaderPid > 1, "leader pid is a real process");
    this.leaderPid = leaderPid;
    if (!this.options.procfs) return;
    if (this.options.leaderIsWrapper) {
      for (const [pid, start] of treeMembers("/proc", leaderPid) ?? []) {
        if (pid === leaderPid || isWrapperProcess("/proc", pid)) this.spared.set(pid, start);
      }
    }
    if (this.options.cgroup !== null) {
      // The kernel lists every process of the command; remember the wrappers around it, which
      // may be reparented away from the leader (bwrap's reaper outlives it for a moment).
      if (this.options.leaderIsWrapper) {
        for (const [pid, start] of treeMembers("/proc", leaderPid) ?? [])
          this.wrappers.set(pid, start);
      }
      return;
    }
    const own = this.options.ownPidNamespace;
    let namespaces = treeNamespaces("/proc", leaderPid, own);
    namespaces ??= foreignNamespaces(listProcesses("/proc", true), leaderPid, own);
    for (const ns of namespaces) this.namespaces.add(ns);
  }

  /** The run's PID namespaces seen so far (for tests and logs). */
  get pidNamespaces(): readonly string[] {
    return [...this.namespaces];
  }

  async members(): Promise<number[]> {
    assert(this.leaderPid > 0, "members asked after start");
    const selfPid = process.pid;
    if (this.options.cgroup !== null) {
      // The command joined the cgroup before it ran, so the kernel's list holds every process
      // it started, setsid or not. Only the wrappers (bwrap, unshare, bwrap's PID-1 reaper)
      // are outside it: they are the leader's tree.
      const found = new Set(await cgroupMembers(this.options.cgroup));
      if (this.options.leaderIsWrapper) {
        const tree = treeMembers("/proc", this.leaderPid);
        const now =
          tree === null
            ? runMembers(listProcesses("/proc", false), {
                leaderPid: this.leaderPid,
                pidNamespaces: new Set(),
                selfPid,
              })
            : [...tree.keys()];
        for (const pid of now) found.add(pid);
        for (const [pid, start] of this.wrappers) {
          if (isSameLiveProcess("/proc", pid, start)) found.add(pid);
        }
      }
      found.delete(selfPid);
      return [...found].sort((a, b) => a - b);
    }
    const found = new Set<number>();
    const entries = this.options.procfs
      ? listProcesses("/proc", this.namespaces.size > 0)
      : await psList();
    if (entries === null) {
      // No process table: signal 0 to the group still tells whether any member is alive.
      return send(-this.leaderPid, 0) || send(this.leaderPid, 0) ? [this.leaderPid] : [];
    }
    for (const pid of runMembers(entries, {
      leaderPid: this.leaderPid,
      pidNamespaces: this.namespaces,
      selfPid,
    })) {
      found.add(pid);
    }
    return [...found].sort((a, b) => a - b);
  }

  async signalAll(signal: KillSignal, spareWrappers: boolean): Promise<void> {
    const spareLeader = spareWrappers && this.options.leaderIsWrapper;
    for (const pid of await this.members()) {
      if (spareLeader && pid === this.leaderPid) continue;
      const start = spareWrappers ? this.spared.get(pid) : undefined;
      if (start !== undefined && isSameLiveProcess("/proc", pid, start)) continue;
      send(pid, signal);
    }
    assert(this.leaderPid > 1, "process group id is a real process");
    if (!spareLeader) send(-this.leaderPid, signal);
  }

  async memoryLimitHit(): Promise<boolean> {
    return this.options.cgroup === null ? false : cgroupOomKilled(this.options.cgroup);
  }

  async maxRssBytes(): Promise<number | null> {
    return this.options.cgroup === null ? null : cgroupPeakBytes(this.options.cgroup);
  }

  /**
   * CPU time of the run from its cgroup; null without one (the runtime reports no rusage of a
   * child, so there is no other source covering every process).
   */
  async cpuMs(): Promise<number | null> {
    return this.options.cgroup === null ? null : cgroupCpuMs(this.options.cgroup);
  }

  async dispose(): Promise<boolean> {
    return this.options.cgroup === null ? true : removeRunCgroup(this.options.cgroup);
  }
}
