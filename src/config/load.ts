/**
 * Layered configuration: defaults < JSON config file < `VLTAIR_*` environment < flags.
 * Each layer is validated on its own so an error names the field, the reason and where the bad
 * value came from; the merged result is validated once more by the one schema.
 */
import * as v from "valibot";
import { VltairError } from "../core/mod.ts";
import { addSecret } from "../obs/mod.ts";
import {
  CONFIG_FIELDS,
  CONFIG_FILE_ENV,
  CONFIG_KEYS,
  type ConfigKey,
  type FieldKind,
  NON_OPTION_ENV,
} from "./fields.ts";
import { type Config, ConfigFileSchema, ConfigSchema } from "./schema.ts";

/** Where an option's value came from. */
export type ConfigOrigin = "default" | "file" | "env" | "flag";

/** Inputs of {@link loadConfig}; everything injected so tests need no real process state. */
export interface ConfigSources {
  /** Option values from parsed flags (strings, or `true` for a bare boolean flag). */
  flags: Partial<Record<ConfigKey, string | boolean>>;
  /** `--config FILE`, when given. */
  configFile?: string | undefined;
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
}

/** The validated configuration with the origin of each value and non-fatal warnings. */
export interface LoadedConfig {
  config: Config;
  origins: Record<ConfigKey, ConfigOrigin>;
  warnings: string[];
}

/** Config file size ceiling: a config is a few hundred bytes, anything near this is a mistake. */
const CONFIG_FILE_BYTES_MAX = 1024 * 1024;

/**
 * Loads and validates the configuration. Throws `VltairError("config_invalid")` whose message
 * names the field, the reason and the source; `details` has `field`, `source` and `reason`.
 *
 * @example
 * ```ts
 * const { config } = loadConfig({ flags: { port: "0" }, env: process.env, readFile });
 * ```
 */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const values = defaults();
  const origins = Object.fromEntries(
    CONFIG_KEYS.map((k) => [k, "default"]),
  ) as LoadedConfig["origins"];
  const filePath = sources.configFile ?? (sources.env[CONFIG_FILE_ENV] || undefined);
  if (filePath !== undefined) {
    for (const [key, value] of Object.entries(readConfigFile(filePath, sources.readFile))) {
      values[key as ConfigKey] = value;
      origins[key as ConfigKey] = "file";
    }
  }
  // Secrets (the options without a flag) are known to the redactor before anything is checked,
  // so no error message, log line or crash report can echo them.
  for (const key of CONFIG_KEYS) {
    if (CONFIG_FIELDS[key].flag !== null) continue;
    addSecret(sources.env[CONFIG_FIELDS[key].env]);
    const fromFile = values[key];
    if (typeof fromFile === "string") addSecret(fromFile);
  }
  for (const key of CONFIG_KEYS) {
    const raw = sources.env[CONFIG_FIELDS[key].env];
    // An empty variable (`VLTAIR_PORT=`) counts as unset, as in most tools and shells' `${X:-…}`.
    if (raw === undefined || raw === "") continue;
    values[key] = checkField(key, coerce(CONFIG_FIELDS[key].kind, raw), CONFIG_FIELDS[key].env);
    origins[key] = "env";
  }
  for (const key of CONFIG_KEYS) {
    const raw = sources.flags[key];
    const flag = CONFIG_FIELDS[key].flag;
    if (raw === undefined || flag === null) continue;
    const value = typeof raw === "boolean" ? raw : coerce(CONFIG_FIELDS[key].kind, raw);
    values[key] = checkField(key, value, `--${flag}`);
    origins[key] = "flag";
  }
  const parsed = v.safeParse(ConfigSchema, values);
  if (!parsed.success) throw fromIssues(parsed.issues, "merged configuration");
  checkCombination(parsed.output, origins);
  return { config: parsed.output, origins, warnings: unknownEnvWarnings(sources.env) };
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

function defaults(): Record<ConfigKey, unknown> {
  return Object.fromEntries(CONFIG_KEYS.map((k) => [k, CONFIG_FIELDS[k].default])) as Record<
    ConfigKey,
    unknown
  >;
}

function readConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> {
  const source = `config file ${path}`;
  let text: string;
  try {
    text = readFile(path);
  } catch (cause) {
    throw invalid("config", source, `cannot be read (${(cause as Error).message})`, cause);
  }
  if (text.length > CONFIG_FILE_BYTES_MAX) {
    throw invalid("config", source, `is larger than ${CONFIG_FILE_BYTES_MAX} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalid("config", source, `is not valid JSON (${(cause as Error).message})`, cause);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw invalid("config", source, "must be a JSON object");
  }
  const parsed = v.safeParse(ConfigFileSchema, json);
  if (!parsed.success) throw fromIssues(parsed.issues, source);
  for (const key of CONFIG_KEYS) {
    const field = CONFIG_FIELDS[key];
    // Secrets have no flag (flags show in `ps`) and no place in a file: environment only.
    if (field.flag === null && (parsed.output as Record<string, unknown>)[key] !== undefined) {
      throw invalid(key, source, `must come from ${field.env}, not a file`);
    }
  }
  return parsed.output;
}

function coerce(kind: FieldKind, raw: string): unknown {
  if (kind === "list") {
    return raw
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
  }
  if (kind === "json") {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  if (kind === "int") return /^-?\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (kind === "bool") {
    const lower = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(lower)) return true;
    if (["0", "false", "no", "off"].includes(lower)) return false;
  }
  return raw;
}

function checkField(key: ConfigKey, value: unknown, source: string): unknown {
  const parsed = v.safeParse(CONFIG_FIELDS[key].schema, value);
  if (!parsed.success) {
    throw invalid(key, source, parsed.issues[0]?.message ?? "is invalid");
  }
  return parsed.output;
}

function checkCombination(config: Config, origins: LoadedConfig["origins"]): void {
  if (config.no_auth && !isLoopbackHost(config.host)) {
    throw invalid(
      "no_auth",
      origins.no_auth,
      `is only allowed on a loopback host, and host is ${config.host}`,
    );
  }
}

function fromIssues(issues: readonly v.BaseIssue<unknown>[], source: string): VltairError {
  const first = issues[0];
  const field = first === undefined ? "config" : (v.getDotPath(first) ?? "config");
  return invalid(field, source, first?.message ?? "is invalid");
}

function invalid(field: string, source: string, reason: string, cause?: unknown): VltairError {
  return new VltairError("config_invalid", `${field}: ${reason} (from ${source})`, {
    details: { field, source, reason },
    cause,
  });
}

function unknownEnvWarnings(env: Record<string, string | undefined>): string[] {
  const known = new Set<string>(CONFIG_KEYS.map((k) => CONFIG_FIELDS[k].env));
  return Object.keys(env)
    .filter((name) => name.startsWith("VLTAIR_") && !known.has(name) && !NON_OPTION_ENV.has(name))
    .map((name) => `unknown environment variable ${name} ignored`);
}
