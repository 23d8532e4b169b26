/**
 * The sandbox as the server offers it: config -> `SandboxOptions` per tenant, with the data
 * directory and every other tenant's workspace hidden from runs (admin.token, the token store,
 * the WAL and snapshots are there), the operator's required limits, and the host's capabilities.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { type Config, resolveLimitObject } from "./config/mod.ts";
import { VltairError } from "./core/mod.ts";
import type { Counter, Histogram, Logger, MetricsRegistry } from "./obs/mod.ts";
import {
  type CapabilityReport,
  capabilityReport,
  RunSlots,
  resolveLimitConfig,
  runSandboxed,
  type SandboxLimitConfig,
  type SandboxOptions,
  type SandboxResult,
  sweepLeftovers,
} from "./sandbox/mod.ts";

/** Runs one sandboxed command for a tenant. */
export interface SandboxService {
  /**
   * Start-up work, once: logs what the host can enforce (`sandbox.capabilities`), then removes
   * run temp dirs and cgroups a crashed server left behind.
   */
  sweep(): Promise<{ tempDirs: number; cgroups: number }>;
  exec(
    request: unknown,
    call: { tenant: string; traceId: string; signal?: AbortSignal },
  ): Promise<SandboxResult>;
  /** What the sandbox can enforce on this host with this configuration. */
  capabilities(): Promise<CapabilityReport>;
  /** Registers the run metrics (runs by status, queue wait, duration, refusals, gauges). */
  registerMetrics(registry: MetricsRegistry): void;
}

/** Upper bounds of the run duration histogram, in seconds (10 ms … 1 h, the longest run). */
const RUN_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Upper bounds of the queue wait histogram, in seconds. */
const WAIT_SECONDS_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

/** The service's metric handles; no-ops until registered. */
interface RunMetrics {
  runs: Counter;
  duration: Histogram;
  wait: Histogram;
  refused: Counter;
}

const NO_METRICS: RunMetrics = {
  runs: { inc: () => undefined },
  duration: { observe: () => undefined },
  wait: { observe: () => undefined },
  refused: { inc: () => undefined },
};

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
  const hiddenPaths = sandboxHiddenPaths(config);
  const logger: SandboxOptions["logger"] = (level, event, fields) =>
    options.log[level](event, fields);
  const shared = {
    tempRoot,
    limits,
    hiddenPaths,
    envPassthrough: config.sandbox_env_passthrough,
    disable: config.sandbox_disable,
    networkAllowPermitted: config.sandbox_network_allow,
    require: config.sandbox_require,
    allowPartial: config.sandbox_allow_partial,
  } satisfies Partial<SandboxOptions>;
  const capabilities = () =>
    capabilityReport({ ...shared, workspaceRoot: sandboxWorkspace(config, "default") });
  const slots = new RunSlots(limits);
  let metrics = NO_METRICS;
  return {
    registerMetrics(registry) {
      metrics = registerRunMetrics(registry, slots);
    },
    async sweep() {
      logCapabilities(await capabilities(), options.log);
      return sweepLeftovers({ tempRoot, logger });
    },
    capabilities,
    async exec(request, call) {
      const workspaceRoot = sandboxWorkspace(config, call.tenant);
      await fs.mkdir(workspaceRoot, { recursive: true, mode: 0o700 });
      const slot = await slots.acquire(call.tenant, call.signal).catch((error: unknown) => {
        if (error instanceof VltairError && error.code === "queue_full") {
          metrics.refused.inc({ reason: "queue_full", scope: String(error.details.scope) });
          throw error;
        }
        // Aborted while queued: the client went away; nothing ran.
        metrics.refused.inc({ reason: "cancelled", scope: "client" });
        throw new VltairError("unavailable", "the client went away while the run was queued", {
          cause: error,
        });
      });
      metrics.wait.observe(slot.waitedMs / 1000);
      const sandboxOptions: SandboxOptions = {
        ...shared,
        workspaceRoot,
        traceId: call.traceId,
        logger: (level, event, fields) =>
          options.log[level](event, { tenant: call.tenant, ...fields }),
        ...(call.signal === undefined ? {} : { signal: call.signal }),
      };
      try {
        const result = await runSandboxed(request, sandboxOptions);
        metrics.runs.inc({ status: result.status });
        metrics.duration.observe(result.duration_ms / 1000, { status: result.status });
        return result;
      } finally {
        slot.release();
      }
    },
  };
}

/** Creates the run metrics in `registry`; the gauges read `slots`. */
function registerRunMetrics(registry: MetricsRegistry, slots: RunSlots): RunMetrics {
  registry.gauge("vltair_sandbox_runs_running", "Sandbox runs in progress.", () => slots.running);
  registry.gauge(
    "vltair_sandbox_runs_queued",
    "Sandbox runs waiting for a slot.",
    () => slots.queued,
  );
  return {
    runs: registry.counter("vltair_sandbox_runs_total", "Sandbox runs that ended, by status."),
    duration: registry.histogram(
      "vltair_sandbox_run_duration_seconds",
      "Duration of sandbox runs (spawn to exit), by status.",
      RUN_SECONDS_BUCKETS,
    ),
    wait: registry.histogram(
      "vltair_sandbox_queue_wait_seconds",
      "Time sandbox runs waited for a slot.",
      WAIT_SECONDS_BUCKETS,
    ),
    refused: registry.counter(
      "vltair_sandbox_runs_refused_total",
      "Sandbox runs that never started: queue_full (429; scope server or tenant) or cancelled while queued.",
    ),
  };
}

/** One line: what is enforced and how, what is not, and whether runs are refused. */
function logCapabilities(report: CapabilityReport, log: Logger): void {
  const applied = Object.fromEntries(
    Object.entries(report.enforced)
      .filter(([, entry]) => entry.applied)
      .map(([key, entry]) => [key, entry.mechanism]),
  );
  const notApplied = Object.fromEntries(
    report.not_applied.map((key) => [key, report.enforced[key].reason]),
  );
  const fields = {
    platform: report.platform,
    mechanisms: Object.fromEntries(
      Object.entries(report.mechanisms).map(([name, m]) => [name, m.available]),
    ),
    applied,
    not_applied: notApplied,
    require: report.require,
    allow_partial: report.allow_partial,
    missing: report.missing.map((m) => m.limit),
    runs_refused: report.runs_refused,
  };
  if (report.runs_refused)
    log.warn("sandbox.capabilities", { ...fields, missing_detail: report.missing });
  else log.info("sandbox.capabilities", fields);
}
