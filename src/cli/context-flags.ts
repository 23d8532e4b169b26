/** Flags shared by `vltair ingest` and `vltair search`. */
import { parseScopeParam, type Scope } from "../context/mod.ts";
import { VltairError } from "../core/mod.ts";
import { configOptions, dataDirOptions, type OptionSpecs, UsageError } from "./args.ts";

/**
 * `--data-dir`, `--config`, `--json`, `--scope`, and the options that matter when the command
 * opens the data directory itself (a server uses its own).
 */
export function contextCommandOptions(): OptionSpecs {
  return {
    ...dataDirOptions(),
    ...configOptions([
      "data_dir",
      "wal_fsync",
      "storage_limits",
      "embedder",
      "text_tokenizer",
      "context_limits",
    ]),
    scope: { type: "string" },
  };
}

/** `--scope global|session:ID|task:ID`; undefined when absent. */
export function scopeFlag(raw: unknown): Scope | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseScopeParam(String(raw), "--scope");
  } catch (error) {
    if (!(error instanceof VltairError)) throw error;
    throw new UsageError("--scope", "--scope must be global, session:ID or task:ID");
  }
}

/** A whole number flag in [min, max]; `fallback` when absent. */
export function intFlag(
  flag: string,
  raw: unknown,
  bounds: { min: number; max: number; fallback: number },
): number {
  if (raw === undefined) return bounds.fallback;
  const value = typeof raw === "string" && /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= bounds.min && value <= bounds.max)) {
    throw new UsageError(flag, `${flag} must be an integer from ${bounds.min} to ${bounds.max}`);
  }
  return value;
}
