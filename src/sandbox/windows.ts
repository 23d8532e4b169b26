/**
 * Windows shim: the command runs directly; on timeout or limit the whole tree is killed with
 * `taskkill /T /F` (Windows has no SIGTERM: terminate and kill are the same there, AR-3).
 * Memory, pids, network and filesystem would need a Job Object or AppContainer, which the JS
 * runtimes do not expose: they are reported as not applied, never pretended.
 */
import { execFile } from "node:child_process";
import { assert } from "../core/mod.ts";
import { networkEntryWithout, notApplied, notRequested, timeoutEntry } from "./enforced.ts";
import { hiddenNotApplied } from "./hidden-paths.ts";
import type { EnforcedReport } from "./schema.ts";
import {
  describeByPreparing,
  type KillSignal,
  type LaunchPlan,
  type RunTracker,
  type SandboxShim,
  type ShimInput,
} from "./shim.ts";

/** Deadline of one `taskkill` call. */
const TASKKILL_TIMEOUT_MS = 10_000;
const NO_JOB = "needs a Job Object, which the JS runtime cannot create";

/** The honest report of a Windows run. */
export function windowsReport(input: ShimInput, taskkillAvailable: boolean): EnforcedReport {
  const { req, limits } = input;
  return {
    timeout: timeoutEntry(
      req.wallMs,
      limits.killGraceMs,
      taskkillAvailable ? "taskkill_tree" : "process_kill",
    ),
    memory: notApplied(req.memBytes, NO_JOB),
    pids: notApplied(req.pids, NO_JOB),
    network: networkEntryWithout(req, notApplied("deny", "needs an AppContainer or firewall rule")),
    filesystem: notApplied("workspace_rw", "needs an AppContainer or a restricted token"),
    cpu: req.cpuMs === null ? notRequested() : notApplied(req.cpuMs, NO_JOB),
    file_size: notApplied(limits.fileSizeBytes, "Windows has no per-process file size limit"),
    open_files: notApplied(
      limits.openFiles,
      "Windows has no per-process handle limit reachable from JS",
    ),
    process_tree: taskkillAvailable
      ? notApplied(
          "no_survivors",
          "taskkill /T follows parent links: a child whose parent already exited escapes",
        )
      : notApplied("no_survivors", "taskkill not found: only the direct child is killed"),
    hidden_paths: hiddenNotApplied(input.hidden, "needs an AppContainer or a restricted token"),
  };
}

/** The `taskkill` argv that kills a process tree by force. */
export function taskkillArgs(pid: number): string[] {
  return ["/T", "/F", "/PID", String(pid)];
}

class WindowsTracker implements RunTracker {
  private leaderPid = -1;
  constructor(private readonly taskkill: string | null) {}

  async started(leaderPid: number): Promise<void> {
    assert(Number.isInteger(leaderPid) && leaderPid > 0, "leader pid is a real process");
    this.leaderPid = leaderPid;
  }

  async members(): Promise<number[]> {
    if (this.leaderPid <= 0) return [];
    try {
      process.kill(this.leaderPid, 0);
      return [this.leaderPid];
    } catch {
      return [];
    }
  }

  signalAll(_signal: KillSignal, _spareWrappers: boolean): Promise<void> {
    const taskkill = this.taskkill;
    if (this.leaderPid <= 0) return Promise.resolve();
    if (taskkill === null) {
      try {
        process.kill(this.leaderPid, "SIGKILL");
      } catch {
        // Already gone; `members()` is what verifies it.
      }
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      execFile(
        taskkill,
        taskkillArgs(this.leaderPid),
        { timeout: TASKKILL_TIMEOUT_MS, windowsHide: true },
        () => resolve(),
      );
    });
  }

  async memoryLimitHit(): Promise<boolean> {
    return false;
  }

  async maxRssBytes(): Promise<number | null> {
    return null;
  }

  /** No source: node:child_process reports no CPU time of a child (it would need a Job Object). */
  async cpuMs(): Promise<number | null> {
    return null;
  }

  async dispose(): Promise<boolean> {
    return true;
  }
}

/** The Windows shim. */
export const windowsShim: SandboxShim = {
  name: "windows",
  describe: describeByPreparing,
  async prepare(input: ShimInput): Promise<LaunchPlan> {
    const taskkill = input.caps.taskkill.available ? input.caps.taskkill.path : null;
    return {
      argv: [...input.req.cmd],
      detached: false,
      readyMarker: false,
      enforced: windowsReport(input, taskkill !== null),
      tracker: new WindowsTracker(taskkill),
      wrapperExitStatus: false,
      mechanisms: taskkill === null ? ["process_kill"] : ["taskkill_tree"],
    };
  },
};
