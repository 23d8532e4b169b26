/**
 * Wire schemas of `POST /v1/sandbox/exec` (API.md, "Sandbox"): the request body and the result.
 *
 * Field names are snake_case as on the wire. The schema checks shape and absolute bounds only;
 * the configurable ceilings (which depend on `SandboxOptions`) are checked by `validateRequest`,
 * so one schema serves every configuration and the OpenAPI document.
 */
import * as v from "valibot";
import { ALLOW_PATTERNS_MAX, HOST_CHARS_MAX, HOST_PATTERN } from "./network-allow.ts";

/** Most argv entries a command may have; bounds the work of validation and quoting. */
export const CMD_ARGS_MAX = 4096;
/** Longest single argv entry or env value, in UTF-16 code units; Linux's MAX_ARG_STRLEN is 128 KiB. */
export const ARG_CHARS_MAX = 131072;
/** Most entries of the request's `env` object. */
export const ENV_ENTRIES_MAX = 256;
/** Longest cwd, in characters (PATH_MAX on Linux is 4096). */
export const CWD_CHARS_MAX = 4096;

const NO_NUL = /^[^\0]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const positiveInteger = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(1),
  v.maxValue(Number.MAX_SAFE_INTEGER),
);

/** `limits` of a request: each optional, each a positive integer with its unit in the name. */
export const SandboxLimitsSchema = v.strictObject({
  wall_ms: v.optional(positiveInteger),
  mem_bytes: v.optional(positiveInteger),
  output_bytes: v.optional(positiveInteger),
  pids: v.optional(positiveInteger),
  cpu_ms: v.optional(positiveInteger),
});

/**
 * `network: {"allow": [...]}`: host names (`registry.npmjs.org`) and `*.` suffix wildcards
 * (`*.pythonhosted.org`) reached through the server's proxy; nothing else is reachable.
 */
export const NetworkAllowSchema = v.strictObject({
  allow: v.pipe(
    v.array(
      v.pipe(
        v.string(),
        v.maxLength(HOST_CHARS_MAX),
        v.regex(HOST_PATTERN, "must be a host name or *.suffix"),
      ),
    ),
    v.minLength(1, "network.allow must not be empty"),
    v.maxLength(ALLOW_PATTERNS_MAX),
  ),
});

/** Body of `POST /v1/sandbox/exec`. */
export const SandboxRequestSchema = v.strictObject({
  cmd: v.pipe(
    v.array(v.pipe(v.string(), v.maxLength(ARG_CHARS_MAX), v.regex(NO_NUL, "contains NUL"))),
    v.minLength(1, "cmd must not be empty"),
    v.maxLength(CMD_ARGS_MAX),
    v.check((cmd) => (cmd[0] ?? "").length > 0, "cmd[0] must not be empty"),
  ),
  cwd: v.optional(v.pipe(v.string(), v.maxLength(CWD_CHARS_MAX), v.regex(NO_NUL, "contains NUL"))),
  env: v.optional(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(ENV_NAME, "invalid environment variable name")),
        v.pipe(v.string(), v.maxLength(ARG_CHARS_MAX), v.regex(NO_NUL, "contains NUL")),
      ),
      v.check((env) => Object.keys(env).length <= ENV_ENTRIES_MAX, "too many env entries"),
    ),
  ),
  stdin: v.optional(v.string()),
  limits: v.optional(SandboxLimitsSchema),
  network: v.optional(v.union([v.picklist(["deny", "allow"]), NetworkAllowSchema]), "deny"),
  allow_partial: v.optional(v.boolean(), true),
});

/** What a client sends (optional fields may be absent). */
export type SandboxRequest = v.InferInput<typeof SandboxRequestSchema>;
/** The request after parsing (defaults filled in). */
export type SandboxRequestParsed = v.InferOutput<typeof SandboxRequestSchema>;

/** Every status of a run, exactly as API.md lists them. */
export const SANDBOX_STATUSES = [
  "OK",
  "FAILED",
  "TIMEOUT",
  "MEM_LIMIT",
  "OUTPUT_LIMIT",
  "KILLED",
  "SANDBOX_DENIED",
  "INTERNAL_ERROR",
] as const;

/**
 * Keys of the `enforced` report, in report order. The first five are API.md's; `hidden_paths`
 * reports the server paths (`SandboxOptions.hiddenPaths`) masked from the run.
 */
export const ENFORCED_KEYS = [
  "timeout",
  "memory",
  "pids",
  "network",
  "filesystem",
  "cpu",
  "file_size",
  "open_files",
  "process_tree",
  "hidden_paths",
] as const;

/** One entry of the `enforced` report: what was asked, whether it holds, how, and why (not). */
export const EnforcedEntrySchema = v.strictObject({
  /** A number or string for a limit; the list of paths for `hidden_paths`; null when not asked. */
  requested: v.union([v.number(), v.string(), v.array(v.string()), v.null()]),
  applied: v.boolean(),
  mechanism: v.string(),
  reason: v.string(),
});

/** The `enforced` report: one entry per limit, applied or not. */
export const EnforcedReportSchema = v.strictObject({
  timeout: EnforcedEntrySchema,
  memory: EnforcedEntrySchema,
  pids: EnforcedEntrySchema,
  network: EnforcedEntrySchema,
  filesystem: EnforcedEntrySchema,
  cpu: EnforcedEntrySchema,
  file_size: EnforcedEntrySchema,
  open_files: EnforcedEntrySchema,
  process_tree: EnforcedEntrySchema,
  /** Server paths masked from the run (secrets such as the admin token). */
  hidden_paths: EnforcedEntrySchema,
});

/** Result of a run (200 body of `POST /v1/sandbox/exec`). */
export const SandboxResultSchema = v.strictObject({
  status: v.picklist(SANDBOX_STATUSES),
  rc: v.pipe(v.number(), v.integer()),
  stdout: v.string(),
  stderr: v.string(),
  stdout_truncated: v.boolean(),
  stderr_truncated: v.boolean(),
  duration_ms: v.pipe(v.number(), v.minValue(0)),
  max_rss_bytes: v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.null()]),
  /**
   * User + system CPU time of every process of the run, integer ms (the run's cgroup); null
   * when this host cannot measure it (see the capability report's `cpu_usage`).
   */
  cpu_ms: v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.null()]),
  enforced: EnforcedReportSchema,
  /** Connections the run's network allowlist refused (null: the run had no allowlist). */
  network_refused: v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.null()]),
  /** Stable, low-cardinality reason for a non-OK/FAILED status (e.g. `limit_not_applied:memory`). */
  reason: v.union([v.string(), v.null()]),
  trace_id: v.string(),
});

/** A run's status. */
export type SandboxStatus = (typeof SANDBOX_STATUSES)[number];
/** Key of the `enforced` report. */
export type EnforcedKey = (typeof ENFORCED_KEYS)[number];
/** One `enforced` entry. */
export type EnforcedEntry = v.InferOutput<typeof EnforcedEntrySchema>;
/** The whole `enforced` report. */
export type EnforcedReport = v.InferOutput<typeof EnforcedReportSchema>;
/** Result of a run, wire shape. */
export type SandboxResult = v.InferOutput<typeof SandboxResultSchema>;
