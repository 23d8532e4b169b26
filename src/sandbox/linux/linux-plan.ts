/**
 * Pure planning of a Linux run: which mechanism enforces each limit, the argv chain
 * `[bwrap | unshare] [init] [prlimit] ready-sh CMD…` (the init is PID 1 of the run's PID
 * namespace and, without bubblewrap, builds its filesystem view; the ready stage sets the
 * rlimits with `ulimit` when it can, joins the run's cgroup, reports ready, execs the command),
 * and the honest report.
 */
import { dirname } from "node:path";
import type { SandboxCapabilities } from "../capabilities.ts";
import { applied, notApplied, notRequested, timeoutEntry } from "../enforced.ts";
import {
  type HiddenPath,
  hiddenNotApplied,
  hiddenShadowed,
  orderMounts,
  shadowedHidden,
} from "../hidden-paths.ts";
import type { SandboxLimitConfig } from "../options.ts";
import { READY_SCRIPT } from "../ready-script.ts";
import type { EnforcedEntry, EnforcedReport } from "../schema.ts";
import { type ShellRlimits, ulimitPrefix } from "../ulimit-script.ts";
import type { ResolvedRequest } from "../validate.ts";
import { initArgv, initSyscalls } from "./init-script.ts";
import { mountOps } from "./mount-plan.ts";
import { bridgeArgv, PROXY_PORT } from "./proxy-bridge.ts";

/**
 * The innermost stage when the run has a cgroup: join each listed `cgroup.procs` (writing 0
 * means "this process"), report ready on fd 3, exec the command. Only wrappers ran before it,
 * so everything the command starts is in the cgroup; exit 125 (before the marker) if a join
 * fails. Inside bubblewrap the listed files are bound writable, nothing else of /sys is.
 */
export const READY_ATTACH_SCRIPT =
  'while [ $# -gt 0 ] && [ "$1" != -- ]; do echo 0 > "$1" || exit 125; shift; done; shift; printf R >&3 && exec 3>&- && exec "$@"';

/** The run's cgroup as created (or why not). */
export interface PlannedCgroup {
  version: 1 | 2 | null;
  memory: boolean;
  pids: boolean;
  procsFiles: readonly string[];
  /** Why memory/pids are not under a cgroup, when they are not. */
  memoryReason: string;
  pidsReason: string;
}

/** Inputs of {@link planLinux}. */
export interface LinuxPlanInput {
  req: ResolvedRequest;
  cwd: string;
  workspaceRoot: string;
  /** The run's own temp dir (bound writable). */
  runTempDir: string;
  caps: SandboxCapabilities;
  limits: SandboxLimitConfig;
  cgroup: PlannedCgroup;
  /** Server paths to mask (none by default). */
  hidden?: readonly HiddenPath[];
  /** The server proxy's Unix socket, for a run with a network allowlist. */
  proxySocket?: string | null;
}

/** Output of {@link planLinux}. */
export interface LinuxPlan {
  argv: string[];
  enforced: EnforcedReport;
  pidNamespace: boolean;
  leaderIsWrapper: boolean;
  mechanisms: string[];
}

/** Rlimits a run gets (bytes, counts, seconds); null = not set. */
interface Rlimits extends ShellRlimits {
  processes: number | null;
}

function noRlimits(): Rlimits {
  return {
    addressSpaceBytes: null,
    cpuSoftSeconds: null,
    cpuHardSeconds: null,
    fileSizeBytes: null,
    openFiles: null,
    processes: null,
  };
}

/** Why no rlimit can be set, when neither prlimit nor the shell's ulimit works. */
function rlimitsMissing(caps: SandboxCapabilities): string {
  return `prlimit unavailable: ${caps.prlimit.reason}; sh ulimit unavailable: ${caps.ulimit.reason}`;
}

const canRlimit = (caps: SandboxCapabilities) => caps.prlimit.available || caps.ulimit.available;

function memoryEntry(input: LinuxPlanInput, rl: Rlimits): EnforcedEntry {
  const { req, cgroup, caps } = input;
  if (cgroup.memory) {
    return applied(
      req.memBytes,
      `cgroup_v${cgroup.version}`,
      "hard memory limit of the whole run; the kernel OOM-kills past it",
    );
  }
  if (canRlimit(caps)) {
    rl.addressSpaceBytes = req.memBytes;
    return applied(
      req.memBytes,
      "rlimit_as",
      `address-space limit per process (no cgroup: ${cgroup.memoryReason})`,
    );
  }
  return notApplied(req.memBytes, `no cgroup (${cgroup.memoryReason}) and ${rlimitsMissing(caps)}`);
}

