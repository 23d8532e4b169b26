/**
 * What this OS and kernel offer the sandbox, probed once per configuration and cached:
 * bubblewrap, unshare (PID + network namespaces), perl (the run's init, and with unshare the
 * filesystem view), prlimit, the shell's `ulimit`, cgroup v2/v1, sandbox-exec, taskkill, and
 * whether the runtime lets us read `/proc` at all (Deno does only with `--allow-all`).
 */
import { readFileSync } from "node:fs";
import { mkdir, readFile, readlink, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { type CgroupLayout, probeCgroups } from "./linux/cgroup.ts";
import { initArgv, initSyscalls } from "./linux/init-script.ts";
import { mountOps } from "./linux/mount-plan.ts";
import type { SandboxMechanism, SandboxTools } from "./options.ts";
import { formatOwner, selfOwner } from "./owner.ts";
import { findExecutable, probeCommand } from "./probe.ts";
import { runTempDirName } from "./temp-dir.ts";
import { ULIMIT_PROBE_SCRIPT } from "./ulimit-script.ts";

/** Whether one mechanism works here, the binary it uses, and why (not). */
export interface MechanismProbe {
  available: boolean;
  path: string | null;
  reason: string;
}

/** Capabilities of the host, as `detectCapabilities` reports them. */
export interface SandboxCapabilities {
  platform: string;
  /** `process.arch`: picks the system call numbers of the init's mount stage. */
  arch: string;
  kernel: string;
  uid: number | null;
  /** Inode link of the server's own PID namespace (Linux), to tell run namespaces apart. */
  ownPidNamespace: string | null;
  /** Whether this runtime may read `/proc` (the process tracker's ground truth on Linux). */
  procfs: MechanismProbe;
  bubblewrap: MechanismProbe;
  unshare: MechanismProbe;
  /** Perl runs the run's init (PID 1 of its namespace; see init-script.ts). */
  perl: MechanismProbe;
  /**
   * The filesystem view without bubblewrap: unshare (user + mount + PID namespaces) with the
   * init's mount stage, probed end to end (read-only root, tmpfs, pivot, capabilities dropped).
   */
  mountStage: MechanismProbe;
  prlimit: MechanismProbe;
  sh: MechanismProbe;
  /**
   * Rlimits through `sh`'s `ulimit` in the ready stage (Linux): verified against
   * `/proc/self/limits`; switched off with `prlimit` (the `prlimit` switch means "rlimits").
   */
  ulimit: MechanismProbe;
  cgroups: CgroupLayout | null;
  sandboxExec: MechanismProbe;
  taskkill: MechanismProbe;
}

/** Inputs of {@link detectCapabilities}. */
export interface DetectOptions {
  tools?: Partial<SandboxTools>;
  cgroupRoot?: string;
  disable?: readonly SandboxMechanism[];
  /** PATH used to find the tools; the server's PATH by default. */
  pathValue?: string;
}

const DEFAULT_TOOLS: SandboxTools = {
  bwrap: "bwrap",
  unshare: "unshare",
  prlimit: "prlimit",
  sh: "sh",
  perl: "perl",
};
const cache = new Map<string, Promise<SandboxCapabilities>>();

const off = (reason: string, path: string | null = null): MechanismProbe => ({
  available: false,
  path,
  reason,
});

async function probeTool(
  name: string,
  label: SandboxMechanism | "sh" | "perl",
  disabled: ReadonlySet<string>,
  pathValue: string,
  args: readonly string[] | null,
): Promise<MechanismProbe> {
  if (disabled.has(label)) return off(`${label} disabled by configuration`);
  const path = await findExecutable(name, pathValue);
  if (path === null) return off(`${name} not found on PATH`);
  if (args === null) return { available: true, path, reason: `${path} found` };
  const failure = await probeCommand(path, args);
  if (failure !== null) return off(`${path} probe failed: ${failure}`, path);
  return { available: true, path, reason: `${path} works` };
}

/** The shell's `ulimit` sets the limits a run asks for, in the units linux-plan.ts assumes. */
async function probeUlimit(
  sh: MechanismProbe,
  disabled: ReadonlySet<string>,
): Promise<MechanismProbe> {
  if (disabled.has("prlimit")) return off("prlimit (rlimits) disabled by configuration");
  if (!sh.available || sh.path === null) return off(`no shell: ${sh.reason}`);
  const failure = await probeCommand(sh.path, ["-c", ULIMIT_PROBE_SCRIPT]);
  if (failure !== null) return off(`${sh.path} ulimit probe failed: ${failure}`, sh.path);
  return { available: true, path: sh.path, reason: `${sh.path} ulimit sets and /proc confirms` };
}

/** The probe runs exactly the namespaces a run uses (see linux-plan.ts). */
const UNSHARE_PROBE = [
  "--user",
  "--map-root-user",
  "--net",
  "--pid",
  "--fork",
  "--kill-child",
  "--mount-proc",
  "true",
];

const BWRAP_PROBE = [
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--unshare-pid",
  "--unshare-net",
  "--die-with-parent",
  "true",
];

/** The probe's command: succeeds only when it runs without any capability. */
const NO_CAPABILITIES_CHECK =
  'while read -r k v; do [ "$k" = CapEff: ] && [ "$v" = 0000000000000000 ] && exit 0; done < /proc/self/status; exit 1';

/** Mount-stage probes made by this process (their scratch dirs' counter). */
let probeCounter = 0;

/** Runs the real unshare + init mount stage once (in a scratch dir) with a trivial plan. */
async function probeMountStage(
  unshare: MechanismProbe,
  perl: MechanismProbe,
  sh: MechanismProbe,
  arch: string,
): Promise<MechanismProbe> {
  const syscalls = initSyscalls(arch);
  if (syscalls === null) return off(`no system call table for architecture ${arch}`);
  if (!unshare.available || unshare.path === null) return off(`needs unshare: ${unshare.reason}`);
  if (!perl.available || perl.path === null) return off(`needs perl: ${perl.reason}`);
  if (!sh.available || sh.path === null) return off(`needs sh: ${sh.reason}`);
  let scratch: string;
  try {
    // Named as a run's temp dir (owner = this process): a server killed during the probe
    // leaves it to the next server's sweep (sweep.ts), which removes it once this one is gone.
    probeCounter += 1;
    const owner = formatOwner(await selfOwner());
    scratch = join(os.tmpdir(), runTempDirName("0", owner, probeCounter));
    await mkdir(scratch, { mode: 0o700 });
  } catch (error) {
    return off(`cannot create a probe directory: ${(error as NodeJS.ErrnoException).code}`);
  }
  try {
    const ops = mountOps({ runTempDir: scratch, cwd: "/", writable: [scratch], hidden: [] });
    const args = [
      ...UNSHARE_PROBE.slice(0, -1),
      "--",
      ...initArgv(perl.path, syscalls, { dropCapabilities: true, ops }),
      sh.path,
      "-c",
      NO_CAPABILITIES_CHECK,
    ];
    const failure = await probeCommand(unshare.path, args);
    if (failure !== null) return off(`mount stage probe failed: ${failure}`, perl.path);
    return {
      available: true,
      path: perl.path,
      reason: "read-only root, masks and private /tmp in a user + mount namespace, no capabilities",
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Whether `/proc` can be read by this runtime (Deno refuses without `--allow-all`). */
function probeProcfs(): MechanismProbe {
  try {
    readFileSync("/proc/self/stat", "utf8");
    return { available: true, path: "/proc", reason: "/proc is readable" };
  } catch (error) {
    return off(`cannot read /proc: ${String((error as Error).message ?? error).slice(0, 200)}`);
  }
}

async function detectLinux(
  options: DetectOptions,
  base: SandboxCapabilities,
): Promise<SandboxCapabilities> {
  const tools = { ...DEFAULT_TOOLS, ...options.tools };
  const disabled = new Set<string>(options.disable ?? []);
  const pathValue = options.pathValue ?? process.env.PATH ?? "/usr/bin:/bin";
  const selfCgroup = await readFile("/proc/self/cgroup", "utf8").catch(() => "");
  const layout = await probeCgroups(options.cgroupRoot ?? "/sys/fs/cgroup", selfCgroup);
  if (disabled.has("cgroup_v2"))
    layout.v2 = {
      available: false,
      reason: "cgroup_v2 disabled by configuration",
      parentDir: null,
    };
  if (disabled.has("cgroup_v1")) {
    const v1Off = {
      available: false,
      reason: "cgroup_v1 disabled by configuration",
      parentDir: null,
    };
    layout.v1Memory = v1Off;
    layout.v1Pids = v1Off;
    layout.v1Cpuacct = v1Off;
  }
  const sh = await probeTool(tools.sh, "sh", disabled, pathValue, null);
  const unshare = await probeTool(tools.unshare, "unshare", disabled, pathValue, UNSHARE_PROBE);
  const perl = await probeTool(tools.perl, "perl", disabled, pathValue, ["-e", "exit 0"]);
  return {
    ...base,
    procfs: probeProcfs(),
    ownPidNamespace: await readlink("/proc/self/ns/pid").catch(() => null),
    bubblewrap: await probeTool(tools.bwrap, "bubblewrap", disabled, pathValue, BWRAP_PROBE),
    unshare,
    perl,
    mountStage: await probeMountStage(unshare, perl, sh, base.arch),
    prlimit: await probeTool(tools.prlimit, "prlimit", disabled, pathValue, [
      "--nofile=256:256",
      "true",
    ]),
    sh,
    ulimit: await probeUlimit(sh, disabled),
    cgroups: layout,
  };
}

async function detect(options: DetectOptions): Promise<SandboxCapabilities> {
  const platform = process.platform;
  const notHere = off(`not applicable on ${platform}`);
  const base: SandboxCapabilities = {
    platform,
    arch: process.arch,
    kernel: os.release(),
    uid: typeof process.getuid === "function" ? process.getuid() : null,
    ownPidNamespace: null,
    procfs: notHere,
    bubblewrap: notHere,
    unshare: notHere,
    perl: notHere,
    mountStage: notHere,
    prlimit: notHere,
    sh: notHere,
    ulimit: notHere,
    cgroups: null,
    sandboxExec: notHere,
    taskkill: notHere,
  };
  const pathValue = options.pathValue ?? process.env.PATH ?? "";
  const disabled = new Set<string>(options.disable ?? []);
  if (platform === "linux") return detectLinux(options, base);
  if (platform === "darwin") {
    return {
      ...base,
      sandboxExec: await probeTool("/usr/bin/sandbox-exec", "sh", new Set(), pathValue, null),
      sh: await probeTool(options.tools?.sh ?? "/bin/sh", "sh", disabled, pathValue, null),
    };
  }
  if (platform === "win32") {
    return { ...base, taskkill: await probeTool("taskkill.exe", "sh", new Set(), pathValue, null) };
  }
  return base;
}

/**
 * Probes (once per distinct options, then cached) what this host offers.
 *
 * @example
 * ```ts
 * const caps = await detectCapabilities();
 * caps.bubblewrap.available; // true when bwrap is installed and works here
 * ```
 */
export function detectCapabilities(options: DetectOptions = {}): Promise<SandboxCapabilities> {
  const key = JSON.stringify([
    options.tools ?? {},
    options.cgroupRoot ?? "",
    [...(options.disable ?? [])].sort(),
    options.pathValue ?? "",
  ]);
  let found = cache.get(key);
  if (found === undefined) {
    found = detect(options);
    cache.set(key, found);
  }
  return found;
}
