/**
 * Portable POSIX fallback (any Unix without the Linux or macOS mechanisms): own process group,
 * wall timeout with group kill, rlimits through the shell's `ulimit`; memory, pids, network and
 * filesystem are reported as not applied.
 */
import {
  applied,
  networkEntryWithout,
  notApplied,
  notRequested,
  timeoutEntry,
} from "./enforced.ts";
import { hiddenNotApplied } from "./hidden-paths.ts";
import { PosixTracker } from "./posix-tracker.ts";
import type { EnforcedReport } from "./schema.ts";
import { describeByPreparing, type LaunchPlan, type SandboxShim, type ShimInput } from "./shim.ts";
import { ulimitReadyScript } from "./ulimit-script.ts";

/** The report of a shell-only POSIX run; `platform` names the OS in the reasons. */
export function shellOnlyReport(input: ShimInput, platform: string): EnforcedReport {
  const { req, limits } = input;
  const none = `no mechanism on ${platform}`;
  return {
    timeout: timeoutEntry(req.wallMs, limits.killGraceMs, "group_kill"),
    memory: notApplied(req.memBytes, `${none}: RLIMIT_AS is not enforced and there are no cgroups`),
    pids: notApplied(
      req.pids,
      `${none}: RLIMIT_NPROC counts every process of the user, not the run`,
    ),
    network: networkEntryWithout(req, notApplied("deny", none)),
    filesystem: notApplied("workspace_rw", none),
    cpu:
      req.cpuMs === null
        ? notRequested()
        : applied(
            req.cpuMs,
            "rlimit_cpu",
            `per process, rounded up to ${Math.ceil(req.cpuMs / 1000)} s`,
          ),
    file_size: applied(
      limits.fileSizeBytes,
      "rlimit_fsize",
      "ulimit -f, rounded up to 512-byte blocks",
    ),
    open_files: applied(limits.openFiles, "rlimit_nofile", "ulimit -n, per process"),
    process_tree: notApplied(
      "no_survivors",
      "only the process group: a setsid child whose parent exits could escape",
    ),
    hidden_paths: hiddenNotApplied(input.hidden, none),
  };
}

/** The shell stage (`sh -c 'ulimit …; ready; exec "$@"'`) followed by the command. */
export function shellStage(input: ShimInput, sh: string): string[] {
  const script = ulimitReadyScript({
    cpuSeconds: input.req.cpuMs === null ? null : Math.ceil(input.req.cpuMs / 1000),
    fileSizeBytes: input.limits.fileSizeBytes,
    openFiles: input.limits.openFiles,
  });
  return [sh, "-c", script, "vltair-exec", ...input.req.cmd];
}

/** The portable POSIX shim. */
export const portableShim: SandboxShim = {
  name: "portable",
  describe: describeByPreparing,
  async prepare(input: ShimInput): Promise<LaunchPlan> {
    const tracker = new PosixTracker({
      procfs: false,
      cgroup: null,
      ownPidNamespace: null,
      leaderIsWrapper: false,
    });
    return {
      argv: shellStage(input, input.caps.sh.path ?? "/bin/sh"),
      detached: true,
      readyMarker: true,
      enforced: shellOnlyReport(input, input.caps.platform),
      tracker,
      wrapperExitStatus: false,
      mechanisms: ["process_group", "ulimit"],
    };
  },
};
