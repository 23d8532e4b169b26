/**
 * The command line.
 *
 * @example
 * ```ts
 * import { runCli } from "./cli/mod.ts";
 * process.exitCode = await runCli(process.argv.slice(2), io);
 * ```
 */
export { UsageError } from "./args.ts";
export type { CliIo } from "./io.ts";
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.ts";
export { runCli } from "./run.ts";
