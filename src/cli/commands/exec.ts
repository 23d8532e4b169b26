/**
 * `vltair exec [limits] -- CMD ARGS…`: runs one command in the sandbox on this machine (no
 * server needed) with the current directory (or `--workspace`) as its workspace. Text output
 * starts with `[sandbox] traceId=… duration_ms=…` (AR-13); `--json` prints the whole result.
 * Every requested limit that was not applied gets a `warning:` line on stderr.
 * Exit 0 when the status is OK, 1 otherwise, 2 on usage errors.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sandboxLimits } from "../../app/mod.ts";
import {
  ENFORCED_KEYS,
  formatSandboxText,
  runSandboxed,
  type SandboxResult,
} from "../../sandbox/mod.ts";
import { COMMON_OPTIONS, cliConfig, configOptions, parseFlags, UsageError } from "../args.ts";
import { type CliIo, EXIT_FAILURE, EXIT_OK } from "../io.ts";

const LIMIT_FLAGS = {
  "wall-ms": "wall_ms",
  "mem-bytes": "mem_bytes",
  "output-bytes": "output_bytes",
  pids: "pids",
  "cpu-ms": "cpu_ms",
} as const;

/** The largest value of each limit flag the configured `sandbox_limits` allow. */
const LIMIT_MAX_KEYS = {
  "wall-ms": "wallMsMax",
  "mem-bytes": "memBytesMax",
  "output-bytes": "outputBytesMax",
  pids: "pidsMax",
  "cpu-ms": "cpuMsMax",
} as const;

/** A limit flag's integer in 1..max; a usage error (exit 2) stating the range otherwise. */
function integerFlag(flag: keyof typeof LIMIT_FLAGS, raw: string, max: number): number {
  const value = /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${flag}`, `--${flag} must be an integer in 1..${max}, got '${raw}'`);
  }
  return value;
}

export async function execCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...COMMON_OPTIONS,
      ...configOptions([
        "data_dir",
        "sandbox_temp_dir",
        "sandbox_network_allow",
        "sandbox_env_passthrough",
        "sandbox_disable",
        "sandbox_limits",
        "sandbox_require",
        "sandbox_allow_partial",
      ]),
      ...Object.fromEntries(Object.keys(LIMIT_FLAGS).map((f) => [f, { type: "string" as const }])),
      network: { type: "string" },
      cwd: { type: "string" },
      env: { type: "string", multiple: true },
      workspace: { type: "string" },
      strict: { type: "boolean" },
      json: { type: "boolean" },
    },
    Number.MAX_SAFE_INTEGER,
  );
  if (positionals.length === 0)
    throw new UsageError("CMD", "the command to run is required after --");
  const { config } = cliConfig(values, io);
  const limitConfig = sandboxLimits(config);
  const limits: Record<string, number> = {};
  for (const [flag, key] of Object.entries(LIMIT_FLAGS) as [keyof typeof LIMIT_FLAGS, string][]) {
    const raw = values[flag];
    if (typeof raw === "string")
      limits[key] = integerFlag(flag, raw, limitConfig[LIMIT_MAX_KEYS[flag]]);
  }
  const env: Record<string, string> = {};
  for (const pair of (values.env as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError("--env", `--env takes NAME=VALUE, got '${pair}'`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (values.network !== undefined && values.network !== "deny" && values.network !== "allow") {
    throw new UsageError("--network", "--network must be deny or allow");
  }
  const workspace = path.resolve(typeof values.workspace === "string" ? values.workspace : ".");
  if (!fs.existsSync(workspace))
    throw new UsageError("--workspace", `--workspace ${workspace} does not exist`);
  const request = {
    cmd: positionals,
    ...(typeof values.cwd === "string" ? { cwd: values.cwd } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    network: (values.network as "deny" | "allow" | undefined) ?? "deny",
    allow_partial: values.strict !== true,
  };
  const result = await runSandboxed(request, {
    workspaceRoot: workspace,
    tempRoot: path.resolve(config.sandbox_temp_dir ?? os.tmpdir()),
    limits: limitConfig,
    // The data directory (admin.token, tokens) stays hidden from the command.
    hiddenPaths: [path.resolve(config.data_dir)],
    envPassthrough: config.sandbox_env_passthrough,
    disable: config.sandbox_disable,
    networkAllowPermitted: config.sandbox_network_allow,
    require: config.sandbox_require,
    allowPartial: config.sandbox_allow_partial,
    parentEnv: io.env,
  });
  for (const line of notAppliedWarnings(result)) io.stderr(line);
  io.stdout(values.json === true ? `${JSON.stringify(result)}\n` : formatSandboxText(result));
  return result.status === "OK" ? EXIT_OK : EXIT_FAILURE;
}

/** One `warning:` line per requested limit that was not applied, with why. */
export function notAppliedWarnings(result: SandboxResult): string[] {
  return ENFORCED_KEYS.filter(
    (key) => result.enforced[key].requested !== null && !result.enforced[key].applied,
  ).map((key) => `warning: sandbox limit ${key} not applied: ${result.enforced[key].reason}\n`);
}
