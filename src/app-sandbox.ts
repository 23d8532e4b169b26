/**
 * The sandbox as the server offers it: config -> `SandboxOptions` per tenant, with the data
 * directory hidden from runs (it holds admin.token and the token store).
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { type Config, resolveLimitObject } from "./config/mod.ts";
import type { Logger } from "./obs/mod.ts";
import {
  resolveLimitConfig,
  runSandboxed,
  type SandboxLimitConfig,
  type SandboxOptions,
  type SandboxResult,
  sweepLeftovers,
} from "./sandbox/mod.ts";

/** Runs one sandboxed command for a tenant. */
export interface SandboxService {
  /** Removes run temp dirs and cgroups a crashed server left behind; once, at start. */
  sweep(): Promise<{ tempDirs: number; cgroups: number }>;
  exec(
    request: unknown,
    call: { tenant: string; traceId: string; signal?: AbortSignal },
  ): Promise<SandboxResult>;
}

/** Config's snake_case `sandbox_limits` as the sandbox's limit config; config_invalid names the key. */
export function sandboxLimits(config: Config): SandboxLimitConfig {
  return resolveLimitObject("sandbox_limits", config.sandbox_limits, resolveLimitConfig);
}

/** The workspace of a tenant: `{tenant}` and `{data_dir}` substituted, made absolute. */
export function sandboxWorkspace(config: Config, tenant: string): string {
  const dir = config.sandbox_workspace
    .replaceAll("{data_dir}", config.data_dir)
    .replaceAll("{tenant}", tenant);
  return path.resolve(dir);
}

/**
 * Creates the sandbox service of a server.
 *
 * @example
 * ```ts
 * const sandbox = createSandboxService(config, { log });
 * await sandbox.exec({ cmd: ["true"] }, { tenant: "default", traceId });
 * ```
 */
export function createSandboxService(config: Config, options: { log: Logger }): SandboxService {
  const limits = sandboxLimits(config);
  const tempRoot = path.resolve(config.sandbox_temp_dir ?? os.tmpdir());
  // The data directory holds admin.token and the token store: runs never see it. A tenant's
  // workspace inside it is bound back on top, so other tenants' workspaces stay hidden too.
  const hiddenPaths = [path.resolve(config.data_dir)];
  const logger: SandboxOptions["logger"] = (level, event, fields) =>
    options.log[level](event, fields);
  return {
    sweep: () => sweepLeftovers({ tempRoot, logger }),
    async exec(request, call) {
      const workspaceRoot = sandboxWorkspace(config, call.tenant);
      await fs.mkdir(workspaceRoot, { recursive: true, mode: 0o700 });
      const sandboxOptions: SandboxOptions = {
        workspaceRoot,
        tempRoot,
        limits,
        hiddenPaths,
        envPassthrough: config.sandbox_env_passthrough,
        disable: config.sandbox_disable,
        networkAllowPermitted: config.sandbox_network_allow,
        traceId: call.traceId,
        logger: (level, event, fields) =>
          options.log[level](event, { tenant: call.tenant, ...fields }),
        ...(call.signal === undefined ? {} : { signal: call.signal }),
      };
      return runSandboxed(request, sandboxOptions);
    },
  };
}
