/**
 * Fail-closed isolation: the limits a run must have before anything starts. The operator's
 * `require` list (default: filesystem, pids, timeout, process_tree) may be waived per request
 * (`allow_partial:true`) only when the operator allows partial runs; the hidden paths (the data
 * directory: admin token, token store, WAL, snapshots, other tenants' workspaces) can never be
 * waived. A refusal names each missing limit, why it is missing here and how to get it.
 */
import type { SandboxCapabilities } from "./capabilities.ts";
import { unappliedKeys } from "./enforced.ts";
import type { EnforcedKey, EnforcedReport } from "./schema.ts";

/** What a server requires unless configured otherwise. */
export const DEFAULT_REQUIRE: readonly EnforcedKey[] = [
  "filesystem",
  "pids",
  "timeout",
  "process_tree",
];

/** The operator's side of the decision. */
export interface RequirePolicy {
  require: readonly EnforcedKey[];
  /** The operator lets a request's `allow_partial:true` waive `require`. */
  allowPartial: boolean;
}

const VIEW =
  "install bubblewrap (apt-get install bubblewrap), or let unshare (util-linux) and perl build the view: unprivileged user namespaces on, Linux >= 5.12, x86-64/arm64/riscv64";
const CGROUP =
  "give the server a writable cgroup: as root cgroup v1 memory/pids or v2; unprivileged, a delegated cgroup v2 subtree with memory and pids (systemd Delegate=yes)";
const RLIMITS =
  "install prlimit (util-linux) or use a POSIX sh (dash) whose ulimit passes the probe";

/** How to get each limit on Linux, for refusals and the capabilities report. */
const HINTS: Record<EnforcedKey, string> = {
  timeout: "always enforced by the runner",
  memory: `${CGROUP} (RLIMIT_AS is the fallback: ${RLIMITS})`,
  pids: `${CGROUP} (as non-root, RLIMIT_NPROC through prlimit is the fallback)`,
  network:
    "install bubblewrap, or unshare (util-linux) with user namespaces on; a network allowlist also needs perl (its proxy bridge)",
  filesystem: VIEW,
  cpu: RLIMITS,
  file_size: RLIMITS,
  open_files: RLIMITS,
  process_tree: `install bubblewrap, or unshare and perl (a PID namespace with an init), or ${CGROUP}`,
  hidden_paths: VIEW,
};

/** How to get `key` on this host; the runtime's own refusal comes first when it is the cause. */
export function hintFor(key: EnforcedKey, caps: SandboxCapabilities): string {
  if (caps.platform === "linux" && !caps.procfs.available)
    return "run Deno with --allow-all (-A): the sandbox reads /proc and /sys/fs/cgroup and starts helpers, which Deno allows only then";
  if (caps.platform !== "linux" && key !== "timeout")
    return `not available on ${caps.platform}: run the server on Linux for full isolation`;
  return HINTS[key];
}

/**
 * Limits a run is refused for (report order), given the request's `allow_partial`. `always`
 * are never waived: the hidden paths, and the network of a run with an allowlist (without its
 * namespace the run would reach everything).
 */
export function missingRequired(
  enforced: EnforcedReport,
  policy: RequirePolicy,
  requestAllowsPartial: boolean,
  always: readonly EnforcedKey[] = ["hidden_paths"],
): EnforcedKey[] {
  const waived = policy.allowPartial && requestAllowsPartial;
  const required = new Set<EnforcedKey>(waived ? [] : policy.require);
  for (const key of always) required.add(key);
  return unappliedKeys(enforced).filter((key) => required.has(key));
}

/**
 * The `reason` of a refused run: `required_not_applied:<keys>` (stable prefix), then per key
 * what is missing on this host and how to get it.
 *
 * @example
 * ```ts
 * refusalReason(["filesystem"], enforced, caps);
 * // "required_not_applied:filesystem — filesystem: bubblewrap unavailable: …; to get it: install bubblewrap …"
 * ```
 */
export function refusalReason(
  keys: readonly EnforcedKey[],
  enforced: EnforcedReport,
  caps: SandboxCapabilities,
): string {
  const parts = keys.map(
    (key) => `${key}: ${enforced[key].reason}; to get it: ${hintFor(key, caps)}`,
  );
  return `required_not_applied:${keys.join(",")} — ${parts.join(" | ")}`;
}
