/**
 * Pure mapping of how a run ended to its API status, `rc` and stable `reason`.
 * `TIMEOUT` ⇒ rc 124; a run that outlived its wall limit is a timeout even when the timer did
 * not fire first (AR-8).
 */
import { constants } from "node:os";
import type { SandboxStatus } from "./schema.ts";

/** Why the runner itself stopped a run. */
export type KillReason = "timeout" | "output_limit" | "cancelled";

/** Everything the status depends on. */
export interface RunOutcome {
  /** The innermost stage reported ready (true when the plan has no marker and spawn worked). */
  ready: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  killReason: KillReason | null;
  durationMs: number;
  wallMs: number;
  /** The kernel OOM-killed a process of the run under its cgroup memory limit. */
  cgroupOomKill: boolean;
  /** Memory was limited by RLIMIT_AS and the command failed with an allocation error. */
  allocationFailure: boolean;
  /** Processes of the run still alive after the reap deadline. */
  survivors: number;
  /** A stream went over its cap (whether or not the run had exited by then). */
  outputExceeded: boolean;
  /** The command itself could not be found (direct spawn without a shell stage: ENOENT). */
  commandNotFound: boolean;
}

/** Status, rc and reason of a run. */
export interface Classified {
  status: SandboxStatus;
  rc: number;
  reason: string | null;
}

/** Signal numbers of this OS, with Linux's common ones when the runtime lacks the table. */
const SIGNAL_NUMBERS: Record<string, number> = {
  ...linuxSignals(),
  ...(constants.signals as Record<string, number>),
};

/** Signal number → name (the first name the OS table gives). */
const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(SIGNAL_NUMBERS)
    .reverse()
    .map(([name, signo]) => [signo, name]),
);

/** The name of signal `signo` (`SIGKILL`), or `SIG<n>` when unknown. */
export function signalName(signo: number): string {
  return SIGNAL_NAMES.get(signo) ?? `SIG${signo}`;
}

function linuxSignals(): Record<string, number> {
  return {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGABRT: 6,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
    SIGXCPU: 24,
    SIGXFSZ: 25,
  };
}
/** rc of a process that died of SIGXCPU behind a wrapper (RLIMIT_CPU). */
const RC_SIGXCPU = 128 + 24;
/** rc of a process that died of SIGXFSZ behind a wrapper (RLIMIT_FSIZE). */
const RC_SIGXFSZ = 128 + 25;

/** Shell-style exit code of a run. */
export function exitRc(exitCode: number | null, exitSignal: string | null): number {
  if (exitCode !== null) return exitCode;
  return 128 + (SIGNAL_NUMBERS[exitSignal ?? ""] ?? 0);
}

/**
 * Classifies a finished run.
 *
 * @example
 * ```ts
 * classify({ ...outcome, killReason: "timeout" }); // { status: "TIMEOUT", rc: 124, reason: "wall_timeout" }
 * ```
 */
export function classify(o: RunOutcome): Classified {
  const rc = exitRc(o.exitCode, o.exitSignal);
  if (o.survivors > 0) return { status: "INTERNAL_ERROR", rc: 1, reason: "survivors_after_kill" };
  if (o.cgroupOomKill) return { status: "MEM_LIMIT", rc, reason: "memory_limit:cgroup_oom_kill" };
  if (o.killReason === "timeout" || o.durationMs >= o.wallMs) {
    return { status: "TIMEOUT", rc: 124, reason: "wall_timeout" };
  }
  if (o.commandNotFound) return { status: "FAILED", rc: 127, reason: "command_not_found" };
  if (!o.ready) return { status: "INTERNAL_ERROR", rc: 1, reason: "sandbox_setup_failed" };
  if (o.killReason === "output_limit")
    return { status: "OUTPUT_LIMIT", rc, reason: "output_limit" };
  if (o.killReason === "cancelled") return { status: "KILLED", rc, reason: "cancelled" };
  if (o.allocationFailure) return { status: "MEM_LIMIT", rc, reason: "memory_limit:rlimit_as" };
  if (rc === RC_SIGXCPU || o.exitSignal === "SIGXCPU")
    return { status: "KILLED", rc, reason: "cpu_limit" };
  if (rc === RC_SIGXFSZ || o.exitSignal === "SIGXFSZ")
    return { status: "KILLED", rc, reason: "file_size_limit" };
  if (o.exitSignal !== null) return { status: "KILLED", rc, reason: `signal:${o.exitSignal}` };
  return rc === 0 ? { status: "OK", rc, reason: null } : { status: "FAILED", rc, reason: null };
}

/** Messages that mean an allocation failed, printed by common runtimes under RLIMIT_AS. */
const ALLOCATION_FAILURE =
  /MemoryError|Cannot allocate memory|Out of memory!|std::bad_alloc|out of memory/;

/** True when a failed run's stderr shows an allocation failure. */
export function looksLikeAllocationFailure(rc: number, stderr: string): boolean {
  return rc !== 0 && ALLOCATION_FAILURE.test(stderr);
}
