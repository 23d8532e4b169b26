/**
 * Tracker of a POSIX run: the leader's process group, its descendants, its PID namespaces
 * (Linux `/proc`) and its cgroup. `ps` is used where there is no `/proc` (macOS).
 */
import { execFile } from "node:child_process";
import { assert } from "../core/mod.ts";
import {
  cgroupMembers,
  cgroupOomKilled,
  cgroupPeakBytes,
  type RunCgroup,
  removeRunCgroup,
} from "./cgroup.ts";
import {
  foreignNamespaces,
  listProcesses,
  type ProcEntry,
  parseStat,
  runMembers,
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

function psList(): Promise<ProcEntry[]> {
  return new Promise((resolve) => {
    execFile(
      "ps",
      ["-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid=", "-o", "stat="],
      { maxBuffer: PS_OUTPUT_BYTES_MAX },
      (error, stdout) => {
        if (error !== null) return resolve([]);
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
function send(pid: number, signal: KillSignal): boolean {
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

  constructor(private readonly options: PosixTrackerOptions) {}

  async started(leaderPid: number): Promise<void> {
    this.leaderPid = leaderPid;
    // With a cgroup the kernel lists every member; namespaces only matter without one.
    if (!this.options.procfs || this.options.cgroup !== null) return;
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
    if (this.options.cgroup !== null) {
      // The first process joined the cgroup before anything else ran, so the kernel's list is
      // complete: every descendant, setsid or not, is in it until it exits.
      return cgroupMembers(this.options.cgroup);
    }
    const found = new Set<number>();
    const entries = this.options.procfs
      ? listProcesses("/proc", this.namespaces.size > 0)
      : await psList();
    const selfPid = process.pid;
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
      send(pid, signal);
    }
    if (!spareLeader) send(-this.leaderPid, signal);
  }

  async memoryLimitHit(): Promise<boolean> {
    return this.options.cgroup === null ? false : cgroupOomKilled(this.options.cgroup);
  }

  async maxRssBytes(): Promise<number | null> {
    return this.options.cgroup === null ? null : cgroupPeakBytes(this.options.cgroup);
  }

  async dispose(): Promise<void> {
    if (this.options.cgroup !== null) await removeRunCgroup(this.options.cgroup);
  }
}
