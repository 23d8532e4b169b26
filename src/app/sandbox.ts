/**
 * Composition of the sandbox: config -> the sandbox service's options, with the data directory
 * and every other tenant's workspace hidden from runs (admin.token, the token store, the WAL and
 * snapshots are there) and the operator's required limits. The service is src/sandbox/service.ts.
 */
import * as os from "node:os";
import * as path from "node:path";
import type { Config } from "../config/mod.ts";
import { type Call, VltairError } from "../core/mod.ts";
import type { Logger } from "../obs/mod.ts";
import type { RunCharge, RunStart } from "../sandbox/mod.ts";
import {
  makeSandboxService,
  SANDBOX_LIMITS,
  type SandboxLimitConfig,
  type SandboxService,
} from "../sandbox/mod.ts";

export type { ExecTarget, OpenedRun, SandboxService } from "../sandbox/mod.ts";

/** Config's snake_case `sandbox_limits` as the sandbox's limit config; config_invalid names the key. */
export function sandboxLimits(config: Config): SandboxLimitConfig {
  return SANDBOX_LIMITS.resolveSnake(config.sandbox_limits);
}

/** The workspace of a tenant: `{tenant}` and `{data_dir}` substituted, made absolute. */
export function sandboxWorkspace(config: Config, tenant: string): string {
  const dir = config.sandbox_workspace
    .replaceAll("{data_dir}", config.data_dir)
    .replaceAll("{tenant}", tenant);
  return path.resolve(dir);
}

/**
 * Paths no run may read: the data directory, and the directory holding every tenant's
 * workspace (the part of `sandbox_workspace` before the `{tenant}` component; the run's own
 * workspace is bound back on top). Throws config_invalid when that directory would be `/`.
 */
export function sandboxHiddenPaths(config: Config): string[] {
  const hidden = [path.resolve(config.data_dir)];
  const template = config.sandbox_workspace.replaceAll("{data_dir}", config.data_dir);
  const parts = path.resolve(template).split(path.sep);
  const at = parts.findIndex((part) => part.includes("{tenant}"));
  if (at < 0) return hidden;
  const tenants = parts.slice(0, at).join(path.sep) || path.sep;
  if (tenants === path.sep) {
    throw new VltairError(
      "config_invalid",
      "sandbox_workspace must keep the tenants' workspaces below a directory other than /",
      { details: { field: "sandbox_workspace", value: config.sandbox_workspace } },
    );
  }
  if (!hidden.includes(tenants)) hidden.push(tenants);
  return hidden;
}

/**
 * Creates the sandbox service of a server from its config.
 *
 * @example
 * ```ts
 * const sandbox = createSandboxService(config, { log });
 * await sandbox.exec(call, { cmd: ["true"] });
 * ```
 */
export function createSandboxService(
  config: Config,
  options: {
    log: Logger;
    nowMs?: () => number;
    /** Policy before anything happens (docs/policy.md): throws 403 policy_denied. */
    policy?: (request: unknown, call: Call, workspace: string) => void;
    /** Told of each run that passed every check, before it starts (the audit trail). */
    onRunStart?: (call: Call, run: RunStart) => Promise<void>;
    /** Holds a run against `sandbox_runs` and `sandbox_cpu_ms` budgets; the result settles it. */
    charge?: RunCharge;
  },
): SandboxService {
  return makeSandboxService({
    shared: {
      tempRoot: path.resolve(config.sandbox_temp_dir ?? os.tmpdir()),
      limits: sandboxLimits(config),
      hiddenPaths: sandboxHiddenPaths(config),
      envPassthrough: config.sandbox_env_passthrough,
      disable: config.sandbox_disable,
      networkAllowPermitted: config.sandbox_network_allow,
      networkAllowDomains: config.sandbox_network_allow_domains,
      networkResolve: config.sandbox_network_resolve as Record<string, string>,
      require: config.sandbox_require,
      allowPartial: config.sandbox_allow_partial,
    },
    workspacesRoot: path.join(path.resolve(config.data_dir), "sandbox"),
    defaultTree: (tenant) => sandboxWorkspace(config, tenant),
    log: options.log,
    ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.onRunStart === undefined ? {} : { onRunStart: options.onRunStart }),
    ...(options.charge === undefined ? {} : { charge: options.charge }),
  });
}
