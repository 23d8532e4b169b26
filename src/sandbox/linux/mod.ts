/**
 * The Linux mechanisms of the sandbox: the shim (bubblewrap or unshare + the run's init, cgroups,
 * rlimits), its pure planner, the cgroup helpers, the init and its mount stage, and the network
 * allowlist's bridge. `capabilities.ts` and `posix-tracker.ts` import the files they need
 * directly: the Linux files import them in turn, and no module cycle may pass through here.
 */
export type { AttachPrime, CgroupLayout, CgroupProbe, RunCgroup } from "./cgroup.ts";
export { parseSelfCgroup } from "./cgroup.ts";
export { parseInitStatus } from "./init-script.ts";
export type { CpuUsageSource } from "./linux-shim.ts";
export { chooseCgroup, linuxCpuUsage, linuxShim } from "./linux-shim.ts";
export { PROXY_PORT, PROXY_SOCKET_NAME, proxyEnv, SOCKET_PATH_BYTES_MAX } from "./proxy-bridge.ts";
