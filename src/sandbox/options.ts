/**
 * Options of the sandbox, the table of its configurable limits (default, floor, ceiling, reason)
 * and their resolution into one frozen, asserted value.
 */
import { assert, VltairError } from "../core/mod.ts";
import type { OutputListener } from "./output-tap.ts";
import { ENFORCED_KEYS, type EnforcedKey } from "./schema.ts";

/** A sandbox log event sink; fields are JSON-serialisable and never carry env values or stdin. */
export type SandboxLogger = (
  level: "debug" | "info" | "warn" | "error",
  event: string,
  fields: Record<string, unknown>,
) => void;

/** Mechanisms an operator (or a benchmark) may switch off; the report then says "disabled". */
export const SANDBOX_MECHANISMS = [
  "bubblewrap",
  "unshare",
  "cgroup_v2",
  "cgroup_v1",
  "prlimit",
] as const;
/** A mechanism that can be switched off. */
export type SandboxMechanism = (typeof SANDBOX_MECHANISMS)[number];

/** One configurable limit: its default, its floor and ceiling, and why these values. */
export interface LimitSpec {
  readonly default: number | null;
  readonly min: number;
  readonly max: number;
  readonly reason: string;
}

const MIB = 1024 * 1024;

/**
 * Every sandbox limit, as the config schema and docs/configuration.md should list it.
 * Keys are the camelCase config names.
 */