function pidsEntry(input: LinuxPlanInput, rl: Rlimits): EnforcedEntry {
  const { req, cgroup, caps } = input;
  if (cgroup.pids)
    return applied(req.pids, `cgroup_v${cgroup.version}`, "pids.max over every process of the run");
  if (caps.uid === 0) {
    return notApplied(
      req.pids,
      `RLIMIT_NPROC does not bind root and no pids cgroup: ${cgroup.pidsReason}`,
    );
  }
  // `ulimit` spells RLIMIT_NPROC differently per shell (-u in bash, -p in dash): prlimit only.
  if (caps.prlimit.available) {
    rl.processes = req.pids;
    return applied(
      req.pids,
      "rlimit_nproc",
      `counts every process of the server's uid (no cgroup: ${cgroup.pidsReason})`,
    );
  }
  return notApplied(
    req.pids,
    `no cgroup (${cgroup.pidsReason}) and no prlimit (${caps.prlimit.reason})`,
  );
}

function rlimitEntries(
  input: LinuxPlanInput,
  rl: Rlimits,
): Pick<EnforcedReport, "cpu" | "file_size" | "open_files"> {
  const { req, caps, limits } = input;
  const missing = rlimitsMissing(caps);
  let cpu = notRequested();
  if (req.cpuMs !== null) {
    const seconds = Math.ceil(req.cpuMs / 1000);
    if (canRlimit(caps)) {
      rl.cpuSoftSeconds = seconds;
      rl.cpuHardSeconds = seconds + 1;
      cpu = applied(
        req.cpuMs,
        "rlimit_cpu",
        `per process, rounded up to ${seconds} s; SIGXCPU then SIGKILL`,
      );
    } else cpu = notApplied(req.cpuMs, missing);
  }
  if (!canRlimit(caps)) {
    return {
      cpu,
      file_size: notApplied(limits.fileSizeBytes, missing),
      open_files: notApplied(limits.openFiles, missing),
    };
  }
  rl.fileSizeBytes = limits.fileSizeBytes;
  rl.openFiles = limits.openFiles;
  return {
    cpu,
    file_size: applied(
      limits.fileSizeBytes,
      "rlimit_fsize",
      "largest file any process of the run may write",
    ),
    open_files: applied(limits.openFiles, "rlimit_nofile", "open descriptors per process"),
  };
}

/** `prlimit` flags for `rl` (empty when nothing is set). */
function prlimitFlags(rl: Rlimits): string[] {
  const flags: string[] = [];
  if (rl.addressSpaceBytes !== null) flags.push(`--as=${rl.addressSpaceBytes}`);
  if (rl.processes !== null) flags.push(`--nproc=${rl.processes}`);
  if (rl.cpuSoftSeconds !== null) flags.push(`--cpu=${rl.cpuSoftSeconds}:${rl.cpuHardSeconds}`);
  if (rl.fileSizeBytes !== null) flags.push(`--fsize=${rl.fileSizeBytes}`);
  if (rl.openFiles !== null) flags.push(`--nofile=${rl.openFiles}`);
  return flags;
}

/**
 * How the rlimits are set: by the ready stage's `ulimit` (no extra exec) when the shell passed
 * its probe and no RLIMIT_NPROC is needed, else by a `prlimit` stage.
 */
function rlimitTool(rl: Rlimits, caps: SandboxCapabilities): "none" | "ulimit" | "prlimit" {
  if (prlimitFlags(rl).length === 0) return "none";
  if (caps.ulimit.available && rl.processes === null) return "ulimit";
  return "prlimit";
}

function bwrapArgs(input: LinuxPlanInput): string[] {
  const { req, cwd, workspaceRoot, runTempDir, cgroup } = input;
  const args = [
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
  ];
  // As root bwrap keeps every capability unless told otherwise, and CAP_SYS_ADMIN could
  // remount / read-write: drop them all.
  if (input.caps.uid === 0) args.push("--cap-drop", "ALL");
  if (req.network !== "allow") args.push("--unshare-net");
  args.push("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp");
  // Masks and writable binds shallow first: a workspace inside a hidden directory is bound on
  // top of its mask, a hidden file inside the workspace is masked on top of the workspace.
  const binds = [workspaceRoot, runTempDir, ...cgroup.procsFiles];
  for (const step of orderMounts(input.hidden ?? [], binds)) {
    if (step.kind === "bind") args.push("--bind", step.path, step.path);
    else if (step.hidden.kind === "dir") args.push("--tmpfs", step.hidden.real);
    else if (step.hidden.kind === "file") args.push("--ro-bind", "/dev/null", step.hidden.real);
  }
  args.push("--chdir", cwd, "--");
  return args;
}

