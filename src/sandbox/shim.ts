/**
 * The contract between the runner and a per-OS shim: the shim turns a validated request into a
 * launch plan (argv, honest `enforced` report) and a tracker that knows every process of the run.
 */
import type { SandboxCapabilities } from "./capabilities.ts";
import type { HiddenPath } from "./hidden-paths.ts";
import type { SandboxLimitConfig } from "./options.ts";
import type { EnforcedReport } from "./schema.ts";
import type { RunTempDir } from "./temp-dir.ts";
import type { ResolvedRequest } from "./validate.ts";

/** What a shim needs to plan one run. */
export interface ShimInput {
  req: ResolvedRequest;
  /** Real path of the run's working directory (inside the workspace). */
  cwd: string;
  /** Real path of the workspace root. */
  workspaceRoot: string;
  temp: RunTempDir;
  /** `vltair-<traceId>-<n>`, also the name of the run's cgroup. */
  runName: string;
  caps: SandboxCapabilities;
  limits: SandboxLimitConfig;
  /** Server paths to mask from the run, resolved at its start. */
  hidden: readonly HiddenPath[];
  /** Where the server's proxy listens, for a run with a network allowlist (Linux only). */
  proxySocket?: string | null;
}

/** Signals the runner sends. */
export type KillSignal = "SIGTERM" | "SIGKILL";

/** Knows, and can signal, every process of one run. */
export interface RunTracker {
  /** Called once the innermost stage reported ready (or at spawn when there is no marker). */
  started(leaderPid: number): Promise<void>;
  /** Pids of the run's live processes (zombies excluded), verified against the OS. */
  members(): Promise<number[]>;
  /**
   * Sends `signal` to every live process of the run. With `spareWrappers` the leader is spared
   * when it is only a wrapper (bwrap, unshare), so that the command sees a plain SIGTERM
   * rather than the SIGKILL its wrapper's death would cause, and so is the run's init (it would
   * forward a second SIGTERM to the command).
   */
  signalAll(signal: KillSignal, spareWrappers: boolean): Promise<void>;
  /** True when the kernel reported that the run hit its memory limit (cgroup OOM kill). */
  memoryLimitHit(): Promise<boolean>;
  maxRssBytes(): Promise<number | null>;
  /**
   * User + system CPU time of every process of the run in integer ms, read after none is
   * alive; null when this host cannot measure it (never an estimate).
   */
  cpuMs(): Promise<number | null>;
  /** Releases OS resources (cgroups) after no process of the run is alive; false if it could not. */
  dispose(): Promise<boolean>;
}

/** How to launch one run. */
export interface LaunchPlan {
  /** `argv[0]` is the executable. */
  argv: readonly string[];
  /** Start the run in its own session and process group (POSIX `setsid`). */
  detached: boolean;
  /**
   * The innermost stage writes `R` to fd 3 right before exec-ing the command; a run's init
   * (init-script.ts) writes `X<wait status>\n` there when the command has ended.
   */
  readyMarker: boolean;
  enforced: EnforcedReport;
  tracker: RunTracker;
  /**
   * The leader is a wrapper (bubblewrap, unshare + init) that passes a signal death of the
   * command on as exit 128 + n, as bash does: such an exit is reported as that signal unless
   * the init reported the exact status.
   */
  wrapperExitStatus: boolean;
  /** Which mechanisms the plan uses, for logs. */
  mechanisms: readonly string[];
}

/** A per-OS shim. */
export interface SandboxShim {
  readonly name: string;
  prepare(input: ShimInput): Promise<LaunchPlan>;
  /** The report `prepare` would give for `input`, creating nothing (capabilities report). */
  describe(input: ShimInput): Promise<EnforcedReport>;
}

/** `describe` of a shim whose `prepare` creates nothing. */
export function describeByPreparing(this: SandboxShim, input: ShimInput): Promise<EnforcedReport> {
  return this.prepare(input).then((plan) => plan.enforced);
}
