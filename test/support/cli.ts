/** The CLI run in-process, with its output captured (no process per case). */
import * as fs from "node:fs";
import { runCli } from "../../src/cli/mod.ts";

/** What one in-process CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vltair ARGV…` in-process with `env` as its environment and a fixed clock. */
export async function cli(
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    readFile: (p) => fs.readFileSync(p, "utf8"),
    clocks: {
      nowMs: () => Date.UTC(2026, 0, 1),
      monotonicMs: () => performance.now(),
    },
  });
  return { code, stdout, stderr };
}