export const SANDBOX_LIMITS = {
  wallMs: {
    default: 30_000,
    min: 1,
    max: 3_600_000,
    reason: "a test suite fits in 30 s by default; one hour bounds how long a run can hold a slot",
  },
  memBytes: {
    default: 512 * MIB,
    min: 16 * MIB,
    max: 16 * 1024 * MIB,
    reason: "512 MiB fits an interpreter plus tests; below 16 MiB even a shell fails to start",
  },
  outputBytes: {
    default: MIB,
    min: 16,
    max: 64 * MIB,
    reason: "per stream; the server holds at most this many bytes of each stream in memory",
  },
  pids: {
    default: 64,
    min: 8,
    max: 4096,
    reason: "a command needs a few processes to start at all; 64 runs a parallel test suite",
  },
  cpuMs: {
    default: null,
    min: 1,
    max: 3_600_000,
    reason: "not limited unless asked; enforced per process with one-second granularity",
  },
  fileSizeBytes: {
    default: 1024 * MIB,
    min: MIB,
    max: 64 * 1024 * MIB,
    reason: "largest file a run may write (RLIMIT_FSIZE); stops a runaway log filling the disk",
  },
  openFiles: {
    default: 1024,
    min: 64,
    max: 65_536,
    reason: "RLIMIT_NOFILE per process; 1024 is the usual soft limit of a login shell",
  },
  stdinBytes: {
    default: MIB,
    min: 0,
    max: 64 * MIB,
    reason: "largest `stdin` of a request; it is held in memory while the run starts",
  },
  killGraceMs: {
    default: 2000,
    min: 0,
    max: 30_000,
    reason: "time between SIGTERM and SIGKILL on timeout or limit, for test runners to clean up",
  },
  reapTimeoutMs: {
    default: 5000,
    min: 100,
    max: 60_000,
    reason: "how long the sandbox waits for killed processes to vanish before reporting survivors",
  },
  runsMax: {
    default: 16,
    min: 1,
    max: 1024,
    reason:
      "runs at once on the server (all tenants); each may hold mem_bytes and pids: 16 × 512 MiB = 8 GiB",
  },
  tenantRunsMax: {
    default: 4,
    min: 1,
    max: 1024,
    reason: "runs at once per tenant, so one tenant cannot take every slot",
  },
  queuedRunsMax: {
    default: 64,
    min: 0,
    max: 10_000,
    reason:
      "runs waiting for a slot on the server; past it 429 queue_full with Retry-After (0: never wait)",
  },
  tenantQueuedRunsMax: {
    default: 16,
    min: 0,
    max: 10_000,
    reason: "runs waiting per tenant, so one tenant cannot fill the queue",
  },
  workspacesMax: {
    default: 32,
    min: 1,
    max: 10_000,
    reason:
      "named workspaces per tenant (the default workspace is not counted); each holds a tree on disk",
  },
  workspaceTtlMs: {
    default: 86_400_000,
    min: 1000,
    max: 2_592_000_000,
    reason:
      "a named workspace is deleted this long after its creation: a day by default, 30 days at most",
  },
  tenantWorkspaceBytes: {
    default: 10 * 1024 * MIB,
    min: MIB,
    max: 16 * 1024 * 1024 * MIB,
    reason: "bytes of regular files per tenant, every workspace and the checkpoint store together",
  },
  tenantWorkspaceFiles: {
    default: 200_000,
    min: 16,
    max: 10_000_000,
    reason:
      "files, directories and links per tenant (workspaces and checkpoint store); bounds every walk of a tree",
  },
  uploadBytes: {
    default: 16 * MIB,
    min: 1,
    max: 1024 * MIB,
    reason:
      "largest file of one PUT (body_bytes_max bounds it too); streamed to disk, never held in memory",
  },
  checkpointsMax: {
    default: 32,
    min: 1,
    max: 1024,
    reason: "checkpoints kept per workspace; each pins the blobs it names in the tenant's store",
  },
  dirEntriesMax: {
    default: 10_000,
    min: 1,
    max: 1_000_000,
    reason:
      "entries of one directory listing (GET of a directory); past it the listing says truncated",
  },
  workspaceSweepMs: {
    default: 60_000,
    min: 1000,
    max: 3_600_000,
    reason: "how often expired workspaces are looked for and deleted",
  },
  networkConnectionsMax: {
    default: 64,
    min: 1,
    max: 1024,
    reason:
      "connections through a run's network allowlist proxy open at once; more are answered 503",
  },
  networkIdleMs: {
    default: 60_000,
    min: 1000,
    max: 3_600_000,
    reason: "a proxied connection with nothing sent either way this long is closed",
  },
  networkBytesMax: {
    default: 1024 * MIB,
    min: MIB,
    max: 64 * 1024 * MIB,
    reason:
      "bytes a run's proxy relays, both directions together; past it every connection of the run is closed",
  },
  networkHeaderBytesMax: {
    default: 16 * 1024,
    min: 1024,
    max: MIB,
    reason: "largest request head the proxy reads (request line and headers); past it 431",
  },
  networkRefusalLogsMax: {
    default: 32,
    min: 0,
    max: 10_000,
    reason:
      "refused proxy requests logged per run (sandbox.network.refused); all are counted in network_refused",
  },
} as const satisfies Record<string, LimitSpec>;

/** Name of a configurable sandbox limit. */
export type SandboxLimitName = keyof typeof SANDBOX_LIMITS;

/**
 * Configured values: for request limits `<name>Default` and `<name>Max`; for server-side
 * limits the value itself.
 */
export interface SandboxLimitConfig {
  wallMsDefault: number;
  wallMsMax: number;
  memBytesDefault: number;
  memBytesMax: number;
  outputBytesDefault: number;
  outputBytesMax: number;
  pidsDefault: number;
  pidsMax: number;
  cpuMsMax: number;
  fileSizeBytes: number;
  openFiles: number;
  stdinBytesMax: number;
  killGraceMs: number;
  reapTimeoutMs: number;
  /** Server only (`RunSlots`): concurrent and waiting runs, in all and per tenant. */
  runsMax: number;
  tenantRunsMax: number;
  queuedRunsMax: number;
  tenantQueuedRunsMax: number;
  /** Server only (workspaces): named workspaces per tenant, their lifetime, quotas, caps. */
  workspacesMax: number;
  workspaceTtlMsDefault: number;
  workspaceTtlMsMax: number;
  tenantWorkspaceBytesMax: number;
  tenantWorkspaceFilesMax: number;
  uploadBytesMax: number;
  checkpointsMax: number;
  dirEntriesMax: number;
  workspaceSweepMs: number;
  /** Network allowlist proxy of a run (network-proxy.ts). */
  networkConnectionsMax: number;
  networkIdleMs: number;
  networkBytesMax: number;
  networkHeaderBytesMax: number;
  networkRefusalLogsMax: number;
}