function unshareArgs(input: LinuxPlanInput, pidNamespace: boolean): string[] {
  // A user namespace even for root: the command's capabilities then stop at its own
  // namespaces, so it cannot setns() back into the host's network namespace.
  const args = ["--user", "--map-root-user"];
  if (input.req.network !== "allow") args.push("--net");
  // A PID namespace only with an init to be its PID 1 (--mount-proc implies --mount).
  if (pidNamespace) args.push("--pid", "--fork", "--kill-child", "--mount-proc");
  args.push("--");
  return args;
}

/**
 * The `hidden_paths` entry of a run whose filesystem view is built by `mechanism` (bubblewrap,
 * or the init's mount stage) with `writable` roots.
 */
export function maskedHiddenEntry(
  hidden: readonly HiddenPath[],
  writable: readonly string[],
  mechanism: "bubblewrap" | "unshare_mount",
): EnforcedEntry {
  if (hidden.length === 0) return notRequested();
  const shadowed = shadowedHidden(hidden, writable);
  if (shadowed.length > 0) return hiddenShadowed(hidden, shadowed);
  const dirs = hidden.filter((h) => h.kind === "dir").length;
  const files = hidden.filter((h) => h.kind === "file").length;
  const absent = hidden.filter((h) => h.kind === "absent").map((h) => h.path);
  const parts = [
    `${dirs} directories masked by an empty tmpfs, ${files} files by /dev/null (unreadable)`,
  ];
  if (files > 0) {
    // Renaming over a mount point detaches the mount in other namespaces (Linux >= 3.18).
    parts.push(
      "a hidden file replaced by rename during the run becomes readable: hide its directory",
    );
  }
  if (absent.length > 0) {
    parts.push(
      `absent at the run's start, nothing to mask (a file created there during the run is readable): ${absent.join(", ")}`,
    );
  }
  return applied(
    hidden.map((h) => h.path),
    mechanism,
    parts.join("; "),
  );
}

/** Names the tool that sets each applied rlimit in its reason. */
function withTool(entry: EnforcedEntry, tool: "none" | "ulimit" | "prlimit"): EnforcedEntry {
  if (!entry.applied || !entry.mechanism.startsWith("rlimit_") || tool === "none") return entry;
  const by = tool === "ulimit" ? "setrlimit by the ready stage's sh ulimit" : "set by prlimit";
  return { ...entry, reason: `${entry.reason}; ${by}` };
}

/** Which wrappers a run gets, from what the host offers. */
export interface Wrapping {
  kind: "bubblewrap" | "unshare" | "none";
  /** Our init (init-script.ts) is PID 1 of the run's PID namespace (unshare only). */
  init: boolean;
  pidNamespace: boolean;
  /** The init builds the filesystem view (unshare, no bubblewrap). */
  mountStage: boolean;
}

/**
 * bubblewrap when it works, else unshare, else nothing. bubblewrap's own reaper is PID 1 of its
 * PID namespace: our init there cost 5–10 ms per run (measured, ADR 0008) only to tell an
 * `exit 137` from a SIGKILL. unshare makes a PID namespace only when our init can be its PID 1:
 * a command that is PID 1 ignores its own `kill -9`, RLIMIT_CPU's SIGXCPU and any TERM it has
 * no handler for.
 */
export function chooseWrapping(caps: SandboxCapabilities): Wrapping {
  const init = caps.perl.available && caps.perl.path !== null;
  if (caps.bubblewrap.available)
    return { kind: "bubblewrap", init: false, pidNamespace: true, mountStage: false };
  if (caps.unshare.available) {
    const mountStage = init && caps.mountStage.available;
    return { kind: "unshare", init, pidNamespace: init, mountStage };
  }
  return { kind: "none", init: false, pidNamespace: false, mountStage: false };
}

/** Why there is no filesystem view here (bubblewrap, then the unshare mount stage). */
function noViewReason(caps: SandboxCapabilities): string {
  return `bubblewrap unavailable: ${caps.bubblewrap.reason}; unshare mount stage unavailable: ${caps.mountStage.reason}`;
}

