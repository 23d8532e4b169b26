/**
 * Dispatch of `vltair <command>`: help, usage errors (exit 2), failures (exit 1).
 * Commands return their exit code; `serve` resolves only when the server has stopped.
 */
import { VltairError } from "../core/mod.ts";
import { redactStrings, redactText } from "../obs/mod.ts";
import { UsageError } from "./args.ts";
import { auditVerify } from "./commands/audit.ts";
import { budgetShow } from "./commands/budget.ts";
import { getCommand, rmCommand } from "./commands/doc.ts";
import { execCommand } from "./commands/exec.ts";
import { ingestCommand } from "./commands/ingest.ts";
import { mcpCommand } from "./commands/mcp.ts";
import { policyTest, policyValidate } from "./commands/policy.ts";
import {
  replayCommand,
  runCommand,
  runsCancel,
  runsEvents,
  runsFork,
  runsList,
  runsShow,
  runsSignal,
} from "./commands/runs.ts";
import { searchCommand } from "./commands/search.ts";
import { serveCommand } from "./commands/serve.ts";
import { tokenCreate, tokenList, tokenRevoke } from "./commands/token.ts";
import { versionCommand } from "./commands/version.ts";
import { snapshotCommand, walDump, walRepair, walVerify } from "./commands/wal.ts";
import { HELP } from "./help.ts";
import { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.ts";

type Command = (argv: readonly string[], io: CliIo) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  exec: execCommand,
  ingest: ingestCommand,
  search: searchCommand,
  mcp: mcpCommand,
  get: getCommand,
  rm: rmCommand,
  version: versionCommand,
  "token create": tokenCreate,
  "token list": tokenList,
  "token revoke": tokenRevoke,
  "policy validate": policyValidate,
  "policy test": policyTest,
  "wal verify": walVerify,
  "wal dump": walDump,
  "wal repair": walRepair,
  snapshot: snapshotCommand,
  "audit verify": auditVerify,
  "budget show": budgetShow,
  run: runCommand,
  "runs list": runsList,
  "runs show": runsShow,
  "runs events": runsEvents,
  "runs cancel": runsCancel,
  "runs signal": runsSignal,
  "runs fork": runsFork,
  replay: replayCommand,
};

/** Groups whose first argument names a subcommand. */
const GROUPS = new Set(["token", "wal", "audit", "policy", "runs", "budget"]);

/**
 * Runs the CLI and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await runCli(["version", "--json"], io);
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    io.stdout(`${HELP[""]?.() ?? ""}\n`);
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  // `vltair --version` and `-V` are `vltair version` (with its flags: `--version --json`).
  if (first === "--version" || first === "-V") return runCli(["version", ...argv.slice(1)], io);
  const name =
    GROUPS.has(first) && second !== undefined && !second.startsWith("-")
      ? `${first} ${second}`
      : first;
  const rest = argv.slice(name.split(" ").length);
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  const help = HELP[name];
  if (help !== undefined && (wantsHelp || (GROUPS.has(name) && rest.length === 0))) {
    io.stdout(`${help()}\n`);
    return wantsHelp ? EXIT_OK : EXIT_USAGE;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(`vltair: unknown command '${name}'. Run 'vltair --help'.\n`);
    return EXIT_USAGE;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    return reportError(error, name, rest.includes("--json"), io);
  }
}

/** Reports a failed command; every message and detail passes the redactor first. */
function reportError(error: unknown, name: string, json: boolean, io: CliIo): number {
  const message = redactText(error instanceof Error ? error.message : String(error));
  if (error instanceof UsageError) {
    io.stderr(`vltair ${name}: ${message}. Run 'vltair ${name} --help'.\n`);
    if (json)
      io.stdout(`${JSON.stringify({ error: { code: "usage", field: error.field, message } })}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof VltairError) {
    io.stderr(`vltair ${name}: ${message}\n`);
    if (json) {
      const details = redactStrings(error.details);
      io.stdout(`${JSON.stringify({ error: { code: error.code, message, details } })}\n`);
    }
    return error.code === "config_invalid" ? EXIT_USAGE : EXIT_FAILURE;
  }
  io.stderr(`vltair ${name}: ${message}\n`);
  return EXIT_FAILURE;
}
