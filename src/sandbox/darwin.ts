/**
 * macOS shim: a `sandbox-exec` profile (deny network when asked, deny writes outside the
 * workspace and the run's temp dir) plus rlimits through `ulimit`. macOS has no PID namespaces
 * or cgroups and does not enforce RLIMIT_AS: memory, pids and the process tree are reported as
 * not applied.
 */
import { applied, notApplied, notRequested } from "./enforced.ts";
import {
  type HiddenPath,
  hiddenNotApplied,
  hiddenShadowed,
  orderMounts,
  shadowedHidden,
} from "./hidden-paths.ts";
import { shellOnlyReport, shellStage } from "./portable.ts";
import { PosixTracker } from "./posix-tracker.ts";
import { describeByPreparing, type LaunchPlan, type SandboxShim, type ShimInput } from "./shim.ts";

/** Quotes a path as a sandbox profile (SBPL) string literal. */
export function sbplString(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * The sandbox-exec profile of a run. Paths must be real paths (`/private/tmp`, not `/tmp`).
 *
 * @example
 * ```ts
 * darwinProfile({ network: "deny", writable: ["/Users/me/ws", "/private/var/folders/x/vltair-ab-1"] });
 * ```
 *
 * Hidden paths get `(deny file-read* file-write* (subpath …))`; the rules are emitted shallow
 * first (in SBPL the last matching rule wins), with the writable roots re-allowed after a
 * hidden ancestor, so a workspace inside a hidden directory stays usable.
 */
export function darwinProfile(options: {
  network: "deny" | "allow";
  writable: readonly string[];
  /** Real paths to hide (present or not). */
  hidden?: readonly string[];
}): string {
  const lines = ["(version 1)", "(allow default)"];
  if (options.network === "deny") lines.push("(deny network*)");
  lines.push("(deny file-write*)");
  const allowed = options.writable.map((p) => `(subpath ${sbplString(p)})`);
  allowed.push(
    '(literal "/dev/null")',
    '(literal "/dev/zero")',
    '(literal "/dev/tty")',
    '(literal "/dev/dtracehelper")',
  );
  allowed.push('(regex #"^/dev/fd/")', '(regex #"^/dev/ttys[0-9]+$")');
  lines.push(`(allow file-write* ${allowed.join(" ")})`);
  const hidden = (options.hidden ?? []).map(
    (real): HiddenPath => ({ path: real, real, kind: "absent" }),
  );
  if (hidden.length > 0) {
    for (const step of orderMounts(hidden, options.writable)) {
      const target = sbplString(step.kind === "bind" ? step.path : step.hidden.real);
      const verb = step.kind === "bind" ? "allow" : "deny";
      lines.push(`(${verb} file-read* file-write* (subpath ${target}))`);
    }
  }
  return lines.join("\n");
}

/** The macOS shim. */
export const darwinShim: SandboxShim = {
  name: "darwin",
  describe: describeByPreparing,
  async prepare(input: ShimInput): Promise<LaunchPlan> {
    const enforced = shellOnlyReport(input, "macOS");
    const tracker = new PosixTracker({
      procfs: false,
      cgroup: null,
      ownPidNamespace: null,
      leaderIsWrapper: false,
    });
    const sh = input.caps.sh.path ?? "/bin/sh";
    const sandboxExec = input.caps.sandboxExec;
    if (!sandboxExec.available || sandboxExec.path === null) {
      enforced.filesystem = notApplied(
        "workspace_rw",
        `sandbox-exec unavailable: ${sandboxExec.reason}`,
      );
      if (input.req.network === "deny")
        enforced.network = notApplied("deny", `sandbox-exec unavailable: ${sandboxExec.reason}`);
      enforced.hidden_paths = hiddenNotApplied(
        input.hidden,
        `sandbox-exec unavailable: ${sandboxExec.reason}`,
      );
      return {
        argv: shellStage(input, sh),
        detached: true,
        readyMarker: true,
        enforced,
        tracker,
        wrapperExitStatus: false,
        mechanisms: ["process_group", "ulimit"],
      };
    }
    const profile = darwinProfile({
      // An allowlist is refused before this runs (no network namespace on macOS).
      network: input.req.network === "allow" ? "allow" : "deny",
      writable: [input.workspaceRoot, input.temp.root],
      hidden: input.hidden.map((h) => h.real),
    });
    const shadowed = shadowedHidden(input.hidden, [input.workspaceRoot, input.temp.root]);
    enforced.hidden_paths =
      input.hidden.length === 0
        ? notRequested()
        : shadowed.length > 0
          ? hiddenShadowed(input.hidden, shadowed)
          : applied(
              input.hidden.map((h) => h.path),
              "sandbox_exec",
              "(deny file-read* file-write*) on each path and below, also for paths created during the run",
            );
    enforced.filesystem = applied(
      "workspace_rw",
      "sandbox_exec",
      "writes denied outside the workspace and the run temp dir; reads allowed",
    );
    if (input.req.network === "deny")
      enforced.network = applied("deny", "sandbox_exec", "(deny network*) in the profile");
    return {
      argv: [sandboxExec.path, "-p", profile, ...shellStage(input, sh)],
      detached: true,
      readyMarker: true,
      enforced,
      tracker,
      wrapperExitStatus: false,
      mechanisms: ["process_group", "sandbox_exec", "ulimit"],
    };
  },
};