function filesystemEntry(w: Wrapping, caps: SandboxCapabilities): EnforcedEntry {
  const writable = "writable: workspace, run temp dir, private /tmp";
  if (w.kind === "bubblewrap")
    return applied("workspace_rw", "bubblewrap", `read-only root; ${writable}`);
  if (w.mountStage) {
    return applied(
      "workspace_rw",
      "unshare_mount",
      `read-only root built by the run's init in a user + mount namespace; ${writable}; minimal /dev; no capabilities`,
    );
  }
  return notApplied("workspace_rw", noViewReason(caps));
}

function hiddenEntry(input: LinuxPlanInput, w: Wrapping): EnforcedEntry {
  const hidden = input.hidden ?? [];
  const writable = [input.workspaceRoot, input.runTempDir];
  if (w.kind === "bubblewrap") return maskedHiddenEntry(hidden, writable, "bubblewrap");
  if (w.mountStage) return maskedHiddenEntry(hidden, writable, "unshare_mount");
  return hiddenNotApplied(hidden, noViewReason(input.caps));
}

/**
 * The proxy bridge of a run with an allowlist: its socket, or why it cannot run here (it needs
 * a network namespace and perl); null without an allowlist.
 */
function proxyPlan(
  input: LinuxPlanInput,
  w: Wrapping,
): { socket: string } | { missing: string } | null {
  const { req, caps } = input;
  if (req.network !== "proxy") return null;
  if (w.kind === "none")
    return { missing: `no network namespace: ${caps.bubblewrap.reason}; ${caps.unshare.reason}` };
  if (!caps.perl.available || caps.perl.path === null)
    return { missing: `the proxy bridge needs perl: ${caps.perl.reason}` };
  const socket = input.proxySocket ?? null;
  if (socket === null) return { missing: "no proxy socket for this run" };
  return { socket };
}

function networkEntry(
  input: LinuxPlanInput,
  w: Wrapping,
  proxy: ReturnType<typeof proxyPlan>,
): EnforcedEntry {
  const { req, caps } = input;
  if (req.network === "allow") return applied("allow", "none", "network allowed by the request");
  if (proxy !== null) {
    const allow = [...req.networkAllow];
    if ("missing" in proxy) return notApplied(allow, proxy.missing);
    return applied(
      allow,
      `${w.kind}_netns+proxy`,
      `network namespace whose only way out is the server's HTTP(S) proxy at 127.0.0.1:${PROXY_PORT} (HTTP_PROXY), admitting only these hosts`,
    );
  }
  if (w.kind === "none") {
    return notApplied(
      "deny",
      `no network namespace: ${caps.bubblewrap.reason}; ${caps.unshare.reason}`,
    );
  }
  return applied("deny", `${w.kind}_netns`, "empty network namespace: only a down loopback");
}

function processTreeEntry(
  w: Wrapping,
  cgroup: PlannedCgroup,
  caps: SandboxCapabilities,
): EnforcedEntry {
  // The tracker reads /proc: a runtime that may not (Deno without --allow-all) cannot track.
  if (!caps.procfs.available) return notApplied("no_survivors", caps.procfs.reason);
  const parts = ["process_group"];
  if (w.pidNamespace) parts.push("pid_namespace");
  if (cgroup.version !== null && cgroup.procsFiles.length > 0)
    parts.push(`cgroup_v${cgroup.version}`);
  if (parts.length > 1) {
    return applied(
      "no_survivors",
      parts.join("+"),
      "every process of the run is found and killed, setsid or not",
    );
  }
  const why =
    w.kind === "unshare" && !w.pidNamespace
      ? " (no PID namespace without the init: perl missing)"
      : "";
  return notApplied(
    "no_survivors",
    `only the process group${why}: a setsid child whose parent exits could escape`,
  );
}

/** PR_SET_PDEATHSIG, then exec: the next program dies with the caller's parent. */
const TETHER_SCRIPT =
  "syscall($ARGV[0], 1, 9, 0, 0, 0) == 0 or die 'pdeathsig'; shift; exec { $ARGV[0] } @ARGV or die 'exec'";

/** `perl -e TETHER prctl-number --`: what follows dies (SIGKILL) when the server dies. */
export function tetherArgv(perl: string, prctlSyscall: number): string[] {
  return [perl, "-e", TETHER_SCRIPT, String(prctlSyscall)];
}