/** Paths of the external helpers; a missing one turns its mechanism off with a reason. */
export interface SandboxTools {
  bwrap: string;
  unshare: string;
  prlimit: string;
  sh: string;
  /** The run's init (init-script.ts); without it no PID namespace is made by unshare. */
  perl: string;
}

/** Options of {@link runSandboxed}: server configuration plus the per-call trace id and signal. */
export interface SandboxOptions {
  /** Absolute path; every run's cwd resolves inside it (symlinks resolved). */
  workspaceRoot: string;
  /** Absolute path under which each run gets `vltair-<traceId>-<n>`. */
  tempRoot: string;
  limits?: Partial<SandboxLimitConfig>;
  /** Names of server env variables copied into the child when set (AR-1, AR-6). */
  envPassthrough?: readonly string[];
  /** The server environment the allowlist reads from; defaults to the process environment. */
  parentEnv?: Readonly<Record<string, string | undefined>>;
  logger?: SandboxLogger;
  disable?: readonly SandboxMechanism[];
  /** Override tool names or paths (bare names are looked up on the server's PATH). */
  tools?: Partial<SandboxTools>;
  /** Root of the cgroup mounts; `/sys/fs/cgroup` by default. */
  cgroupRoot?: string;
  /**
   * Absolute paths (directories or files, present or not) the run must not read, e.g. the
   * server's `admin.token` and `tokens.jsonl` or its whole data directory. Bubblewrap masks a
   * directory with an empty tmpfs and a file with `/dev/null` (unreadable); macOS denies reads
   * in the sandbox profile. The workspace and run temp dir stay usable even inside a hidden
   * directory. Reported as `enforced.hidden_paths`; not enforceable without filesystem isolation.
   * Prefer directories: a hidden file replaced by rename during a run (an atomic rewrite) is
   * readable again under bubblewrap, and a file created later in a directory is covered only
   * when that directory is hidden.
   */
  hiddenPaths?: readonly string[];
  /** When false, a request with `network:"allow"` is answered `SANDBOX_DENIED`. */
  networkAllowPermitted?: boolean;
  /**
   * The ceiling of a request's `network.allow` (host names and `*.` suffix wildcards); a
   * pattern outside it is `403 forbidden`. Empty (default): no allowlist runs.
   */
  networkAllowDomains?: readonly string[];
  /**
   * For tests: host name → `ip:port` the proxy connects to instead of resolving the name (and
   * whatever port was asked), so tests reach loopback servers and never the internet.
   */
  networkResolve?: Readonly<Record<string, string>>;
  /**
   * Limits a run must have, else it is refused (`SANDBOX_DENIED`, nothing runs); default
   * `DEFAULT_REQUIRE` (filesystem, pids, timeout, process_tree). `hidden_paths` is always
   * required when hidden paths are configured.
   */
  require?: readonly EnforcedKey[];
  /** Lets a request's `allow_partial:true` waive `require` (never `hidden_paths`); default false. */
  allowPartial?: boolean;
  /** Trace id of the request (W3C trace-id, 32 hex); generated when absent. */
  traceId?: string;
  /** Aborting it kills the run (status `KILLED`, reason `cancelled`). */
  signal?: AbortSignal;
  /**
   * Receives stdout and stderr while the run runs, in UTF-8-safe pieces under the same caps as
   * the result (joined, they equal the result's text); a returned promise pauses reading.
   */
  onOutput?: OutputListener;
  /** Monotonic clock in milliseconds (AR-14); `performance.now` by default. */
  clockMs?: () => number;
}

