/**
 * Options of the sandbox, the table of its configurable limits (default, floor, ceiling, reason)
 * and their resolution into one frozen, asserted value.
 */
import { type LimitRelation, LimitTable, VltairError } from "../core/mod.ts";
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

const MIB = 1024 * 1024;

/** `a` must not exceed `b` (a default its maximum, a tenant's bound the server's). */
function atMost(
  a: keyof SandboxLimitConfig,
  b: keyof SandboxLimitConfig,
): LimitRelation<keyof SandboxLimitConfig> {
  const name = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return { holds: (v) => v[a] <= v[b], message: `must be at most ${name(b)}`, key: a };
}

/**
 * Every sandbox limit with its default, bounds, unit and reason (docs/configuration.md's
 * `sandbox_limits` table is checked against it). Request limits come in pairs: `<name>Default`
 * when the request does not ask, `<name>Max` the most it may ask; the request's floor is the
 * pair's `min`. Keys are the camelCase config names.
 */
export const SANDBOX_LIMITS = new LimitTable<keyof SandboxLimitConfig>(
  "sandbox_limits",
  {
    wallMsDefault: {
      default: 30_000,
      min: 1,
      max: 3_600_000,
      unit: "ms",
      reason: "wall time of a run that does not set `limits.wall_ms`: a test suite fits in 30 s",
    },
    wallMsMax: {
      default: 3_600_000,
      min: 1,
      max: 3_600_000,
      unit: "ms",
      reason:
        "most `limits.wall_ms` a request may ask; one hour bounds how long a run can hold a slot",
    },
    memBytesDefault: {
      default: 512 * MIB,
      min: 16 * MIB,
      max: 16 * 1024 * MIB,
      unit: "bytes",
      reason:
        "memory of a run that does not set `limits.mem_bytes`: fits an interpreter plus tests; below 16 MiB even a shell fails to start",
    },
    memBytesMax: {
      default: 16 * 1024 * MIB,
      min: 16 * MIB,
      max: 16 * 1024 * MIB,
      unit: "bytes",
      reason: "most `limits.mem_bytes` a request may ask",
    },
    outputBytesDefault: {
      default: MIB,
      min: 16,
      max: 64 * MIB,
      unit: "bytes",
      reason:
        "per stream, when the request does not set `limits.output_bytes`; the server holds at most this many bytes of each stream in memory",
    },
    outputBytesMax: {
      default: 64 * MIB,
      min: 16,
      max: 64 * MIB,
      unit: "bytes",
      reason: "most `limits.output_bytes` a request may ask",
    },
    pidsDefault: {
      default: 64,
      min: 8,
      max: 4096,
      unit: "processes",
      reason:
        "processes of a run that does not set `limits.pids`: a command needs a few to start at all; 64 runs a parallel test suite",
    },
    pidsMax: {
      default: 4096,
      min: 8,
      max: 4096,
      unit: "processes",
      reason: "most `limits.pids` a request may ask",
    },
    cpuMsMax: {
      default: 3_600_000,
      min: 1,
      max: 3_600_000,
      unit: "ms",
      reason:
        "most `limits.cpu_ms` a request may ask (not limited unless asked); enforced per process with one-second granularity",
    },
    fileSizeBytes: {
      default: 1024 * MIB,
      min: MIB,
      max: 64 * 1024 * MIB,
      unit: "bytes",
      reason: "largest file a run may write (RLIMIT_FSIZE); stops a runaway log filling the disk",
    },
    openFiles: {
      default: 1024,
      min: 64,
      max: 65_536,
      unit: "descriptors",
      reason: "RLIMIT_NOFILE per process; 1024 is the usual soft limit of a login shell",
    },
    stdinBytesMax: {
      default: MIB,
      min: 0,
      max: 64 * MIB,
      unit: "bytes",
      reason: "largest `stdin` of a request; it is held in memory while the run starts",
    },
    killGraceMs: {
      default: 2000,
      min: 0,
      max: 30_000,
      unit: "ms",
      reason: "time between SIGTERM and SIGKILL on timeout or limit, for test runners to clean up",
    },
    reapTimeoutMs: {
      default: 5000,
      min: 100,
      max: 60_000,
      unit: "ms",
      reason:
        "how long the sandbox waits for killed processes to vanish before reporting survivors",
    },
    runsMax: {
      default: 16,
      min: 1,
      max: 1024,
      unit: "runs",
      reason:
        "runs at once on the server (all tenants); each may hold mem_bytes and pids: 16 \u00d7 512 MiB = 8 GiB",
    },
    tenantRunsMax: {
      default: 4,
      min: 1,
      max: 1024,
      unit: "runs",
      reason: "runs at once per tenant, so one tenant cannot take every slot",
    },
    queuedRunsMax: {
      default: 64,
      min: 0,
      max: 10_000,
      unit: "runs",
      reason:
        "runs waiting for a slot on the server; past it 429 queue_full with Retry-After (0: never wait)",
    },
    tenantQueuedRunsMax: {
      default: 16,
      min: 0,
      max: 10_000,
      unit: "runs",
      reason: "runs waiting per tenant, so one tenant cannot fill the queue",
    },
    workspacesMax: {
      default: 32,
      min: 1,
      max: 10_000,
      unit: "workspaces",
      reason:
        "named workspaces per tenant (the default workspace is not counted); each holds a tree on disk",
    },
    workspaceTtlMsDefault: {
      default: 86_400_000,
      min: 1000,
      max: 2_592_000_000,
      unit: "ms",
      reason: "lifetime of a named workspace that does not set `ttl_ms`: a day",
    },
    workspaceTtlMsMax: {
      default: 2_592_000_000,
      min: 1000,
      max: 2_592_000_000,
      unit: "ms",
      reason: "most `ttl_ms` a workspace may ask: 30 days",
    },
    tenantWorkspaceBytesMax: {
      default: 10 * 1024 * MIB,
      min: MIB,
      max: 16 * 1024 * 1024 * MIB,
      unit: "bytes",
      reason:
        "bytes of regular files per tenant, every workspace and the checkpoint store together",
    },
    tenantWorkspaceFilesMax: {
      default: 200_000,
      min: 16,
      max: 10_000_000,
      unit: "files",
      reason:
        "files, directories and links per tenant (workspaces and checkpoint store); bounds every walk of a tree",
    },
    uploadBytesMax: {
      default: 16 * MIB,
      min: 1,
      max: 1024 * MIB,
      unit: "bytes",
      reason:
        "largest file of one PUT (body_bytes_max bounds it too); streamed to disk, never held in memory",
    },
    checkpointsMax: {
      default: 32,
      min: 1,
      max: 1024,
      unit: "checkpoints",
      reason: "checkpoints kept per workspace; each pins the blobs it names in the tenant's store",
    },
    dirEntriesMax: {
      default: 10_000,
      min: 1,
      max: 1_000_000,
      unit: "entries",
      reason:
        "entries of one directory listing (GET of a directory); past it the listing says truncated",
    },
    workspaceSweepMs: {
      default: 60_000,
      min: 1000,
      max: 3_600_000,
      unit: "ms",
      reason: "how often expired workspaces are looked for and deleted",
    },
    networkConnectionsMax: {
      default: 64,
      min: 1,
      max: 1024,
      unit: "connections",
      reason:
        "connections through a run's network allowlist proxy open at once; more are answered 503",
    },
    networkIdleMs: {
      default: 60_000,
      min: 1000,
      max: 3_600_000,
      unit: "ms",
      reason: "a proxied connection with nothing sent either way this long is closed",
    },
    networkBytesMax: {
      default: 1024 * MIB,
      min: MIB,
      max: 64 * 1024 * MIB,
      unit: "bytes",
      reason:
        "bytes a run's proxy relays, both directions together; past it every connection of the run is closed",
    },
    networkHeaderBytesMax: {
      default: 16 * 1024,
      min: 1024,
      max: MIB,
      unit: "bytes",
      reason: "largest request head the proxy reads (request line and headers); past it 431",
    },
    networkRefusalLogsMax: {
      default: 32,
      min: 0,
      max: 10_000,
      unit: "log lines",
      reason:
        "refused proxy requests logged per run (sandbox.network.refused); all are counted in network_refused",
    },
  },
  [
    atMost("wallMsDefault", "wallMsMax"),
    atMost("memBytesDefault", "memBytesMax"),
    atMost("outputBytesDefault", "outputBytesMax"),
    atMost("pidsDefault", "pidsMax"),
    atMost("tenantRunsMax", "runsMax"),
    atMost("tenantQueuedRunsMax", "queuedRunsMax"),
    atMost("workspaceTtlMsDefault", "workspaceTtlMsMax"),
  ],
);

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

/**
 * The configured limits over the defaults, each within its bounds and every default within its
 * maximum (a tenant's bound within the server's). Throws `config_invalid` naming
 * `sandbox_limits.<snake_key>`.
 *
 * @example
 * ```ts
 * resolveLimitConfig({ wallMsDefault: 60_000 }).wallMsMax; // 3600000
 * ```
 */
export function resolveLimitConfig(partial: Partial<SandboxLimitConfig> = {}): SandboxLimitConfig {
  return SANDBOX_LIMITS.resolve(partial);
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
