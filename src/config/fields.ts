/**
 * Every configuration option, once: its flag, its environment variable, its default, its bounds
 * and the reason for them. The valibot schema, the CLI flags, `--help` and
 * docs/configuration.md are all derived from (or checked against) this table.
 */
import { isIP } from "node:net";
import * as v from "valibot";
import { LOG_LEVELS } from "../obs/mod.ts";

/** A host name or a `*.` suffix wildcard; the last label holds a letter (no IP address). */
const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]*[a-z][a-z0-9-]*$/i;

const KIB = 1024;
const MIB = 1024 * KIB;

/** How a string from a flag or the environment is turned into the option's type. */
export type FieldKind = "string" | "int" | "bool" | "enum" | "list" | "json";

interface FieldSpec {
  /** Long flag without dashes, or null when the option cannot be set by a flag (secrets). */
  flag: string | null;
  env: string;
  kind: FieldKind;
  default: string | number | boolean | null | readonly string[] | Record<string, never>;
  doc: string;
  schema: v.GenericSchema;
}

const int = (min: number, max: number, what: string) =>
  v.pipe(
    v.number(`must be an integer (${what})`),
    v.integer(`must be an integer (${what})`),
    v.minValue(min, `must be >= ${min} (${what})`),
    v.maxValue(max, `must be <= ${max} (${what})`),
  );

