/** What a CLI command may touch of the process, injected so commands run in-process in tests. */
import type { Clocks } from "../app/mod.ts";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
  clocks: Clocks;
  /** Whether stderr is a terminal (progress bars); unset: asks `process.stderr.isTTY`. */
  stderrIsTty?: boolean;
}

/** Exit codes (API.md, "Command line"). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
