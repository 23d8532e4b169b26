/**
 * Strict flag parsing over `node:util` `parseArgs` (portable to Bun, Deno and Node): unknown
 * flags, missing values and stray positionals are usage errors (exit 2) naming the flag.
 */
import { parseArgs } from "node:util";
import {
  CONFIG_FIELDS,
  CONFIG_FILE_FLAG,
  CONFIG_KEYS,
  type ConfigKey,
  type LoadedConfig,
  loadConfig,
} from "../config/mod.ts";
import type { CliIo } from "./io.ts";

/** A usage error: exit code 2, the message names the flag or argument. */
export class UsageError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "UsageError";
    this.field = field;
  }
}

type OptionSpec = { type: "string" | "boolean"; multiple?: boolean; short?: string };
export type OptionSpecs = Record<string, OptionSpec>;

/** Flags every subcommand accepts. */
export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: "boolean", short: "h" },
};

/** Flags of commands that work on a data directory: `--data-dir`, `--config`, `--json`. */
export function dataDirOptions(): OptionSpecs {
  return { ...COMMON_OPTIONS, ...configOptions(["data_dir"]), json: { type: "boolean" } };
}

/** Flags of the config options (`--port`, `--data-dir`, …) plus `--config`. */
export function configOptions(keys: readonly ConfigKey[] = CONFIG_KEYS): OptionSpecs {
  const options: OptionSpecs = { [CONFIG_FILE_FLAG]: { type: "string" } };
  for (const key of keys) {
    const spec = CONFIG_FIELDS[key];
    if (spec.flag === null) continue;
    options[spec.flag] = { type: spec.kind === "bool" ? "boolean" : "string" };
  }
  return options;
}

/** Parsed flags and positionals. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses `argv` against `options`; throws `UsageError` naming the offending flag. */
export function parseFlags(
  argv: readonly string[],
  options: OptionSpecs,
  positionalsMax: number,
): Parsed {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw toUsageError(error as Error & { code?: string });
  }
  if (parsed.positionals.length > positionalsMax) {
    const extra = parsed.positionals[positionalsMax] ?? "";
    throw new UsageError(extra, `unexpected argument '${extra}'`);
  }
  return { values: parsed.values as Parsed["values"], positionals: parsed.positionals };
}

/** The config-option flags of parsed values, keyed by config key. */
export function configFlags(
  values: Parsed["values"],
): Partial<Record<ConfigKey, string | boolean>> {
  const flags: Partial<Record<ConfigKey, string | boolean>> = {};
  for (const key of CONFIG_KEYS) {
    const flag = CONFIG_FIELDS[key].flag;
    const value = flag === null ? undefined : values[flag];
    if (typeof value === "string" || typeof value === "boolean") flags[key] = value;
  }
  return flags;
}

function toUsageError(error: Error & { code?: string }): UsageError {
  const flag = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1] ?? "";
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new UsageError(flag, `unknown flag ${flag}`);
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return new UsageError(
        flag,
        `flag ${flag} ${/argument missing/.test(error.message) ? "needs a value" : "does not take a value"}`,
      );
    default:
      return new UsageError(flag, error.message);
  }
}

/** Loads the configuration from a command's parsed flags, `--config`, and the environment. */
export function cliConfig(values: Parsed["values"], io: CliIo): LoadedConfig {
  return loadConfig({
    flags: configFlags(values),
    configFile: typeof values.config === "string" ? values.config : undefined,
    env: io.env,
    readFile: io.readFile,
  });
}