/** Env names passed through by default: the coverage trio of AR-1/AR-6. */
export const DEFAULT_ENV_PASSTHROUGH = [
  "COVERAGE_PROCESS_START",
  "COVERAGE_RCFILE",
  "COVERAGE_FILE",
] as const;

function defaultLimitConfig(): SandboxLimitConfig {
  const L = SANDBOX_LIMITS;
  return {
    wallMsDefault: L.wallMs.default,
    wallMsMax: L.wallMs.max,
    memBytesDefault: L.memBytes.default,
    memBytesMax: L.memBytes.max,
    outputBytesDefault: L.outputBytes.default,
    outputBytesMax: L.outputBytes.max,
    pidsDefault: L.pids.default,
    pidsMax: L.pids.max,
    cpuMsMax: L.cpuMs.max,
    fileSizeBytes: L.fileSizeBytes.default,
    openFiles: L.openFiles.default,
    stdinBytesMax: L.stdinBytes.default,
    killGraceMs: L.killGraceMs.default,
    reapTimeoutMs: L.reapTimeoutMs.default,
    runsMax: L.runsMax.default,
    tenantRunsMax: L.tenantRunsMax.default,
    queuedRunsMax: L.queuedRunsMax.default,
    tenantQueuedRunsMax: L.tenantQueuedRunsMax.default,
    workspacesMax: L.workspacesMax.default,
    workspaceTtlMsDefault: L.workspaceTtlMs.default,
    workspaceTtlMsMax: L.workspaceTtlMs.max,
    tenantWorkspaceBytesMax: L.tenantWorkspaceBytes.default,
    tenantWorkspaceFilesMax: L.tenantWorkspaceFiles.default,
    uploadBytesMax: L.uploadBytes.default,
    checkpointsMax: L.checkpointsMax.default,
    dirEntriesMax: L.dirEntriesMax.default,
    workspaceSweepMs: L.workspaceSweepMs.default,
    networkConnectionsMax: L.networkConnectionsMax.default,
    networkIdleMs: L.networkIdleMs.default,
    networkBytesMax: L.networkBytesMax.default,
    networkHeaderBytesMax: L.networkHeaderBytesMax.default,
    networkRefusalLogsMax: L.networkRefusalLogsMax.default,
  };
}

/** The spec each config key is checked against. */
const CONFIG_SPEC: Record<keyof SandboxLimitConfig, LimitSpec> = {
  wallMsDefault: SANDBOX_LIMITS.wallMs,
  wallMsMax: SANDBOX_LIMITS.wallMs,
  memBytesDefault: SANDBOX_LIMITS.memBytes,
  memBytesMax: SANDBOX_LIMITS.memBytes,
  outputBytesDefault: SANDBOX_LIMITS.outputBytes,
  outputBytesMax: SANDBOX_LIMITS.outputBytes,
  pidsDefault: SANDBOX_LIMITS.pids,
  pidsMax: SANDBOX_LIMITS.pids,
  cpuMsMax: SANDBOX_LIMITS.cpuMs,
  fileSizeBytes: SANDBOX_LIMITS.fileSizeBytes,
  openFiles: SANDBOX_LIMITS.openFiles,
  stdinBytesMax: SANDBOX_LIMITS.stdinBytes,
  killGraceMs: SANDBOX_LIMITS.killGraceMs,
  reapTimeoutMs: SANDBOX_LIMITS.reapTimeoutMs,
  runsMax: SANDBOX_LIMITS.runsMax,
  tenantRunsMax: SANDBOX_LIMITS.tenantRunsMax,
  queuedRunsMax: SANDBOX_LIMITS.queuedRunsMax,
  tenantQueuedRunsMax: SANDBOX_LIMITS.tenantQueuedRunsMax,
  workspacesMax: SANDBOX_LIMITS.workspacesMax,
  workspaceTtlMsDefault: SANDBOX_LIMITS.workspaceTtlMs,
  workspaceTtlMsMax: SANDBOX_LIMITS.workspaceTtlMs,
  tenantWorkspaceBytesMax: SANDBOX_LIMITS.tenantWorkspaceBytes,
  tenantWorkspaceFilesMax: SANDBOX_LIMITS.tenantWorkspaceFiles,
  uploadBytesMax: SANDBOX_LIMITS.uploadBytes,
  checkpointsMax: SANDBOX_LIMITS.checkpointsMax,
  dirEntriesMax: SANDBOX_LIMITS.dirEntriesMax,
  workspaceSweepMs: SANDBOX_LIMITS.workspaceSweepMs,
  networkConnectionsMax: SANDBOX_LIMITS.networkConnectionsMax,
  networkIdleMs: SANDBOX_LIMITS.networkIdleMs,
  networkBytesMax: SANDBOX_LIMITS.networkBytesMax,
  networkHeaderBytesMax: SANDBOX_LIMITS.networkHeaderBytesMax,
  networkRefusalLogsMax: SANDBOX_LIMITS.networkRefusalLogsMax,
};

