/**
 * Every configuration option, once: its flag, its environment variable, its default, its bounds
 * and the reason for them. The valibot schema, the CLI flags, `--help` and
 * docs/configuration.md are all derived from (or checked against) this table.
 */
import * as v from "valibot";
import { LOG_LEVELS } from "../obs/mod.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

/** How a string from a flag or the environment is turned into the option's type. */
export type FieldKind = "string" | "int" | "bool" | "enum";

interface FieldSpec {
  /** Long flag without dashes, or null when the option cannot be set by a flag (secrets). */
  flag: string | null;
  env: string;
  kind: FieldKind;
  default: string | number | boolean | null;
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
    doc: "Serve without tokens (every caller is admin of tenant default). Loopback hosts only.",
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
  tokens_max: {
    flag: "tokens-max",
    env: "VLTAIR_TOKENS_MAX",
    kind: "int",
    default: 10_000,
    doc: "Most active API tokens per data directory; creating one more gives 429 rate_limited.",
    schema: int(1, 1_000_000, "a count, 1 to 1000000"),
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
