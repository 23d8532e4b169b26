/**
 * The child's environment: a fixed allowlist, named passthrough, then the request's own `env`,
 * then what the server sets for the run (the proxy variables of a network allowlist).
 * Nothing else of the server's environment (tokens in particular) reaches the child (AR-1, AR-6).
 */

/** Server variables copied when set; everything else is dropped. */
export const ENV_ALLOWLIST = ["PATH", "LANG", "LC_ALL", "TZ", "TERM"] as const;

/** Used when the server has no PATH of its own. */
export const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";

/** Inputs of {@link buildChildEnv}. */
export interface ChildEnvInput {
  parentEnv: Readonly<Record<string, string | undefined>>;
  passthrough: readonly string[];
  requestEnv: Readonly<Record<string, string>>;
  /** The run's private home directory (inside its temp dir). */
  homeDir: string;
  /** The run's private temp directory (inside its temp dir). */
  tmpDir: string;
  /** Set last (`HTTP_PROXY` and friends of a run with a network allowlist). */
  serverEnv?: Readonly<Record<string, string>>;
}

/**
 * Builds the child's environment.
 *
 * @example
 * ```ts
 * buildChildEnv({ parentEnv: process.env, passthrough: ["COVERAGE_FILE"], requestEnv: {},
 *   homeDir: "/tmp/vltair-ab-1/home", tmpDir: "/tmp/vltair-ab-1/tmp" });
 * ```
 */
export function buildChildEnv(input: ChildEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ENV_ALLOWLIST) {
    const value = input.parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= FALLBACK_PATH;
  env.LANG ??= "C.UTF-8";
  env.TZ ??= "UTC";
  env.HOME = input.homeDir;
  env.TMPDIR = input.tmpDir;
  for (const name of input.passthrough) {
    const value = input.parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(input.requestEnv)) env[name] = value;
  for (const [name, value] of Object.entries(input.serverEnv ?? {})) env[name] = value;
  return env;
}