/** The wrappers and the init: everything before the rlimit and ready stages. */
function wrapperArgv(input: LinuxPlanInput, w: Wrapping, loopbackUp: boolean): string[] {
  const { caps } = input;
  const argv: string[] = [];
  if (w.kind === "bubblewrap") argv.push(caps.bubblewrap.path ?? "bwrap", ...bwrapArgs(input));
  if (w.kind === "unshare") {
    // unshare has no --die-with-parent: a perl tether (perl runs the init anyway) asks the
    // kernel to SIGKILL unshare when the server dies, and --kill-child takes the run's whole
    // PID namespace with it — a SIGKILLed server leaves no run behind (bubblewrap's
    // --die-with-parent does the same).
    const prctl = initSyscalls(caps.arch)?.prctl;
    if (w.init && prctl !== undefined) argv.push(...tetherArgv(caps.perl.path ?? "perl", prctl));
    argv.push(caps.unshare.path ?? "unshare", ...unshareArgs(input, w.pidNamespace));
  }
  if (w.init) {
    const mounts = w.mountStage
      ? mountOps({
          runTempDir: input.runTempDir,
          cwd: input.cwd,
          writable: [input.workspaceRoot, input.runTempDir, ...input.cgroup.procsFiles],
          hidden: input.hidden ?? [],
        })
      : [];
    // The init is root of the run's user namespace, which owns its network namespace.
    const ops = loopbackUp ? [{ op: "loopbackUp" as const }, ...mounts] : mounts;
    const stage = { dropCapabilities: w.mountStage, ops };
    argv.push(...initArgv(caps.perl.path ?? "perl", initSyscalls(caps.arch), stage));
  }
  return argv;
}

/**
 * Plans one Linux run.
 *
 * @example
 * ```ts
 * const plan = planLinux({ req, cwd, workspaceRoot, runTempDir, caps, limits, cgroup });
 * plan.enforced.network.mechanism; // "bubblewrap_netns"
 * ```
 */
export function planLinux(input: LinuxPlanInput): LinuxPlan {
  const { req, caps, cgroup } = input;
  const rlimits = noRlimits();
  const memory = memoryEntry(input, rlimits);
  const pids = pidsEntry(input, rlimits);
  const rl = rlimitEntries(input, rlimits);
  const tool = rlimitTool(rlimits, caps);
  const w = chooseWrapping(caps);
  const mechanisms: string[] = ["process_group"];
  if (cgroup.procsFiles.length > 0) mechanisms.push(`cgroup_v${cgroup.version}`);
  if (w.kind !== "none") mechanisms.push(w.kind);
  if (w.init) mechanisms.push(w.mountStage ? "init+mount_stage" : "init");
  const proxy = proxyPlan(input, w);
  const bridge = proxy !== null && "socket" in proxy ? proxy.socket : null;
  if (bridge !== null) mechanisms.push("proxy_bridge");
  const argv = wrapperArgv(input, w, bridge !== null && w.kind === "unshare");
  if (tool === "prlimit") {
    argv.push(caps.prlimit.path ?? "prlimit", ...prlimitFlags(rlimits), "--");
    mechanisms.push("prlimit");
  }
  if (tool === "ulimit") mechanisms.push("sh_ulimit");
  const prefix = tool === "ulimit" ? ulimitPrefix(rlimits) : "";
  const sh = caps.sh.path ?? "sh";
  // The bridge comes after the ready stage: inside the run's cgroup, with fd 3 closed.
  const cmd =
    bridge === null
      ? req.cmd
      : [...bridgeArgv(caps.perl.path ?? "perl", dirname(bridge)), ...req.cmd];
  if (cgroup.procsFiles.length > 0) {
    const script = `${prefix}${READY_ATTACH_SCRIPT}`;
    argv.push(sh, "-c", script, "vltair-exec", ...cgroup.procsFiles, "--", ...cmd);
  } else {
    argv.push(sh, "-c", `${prefix}${READY_SCRIPT}`, "vltair-exec", ...cmd);
  }
  const enforced: EnforcedReport = {
    timeout: timeoutEntry(req.wallMs, input.limits.killGraceMs, "group_kill"),
    memory: withTool(memory, tool),
    pids: withTool(pids, tool),
    network: networkEntry(input, w, proxy),
    filesystem: filesystemEntry(w, caps),
    cpu: withTool(rl.cpu, tool),
    file_size: withTool(rl.file_size, tool),
    open_files: withTool(rl.open_files, tool),
    process_tree: processTreeEntry(w, cgroup, caps),
    hidden_paths: hiddenEntry(input, w),
  };
  // bwrap and a forking unshare stay as the leader (they wait for the command); otherwise the
  // leader execs through prlimit (if any) and the ready stage into the command itself.
  const wrapped = w.kind === "bubblewrap" || (w.kind === "unshare" && w.pidNamespace);
  return {
    argv,
    enforced,
    pidNamespace: w.pidNamespace,
    leaderIsWrapper: wrapped,
    mechanisms,
  };
}