/**
 * Merges configured limits over the defaults and checks each against its floor and ceiling,
 * and each default against its configured maximum. Throws `config_invalid` naming the key.
 *
 * @example
 * ```ts
 * resolveLimitConfig({ wallMsDefault: 60_000 }).wallMsMax; // 3600000
 * ```
 */
export function resolveLimitConfig(partial: Partial<SandboxLimitConfig> = {}): SandboxLimitConfig {
  const merged: SandboxLimitConfig = { ...defaultLimitConfig() };
  for (const key of Object.keys(CONFIG_SPEC) as (keyof SandboxLimitConfig)[]) {
    const value = partial[key];
    if (value !== undefined) merged[key] = value;
    const spec = CONFIG_SPEC[key];
    const got = merged[key];
    if (!Number.isInteger(got) || got < spec.min || got > spec.max) {
      throw new VltairError("config_invalid", `sandbox limit ${key} out of range`, {
        details: { field: `sandbox.limits.${key}`, min: spec.min, max: spec.max, value: got },
      });
    }
  }
  const pairs: [keyof SandboxLimitConfig, keyof SandboxLimitConfig][] = [
    ["wallMsDefault", "wallMsMax"],
    ["memBytesDefault", "memBytesMax"],
    ["outputBytesDefault", "outputBytesMax"],
    ["pidsDefault", "pidsMax"],
    ["tenantRunsMax", "runsMax"],
    ["tenantQueuedRunsMax", "queuedRunsMax"],
    ["workspaceTtlMsDefault", "workspaceTtlMsMax"],
  ];
  for (const [def, max] of pairs) {
    if (merged[def] > merged[max]) {
      throw new VltairError("config_invalid", `sandbox limit ${def} exceeds ${max}`, {
        details: { field: `sandbox.limits.${def}`, max: merged[max], value: merged[def] },
      });
    }
  }
  assert(merged.wallMsDefault <= merged.wallMsMax, "wall default within its maximum");
  return merged;
}

/** Checks a configured `require` list (known keys, no duplicates); throws `config_invalid`. */
export function checkRequireList(keys: readonly string[]): EnforcedKey[] {
  const known = new Set<string>(ENFORCED_KEYS);
  const seen = new Set<string>();
  for (const key of keys) {
    if (!known.has(key) || seen.has(key)) {
      throw new VltairError("config_invalid", `sandbox_require: unknown or repeated limit ${key}`, {
        details: { field: "sandbox_require", value: key, allowed: [...ENFORCED_KEYS] },
      });
    }
    seen.add(key);
  }
  return [...seen] as EnforcedKey[];
}