/** The option table. Keys are the snake_case names used in the JSON config file. */
export const CONFIG_FIELDS = {
  host: {
    flag: "host",
    env: "VLTAIR_HOST",
    kind: "string",
    default: "127.0.0.1",
    doc: "Address to bind. Loopback by default so nothing is exposed without intent.",
    schema: v.pipe(
      v.string("must be a string"),
      v.minLength(1, "must not be empty"),
      v.maxLength(253, "must be at most 253 characters (a DNS name's limit)"),
    ),
  },
  port: {
    flag: "port",
    env: "VLTAIR_PORT",
    kind: "int",
    default: 7700,
    doc: "TCP port; 0 picks a free port (the real one is in the server.listening line).",
    schema: int(0, 65535, "a TCP port"),
  },
  data_dir: {
    flag: "data-dir",
    env: "VLTAIR_DATA_DIR",
    kind: "string",
    default: "./.vltair",
    doc: "Data directory: WAL, snapshots, tokens, admin.token.",
    schema: v.pipe(
      v.string("must be a string"),
      v.minLength(1, "must not be empty"),
      v.maxLength(4096, "must be at most 4096 characters (PATH_MAX)"),
    ),
  },
  no_auth: {
    flag: "no-auth",
    env: "VLTAIR_NO_AUTH",
    kind: "bool",
    default: false,
    doc: "Serve without tokens (every caller is the operator, at home in tenant default). Loopback hosts only.",
    schema: v.boolean("must be true or false"),
  },
  log_level: {
    flag: "log-level",
    env: "VLTAIR_LOG_LEVEL",
    kind: "enum",
    default: "info",
    doc: `Lowest level written: ${LOG_LEVELS.join(", ")}.`,
    schema: v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`),
  },
  body_bytes_max: {
    flag: "body-bytes-max",
    env: "VLTAIR_BODY_BYTES_MAX",
    kind: "int",
    default: 16 * MIB,
    doc: "Largest request body accepted; larger ones get 413 payload_too_large and apply nothing. Ceiling 1 GiB: a body is held in memory while it is validated.",
    schema: int(1 * KIB, 1024 * MIB, "bytes, 1 KiB to 1 GiB"),
  },
  shutdown_grace_ms: {
    flag: "shutdown-grace-ms",
    env: "VLTAIR_SHUTDOWN_GRACE_MS",
    kind: "int",
    default: 10_000,
    doc: "On SIGTERM/SIGINT, how long in-flight requests may finish before they are cut. Ceiling 10 min.",
    schema: int(0, 600_000, "milliseconds, 0 to 600000"),
  },
  policy_fail_open: {
    flag: "policy-fail-open",
    env: "VLTAIR_POLICY_FAIL_OPEN",
    kind: "bool",
    default: false,
    doc: "Allow requests when no policy set can decide (engine not loaded, a stored set invalid) instead of denying policy_invalid; logged as a warning at start and on every decision it opens.",
    schema: v.boolean("must be true or false"),
  },
  tokens_max: {
    flag: "tokens-max",
    env: "VLTAIR_TOKENS_MAX",
    kind: "int",
    default: 10_000,
    doc: "Most active API tokens per data directory; creating one more gives 429 rate_limited.",
    schema: int(1, 1_000_000, "a count, 1 to 1000000"),
  },
  audit_retention_days: {
    flag: "audit-retention-days",
    env: "VLTAIR_AUDIT_RETENTION_DAYS",
    kind: "int",
    default: 90,
    doc: "Audit records older than this many days are compacted (hourly) behind an anchor that keeps the rest of each chain verifiable.",
    schema: int(1, 36_500, "days, 1 to 36500"),
  },
  audit_records_max: {
    flag: "audit-records-max",
    env: "VLTAIR_AUDIT_RECORDS_MAX",
    kind: "int",
    default: 200_000,
    doc: "Most audit records kept per tenant (they are held in memory and in snapshots); the oldest beyond it are compacted like expired ones.",
    schema: int(100, 10_000_000, "records, 100 to 10000000"),
  },
  wal_fsync: {
    flag: "wal-fsync",
    env: "VLTAIR_WAL_FSYNC",
    kind: "string",
    default: "always",
    doc: "When a write is forced to disk before its 2xx: always (default), interval:<ms> (1..60000; a crash may lose that window), none (tests and benchmarks only).",
    schema: v.pipe(
      v.string("must be a string"),
      v.regex(/^(always|none|interval:\d{1,6})$/, "must be always, none or interval:<ms>"),
    ),
  },
  storage_limits: {
    flag: "storage-limits",
    env: "VLTAIR_STORAGE_LIMITS",
    kind: "json",
    default: {},
    doc: 'WAL and snapshot sizes and thresholds as a JSON object, e.g. `{"snapshot_every_bytes":0}`; keys and bounds in docs/configuration.md.',
    schema: v.record(
      v.pipe(v.string(), v.regex(/^[a-z_]+$/, "keys are snake_case")),
      v.pipe(v.number("values must be integers"), v.integer("values must be integers")),
      "must be a JSON object of integers",
    ),
  },
  sandbox_workspace: {
    flag: "sandbox-workspace",
    env: "VLTAIR_SANDBOX_WORKSPACE",
    kind: "string",
    default: "{data_dir}/workspaces/{tenant}",
    doc: "Workspace of sandbox runs; `{tenant}` and `{data_dir}` are substituted. Without `{tenant}` every tenant shares one workspace: single-tenant setups only.",
    schema: v.pipe(
      v.string("must be a string"),
      v.minLength(1, "must not be empty"),
      v.maxLength(4096, "must be at most 4096 characters (PATH_MAX)"),
    ),
  },
  sandbox_temp_dir: {
    flag: "sandbox-temp-dir",
    env: "VLTAIR_SANDBOX_TEMP_DIR",
    kind: "string",
    default: null,
    doc: "Where each run's `vltair-<traceId>-<n>` temp dir is made; null: the OS temp dir.",
    schema: v.nullable(
      v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty"), v.maxLength(4096)),
    ),
  },
  sandbox_network_allow: {
    flag: "sandbox-network-allow",
    env: "VLTAIR_SANDBOX_NETWORK_ALLOW",
    kind: "bool",
    default: true,
    doc: 'Whether a run may ask for `network:"allow"` (the request default is deny); false answers such runs SANDBOX_DENIED.',
    schema: v.boolean("must be true or false"),
  },
  sandbox_network_allow_domains: {
    flag: "sandbox-network-allow-domains",
    env: "VLTAIR_SANDBOX_NETWORK_ALLOW_DOMAINS",
    kind: "list",
    default: [],
    doc: 'Host names a run may list in `network:{"allow":[…]}` (comma-separated; exact names and `*.` suffix wildcards such as `*.pythonhosted.org`); a request listing a host outside them is 403 forbidden. Empty: no allowlist runs.',
    schema: v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.maxLength(253, "must be host names of at most 253 characters"),
          v.regex(HOST_NAME, "must be host names or *.suffix wildcards"),
        ),
      ),
      v.maxLength(256, "must list at most 256 hosts"),
    ),
  },
  sandbox_network_resolve: {
    flag: "sandbox-network-resolve",
    env: "VLTAIR_SANDBOX_NETWORK_RESOLVE",
    kind: "json",
    default: {},
    doc: 'For tests only: host name → `"ip:port"` the allowlist proxy connects to instead of resolving the name (and whatever port was asked), e.g. `{"a.test":"127.0.0.1:8080"}`, so tests reach loopback servers and never the internet.',
    schema: v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(/^[a-z0-9.-]{1,253}$/, "keys are lower-case host names")),
        v.pipe(v.string(), v.regex(/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/, 'values are "ipv4:port"')),
        "must be a JSON object of host names to ipv4:port",
      ),
      v.check((m) => Object.keys(m).length <= 256, "must map at most 256 names"),
    ),
  },
  sandbox_env_passthrough: {
    flag: "sandbox-env-passthrough",
    env: "VLTAIR_SANDBOX_ENV_PASSTHROUGH",
    kind: "list",
    default: ["COVERAGE_PROCESS_START", "COVERAGE_RCFILE", "COVERAGE_FILE"],
    doc: "Server environment variables copied into every run when set (comma-separated). Nothing else of the server's environment reaches a run.",
    schema: v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be environment variable names"),
        ),
      ),
      v.maxLength(64, "must name at most 64 variables"),
    ),
  },
  sandbox_disable: {
    flag: "sandbox-disable",
    env: "VLTAIR_SANDBOX_DISABLE",
    kind: "list",
    default: [],
    doc: "Sandbox mechanisms to switch off (comma-separated): bubblewrap, unshare, cgroup_v2, cgroup_v1, prlimit (all rlimits, whether set by the shell's ulimit or by prlimit). Runs then report them as not applied.",
    schema: v.array(
      v.picklist(
        ["bubblewrap", "unshare", "cgroup_v2", "cgroup_v1", "prlimit"],
        "must be bubblewrap, unshare, cgroup_v2, cgroup_v1 or prlimit",
      ),
    ),
  },
  sandbox_require: {
    flag: "sandbox-require",
    env: "VLTAIR_SANDBOX_REQUIRE",
    kind: "list",
    default: ["filesystem", "pids", "timeout", "process_tree"],
    doc: "Limits every sandbox run must have (comma-separated `enforced` keys: timeout, memory, pids, network, filesystem, cpu, file_size, open_files, process_tree, hidden_paths); a run for which one cannot be applied here is refused with SANDBOX_DENIED naming it and how to get it, and nothing runs. hidden_paths (the data directory) is always required.",
    schema: v.array(
      v.picklist(
        [
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
        ],
        "must be enforced keys: timeout, memory, pids, network, filesystem, cpu, file_size, open_files, process_tree, hidden_paths",
      ),
    ),
  },
  sandbox_allow_partial: {
    flag: "sandbox-allow-partial",
    env: "VLTAIR_SANDBOX_ALLOW_PARTIAL",
    kind: "bool",
    default: false,
    doc: "Whether a request's `allow_partial:true` may waive `sandbox_require` (never the hidden data directory). false: every run has the required limits or is refused.",
    schema: v.boolean("must be true or false"),
  },
  sandbox_limits: {
    flag: "sandbox-limits",
    env: "VLTAIR_SANDBOX_LIMITS",
    kind: "json",
    default: {},
    doc: 'Sandbox limit defaults and ceilings as a JSON object, e.g. `{"wall_ms_max":60000}`; keys and bounds in docs/configuration.md.',
    schema: v.record(
      v.pipe(v.string(), v.regex(/^[a-z_]+$/, "keys are snake_case")),
      v.pipe(v.number("values must be integers"), v.integer("values must be integers")),
      "must be a JSON object of integers",
    ),
  },
  vector_thread: {
    flag: "vector-thread",
    env: "VLTAIR_VECTOR_THREAD",
    kind: "bool",
    default: true,
    doc: "Whether vector indexes use a helper thread: a batch's HNSW insertion runs there while the main thread indexes the texts (batches applied while it is busy wait in the tenant's store, up to 4,096 vectors, and follow as one batch: ADR 0025), and the dense half of an unfiltered hybrid search runs there beside the sparse half. false keeps all vector work on the main thread; results are identical either way.",
    schema: v.boolean("must be true or false"),
  },
  text_tokenizer: {
    flag: "text-tokenizer",
    env: "VLTAIR_TEXT_TOKENIZER",
    kind: "enum",
    default: "code",
    doc: "Tokenizer of a tenant's full-text index, fixed when the tenant first writes: code (splits camelCase, snake_case, dotted.paths, kebab-case and keeps the whole identifier) or unicode61 (SQLite FTS5's default).",
    schema: v.picklist(["code", "unicode61"], "must be code or unicode61"),
  },
  embedder: {
    flag: "embedder",
    env: "VLTAIR_EMBEDDER",
    kind: "json",
    default: {},
    doc: 'Embedder as a JSON object: `{"provider":"hash","dimensions":384}` (default: offline, lexical), `{"provider":"none"}` (clients send vectors) or `{"provider":"openai","base_url":"http://127.0.0.1:11434","model":"nomic-embed-text","dimensions":768}` with optional `batch_size`, `timeout_ms`, `retries`, `backoff_ms`, and for hash `model` (hash-v2 default, hash-v1); keys in docs/configuration.md.',
    schema: v.record(
      v.pipe(v.string(), v.regex(/^[a-z_]+$/, "keys are snake_case")),
      v.union([v.string(), v.number()], "values are strings or numbers"),
      "must be a JSON object",
    ),
  },
  embedder_api_key: {
    flag: null,
    env: "VLTAIR_EMBEDDER_API_KEY",
    kind: "string",
    default: null,
    doc: "Bearer token sent to the openai embedder. Environment only; never logged.",
    schema: v.nullable(
      v.pipe(
        v.string("must be a string"),
        v.minLength(1, "must not be empty"),
        v.maxLength(4096, "must be at most 4096 characters"),
      ),
    ),
  },
  context_limits: {
    flag: "context-limits",
    env: "VLTAIR_CONTEXT_LIMITS",
    kind: "json",
    default: {},
    doc: 'Context engine limits as a JSON object, e.g. `{"batch_items_max":500,"k_max":100}`; keys and bounds in docs/configuration.md.',
    schema: v.record(
      v.pipe(v.string(), v.regex(/^[a-z_]+$/, "keys are snake_case")),
      v.pipe(v.number("values must be integers"), v.integer("values must be integers")),
      "must be a JSON object of integers",
    ),
  },
  mcp_limits: {
    flag: "mcp-limits",
    env: "VLTAIR_MCP_LIMITS",
    kind: "json",
    default: {},
    doc: 'MCP server limits (`/mcp` and `vltair mcp`) as a JSON object, e.g. `{"sessions_max":16}`; keys and bounds in docs/configuration.md.',
    schema: v.record(
      v.pipe(v.string(), v.regex(/^[a-z_]+$/, "keys are snake_case")),
      v.pipe(v.number("values must be integers"), v.integer("values must be integers")),
      "must be a JSON object of integers",
    ),
  },
  rate_limits: {
    flag: "rate-limits",
    env: "VLTAIR_RATE_LIMITS",
    kind: "json",
    default: {},
    doc: 'Request limits as a JSON object, e.g. `{"requests_per_s":50,"burst":100}`: a token bucket per token and concurrent requests per tenant; past either, `429 rate_limited` with `Retry-After`. Keys and bounds in docs/configuration.md.',
    schema: v.record(
      v.pipe(v.string(), v.regex(/^[a-z_]+$/, "keys are snake_case")),
      v.pipe(v.number("values must be integers"), v.integer("values must be integers")),
      "must be a JSON object of integers",
    ),
  },
  mcp_allowed_origins: {
    flag: "mcp-allowed-origins",
    env: "VLTAIR_MCP_ALLOWED_ORIGINS",
    kind: "list",
    default: [],
    doc: "Browser origins (e.g. `https://app.example.com`) allowed to call `/mcp` besides the server's own (comma-separated). Requests from any other Origin, and to a non-loopback Host on a loopback server, are refused (403): DNS-rebinding protection.",
    schema: v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.regex(/^https?:\/\/[^/\s]+$/, "must be origins like https://host:port"),
        ),
      ),
      v.maxLength(64, "at most 64 origins"),
    ),
  },
  http_allowed_hosts: {
    flag: "http-allowed-hosts",
    env: "VLTAIR_HTTP_ALLOWED_HOSTS",
    kind: "list",
    default: [],
    doc: "Hosts `http` steps of runs may reach (comma-separated): exact names, `*.` suffix wildcards such as `*.example.com` (subdomains only), and IP addresses, which match only when listed exactly (a wildcard never admits an address). Any port. Empty: every `http` step fails `http_host_denied`. See docs/orchestrator.md.",
    schema: v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.maxLength(253, "must be host names of at most 253 characters"),
          v.check(
            (host) => HOST_NAME.test(host) || isIP(host.replace(/^\[(.*)\]$/, "$1")) !== 0,
            "must be host names, *.suffix wildcards or IP addresses",
          ),
        ),
      ),
      v.maxLength(256, "must list at most 256 hosts"),
    ),
  },
  orchestrator_limits: {
    flag: "orchestrator-limits",
    env: "VLTAIR_ORCHESTRATOR_LIMITS",
    kind: "json",
    default: {},
    doc: 'Orchestrator limits as a JSON object, e.g. `{"runs_active_max":32,"steps_running_max":8}`; keys and bounds in docs/configuration.md.',
    schema: v.record(
      v.pipe(v.string(), v.regex(/^[a-z_]+$/, "keys are snake_case")),
      v.pipe(v.number("values must be integers"), v.integer("values must be integers")),
      "must be a JSON object of integers",
    ),
  },
  llm_providers: {
    flag: "llm-providers",
    env: "VLTAIR_LLM_PROVIDERS",
    kind: "json",
    default: {},
    doc: 'Model providers of `llm` and `agent` steps as a JSON object by name, each `{"base_url", "api_key_env"?, "models"?, "prices"?, "timeout_ms"?, "max_tokens_default"?}`: an OpenAI-compatible server (`{base_url}/chat/completions`), the NAME of the environment variable holding its key (never the key), the models steps may name, and prices per million tokens `{"MODEL": {"input_usd_per_mtok", "output_usd_per_mtok"}}`. See docs/orchestrator.md.',
    schema: v.record(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9_-]{1,64}$/, "provider names are 1-64 letters, digits, _ or -"),
      ),
      v.strictObject({
        base_url: v.pipe(
          v.string("must be a URL"),
          v.regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL"),
          v.maxLength(2048),
        ),
        api_key_env: v.optional(
          v.pipe(
            v.string(),
            v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be an environment variable name"),
          ),
        ),
        models: v.optional(
          v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(256))), v.maxLength(1000)),
        ),
        prices: v.optional(
          v.record(
            v.string(),
            v.strictObject({
              input_usd_per_mtok: v.pipe(v.number(), v.minValue(0), v.maxValue(1e6)),
              output_usd_per_mtok: v.pipe(v.number(), v.minValue(0), v.maxValue(1e6)),
            }),
          ),
        ),
        timeout_ms: v.optional(int(1, 3_600_000, "a model call's timeout")),
        max_tokens_default: v.optional(int(1, 1_000_000, "max_tokens of a call that names none")),
      }),
      "must be a JSON object of providers by name",
    ),
  },
  admin_token: {
    flag: null,
    env: "VLTAIR_ADMIN_TOKEN",
    kind: "string",
    default: null,
    doc: "Admin token of tenant default. Environment only (flags show in `ps`). Unset: a random one is created once in DATA_DIR/admin.token (mode 0600).",
    schema: v.nullable(
      v.pipe(
        v.string("must be a string"),
        v.minLength(16, "must be at least 16 characters"),
        v.maxLength(512, "must be at most 512 characters"),
        v.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"),
      ),
    ),
  },
} as const satisfies Record<string, FieldSpec>;

export type ConfigKey = keyof typeof CONFIG_FIELDS;

/** Every option key, in table order. */
export const CONFIG_KEYS = Object.keys(CONFIG_FIELDS) as ConfigKey[];

/** Flag and environment variable of the config file path itself. */
export const CONFIG_FILE_FLAG = "config";
export const CONFIG_FILE_ENV = "VLTAIR_CONFIG";

/** Environment variables with the VLTAIR_ prefix that are not options (no warning for them). */
export const NON_OPTION_ENV = new Set([
  CONFIG_FILE_ENV,
  "VLTAIR_SLOW",
  "VLTAIR_URL",
  "VLTAIR_TOKEN",
]);
