/** Numeric flags of the benchmarks (`--runs 300`): one parser, so every bench refuses the same way. */
import process from "node:process";

/** The positive integer after `--name`, or `fallback` when the flag is absent. */
export function positiveIntArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer`);
  return value;
}
