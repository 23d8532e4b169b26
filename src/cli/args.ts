/**
 * Strict flag parsing over `node:util` `parseArgs` (portable to Bun, Deno and Node): unknown
 * flags, missing values and stray positionals are usage errors (exit 2) naming the flag. Every
 * boolean flag also takes `--flag=true|false` and `--no-flag`.
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

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);
/** A value that starts with a dash but is a number, not a flag (`--wall-ms -5`). */
const NEGATIVE_NUMBER = /^-\d/;

/**
 * What `parseArgs` of Node 20 cannot do itself: booleans written `--flag=false`, `--flag=true`
 * or `--no-flag` (so an option whose default is true can be switched off), and a dash-leading
 * number as a flag's value (`--wall-ms -5`, which then fails its range check with the range
 * named instead of "does not take a value"). Stops at `--`.
 */
function normalizeArgv(
  argv: readonly string[],
  options: OptionSpecs,
): { args: string[]; booleans: Record<string, boolean> } {
  const args: string[] = [];
  const booleans: Record<string, boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const name = long?.[1] ?? "";
    const value = long?.[2];
    const spec = options[name];
    if (long !== null && spec?.type === "boolean" && value !== undefined) {
      const word = value.toLowerCase();
      if (!TRUE_WORDS.has(word) && !FALSE_WORDS.has(word)) {
        throw new UsageError(`--${name}`, `flag --${name} takes true or false, got '${value}'`);
      }
      booleans[name] = TRUE_WORDS.has(word);
      continue;
    }
    const negated = name.startsWith("no-") ? name.slice(3) : null;
    if (
      long !== null &&
      value === undefined &&
      negated !== null &&
      options[negated]?.type === "boolean"
    ) {
      booleans[negated] = false;
      continue;
    }
    const next = argv[i + 1];
    if (
      long !== null &&
      spec?.type === "string" &&
      value === undefined &&
      next !== undefined &&
      NEGATIVE_NUMBER.test(next)
    ) {
      args.push(`--${name}=${next}`);
      i++;
      continue;
    }
    args.push(arg);
  }
  return { args, booleans };
}

/** Parses `argv` against `options`; throws `UsageError` naming the offending flag. */
export function parseFlags(
  argv: readonly string[],
  options: OptionSpecs,
  positionalsMax: number,
): Parsed {
  const { args, booleans } = normalizeArgv(argv, options);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw toUsageError(error as Error & { code?: string });
  }
  if (parsed.positionals.length > positionalsMax) {
    const extra = parsed.positionals[positionalsMax] ?? "";
    throw new UsageError(extra, `unexpected argument '${extra}'`);
  }
  const values = { ...(parsed.values as Parsed["values"]), ...booleans };
  return { values, positionals: parsed.positionals };
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
      if (/ambiguous/.test(error.message)) {
        return new UsageError(
          flag,
          `flag ${flag} needs a value (for one starting with '-', write ${flag}=-VALUE)`,
        );
      }
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
