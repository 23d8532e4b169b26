/** Shared builders for sandbox unit tests: capabilities and shim inputs with nothing real. */
import type { SandboxCapabilities } from "../../../src/sandbox/capabilities.ts";
import { resolveLimitConfig } from "../../../src/sandbox/options.ts";
import type { ShimInput } from "../../../src/sandbox/shim.ts";
import { validateRequest } from "../../../src/sandbox/validate.ts";

const yes = (path: string) => ({ available: true, path, reason: `${path} works` });
const no = (reason: string) => ({ available: false, path: null, reason });

/** Linux capabilities with everything available unless overridden. */
export function linuxCaps(overrides: Partial<SandboxCapabilities> = {}): SandboxCapabilities {
  return {
    platform: "linux",
    arch: "x64",
    kernel: "6.18",
    uid: 0,
    ownPidNamespace: "pid:[1]",
    procfs: yes("/proc"),
    bubblewrap: yes("/usr/bin/bwrap"),
    unshare: yes("/usr/bin/unshare"),
    perl: yes("/usr/bin/perl"),
    mountStage: yes("/usr/bin/perl"),
    prlimit: yes("/usr/bin/prlimit"),
    sh: yes("/bin/sh"),
    // Off by default so the plans spell rlimits as prlimit flags; tests of the ulimit stage set it.
    ulimit: no("not probed in unit tests"),
    cgroups: null,
    sandboxExec: no("not applicable on linux"),
    taskkill: no("not applicable on linux"),
    ...overrides,
  };
}

/** A missing tool. */
export const missing = no;

/** A shim input for `body` with fixed paths. */
export function shimInput(body: unknown, caps: SandboxCapabilities): ShimInput {
  const limits = resolveLimitConfig();
  return {
    req: validateRequest(body, limits),
    cwd: "/ws/sub",
    workspaceRoot: "/ws",
    temp: { root: "/tmp/vltair-ab-1", home: "/tmp/vltair-ab-1/home", tmp: "/tmp/vltair-ab-1/tmp" },
    runName: "vltair-ab-1",
    caps,
    limits,
    hidden: [],
  };
}
