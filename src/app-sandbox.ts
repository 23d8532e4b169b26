/**
 * The sandbox as the server offers it: config -> `SandboxOptions` per tenant, with the data
 * directory and every other tenant's workspace hidden from runs (admin.token, the token store,
 * the WAL and snapshots are there), the operator's required limits, and the host's capabilities.
 */
import * as os from "node:os";
import * as path from "node:path";
import { type Config, resolveLimitObject } from "./config/mod.ts";
import { assert, authorize, type Call, VltairError } from "./core/mod.ts";
import type { Counter, Histogram, Logger, MetricsRegistry } from "./obs/mod.ts";
import {
  type CapabilityReport,
  capabilityReport,
  DEFAULT_WORKSPACE_ID,
  type OutputListener,
  prepareRun,
  RunSlots,
  resolveLimitConfig,
  runPrepared,
  type SandboxLimitConfig,
  type SandboxOptions,
  type SandboxResult,
  sweepLeftovers,
  WorkspaceCheckpoints,
  WorkspaceService,
  Workspaces,
} from "./sandbox/mod.ts";

/** Where a run goes: a workspace id of the caller's tenant, its default workspace when absent. */
export interface ExecTarget {
  workspace?: string;
}

/**
 * A run that passed every check that answers with an HTTP error (404 workspace, 400 request,
 * 429 quota or queue) and holds its slot: `run` must be called once, and releases everything.
 */
export interface OpenedRun {
  run(onOutput?: OutputListener): Promise<SandboxResult>;
}

/** Runs sandboxed commands for tenants, in their workspaces. */
export interface SandboxService {
  /**
   * Start-up work, once: logs what the host can enforce (`sandbox.capabilities`), removes run
   * temp dirs and cgroups a crashed server left behind, deletes expired workspaces, and starts
   * the periodic workspace sweep.
   */
  sweep(): Promise<{ tempDirs: number; cgroups: number }>;
  /** Runs a command (a writer's call) in the caller's tenant; the signal cancels it. */
  exec(call: Call, request: unknown, target?: ExecTarget): Promise<SandboxResult>;
  /** Checks a request and takes its slot; the run starts when `run` is called. */
  open(call: Call, request: unknown, target?: ExecTarget): Promise<OpenedRun>;
  /** What the sandbox can enforce on this host with this configuration (a reader's call). */
  capabilities(call: Call): Promise<CapabilityReport>;
  /** Registers the run metrics (runs by status, queue wait, duration, refusals, gauges). */
  registerMetrics(registry: MetricsRegistry): void;
  /** The tenants' workspaces: lifecycle, files API, checkpoints; every method takes the call. */
  readonly workspaces: WorkspaceService;
  /** Stops the periodic workspace sweep. */
  close(): void;
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
 * await sandbox.exec(call, { cmd: ["true"] });
 * ```
 */
export function createSandboxService(
  config: Config,
  options: { log: Logger; nowMs?: () => number },
): SandboxService {
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
    networkAllowDomains: config.sandbox_network_allow_domains,
    networkResolve: config.sandbox_network_resolve as Record<string, string>,
    require: config.sandbox_require,
    allowPartial: config.sandbox_allow_partial,
  } satisfies Partial<SandboxOptions>;
  const report = () =>
    capabilityReport({ ...shared, workspaceRoot: sandboxWorkspace(config, "default") });
  const slots = new RunSlots(limits);
  const workspaces = new Workspaces({
    root: path.join(path.resolve(config.data_dir), "sandbox"),
    defaultTree: (tenant) => sandboxWorkspace(config, tenant),
    limits,
    hiddenPaths,
    nowMs: options.nowMs ?? Date.now,
    logger,
  });
  const service = new WorkspaceService(
    workspaces,
    new WorkspaceCheckpoints(workspaces, options.nowMs ?? Date.now),
  );
  let sweepTimer: ReturnType<typeof setInterval> | null = null;
  const sweepWorkspaces = () =>
    workspaces.sweep().catch((error: unknown) => {
      options.log.error("sandbox.workspace.sweep_failed", { error });
      return { expired: 0, orphans: 0 };
    });
  let metrics = NO_METRICS;
  const acquire = (tenant: string, signal: AbortSignal | undefined) =>
    slots.acquire(tenant, signal).catch((error: unknown) => {
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
  const open = async (
    call: Call,
    request: unknown,
    target: ExecTarget = {},
  ): Promise<OpenedRun> => {
    authorize(call, "writer", "sandbox.exec");
    const tenant = call.principal.tenant;
    const id = target.workspace ?? DEFAULT_WORKSPACE_ID;
    const found = await workspaces.find(tenant, id);
    const prepared = await prepareRun(request, {
      ...shared,
      workspaceRoot: found.tree,
      traceId: call.traceId,
      logger: (level, event, fields) =>
        options.log[level](event, { tenant, workspace: id, ...fields }),
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    });
    await workspaces.assertUnderQuota(tenant);
    const slot = await acquire(tenant, call.signal);
    let leave: () => void;
    try {
      leave = await workspaces.enterRun(tenant, id);
    } catch (error) {
      slot.release();
      throw error;
    }
    metrics.wait.observe(slot.waitedMs / 1000);
    let started = false;
    return {
      async run(onOutput) {
        assert(!started, "an opened run runs once");
        started = true;
        try {
          const options_ =
            onOutput === undefined ? prepared.options : { ...prepared.options, onOutput };
          const result = await runPrepared({ ...prepared, options: options_ });
          metrics.runs.inc({ status: result.status });
          metrics.duration.observe(result.duration_ms / 1000, { status: result.status });
          return result;
        } finally {
          leave();
          slot.release();
        }
      },
    };
  };
  return {
    workspaces: service,
    registerMetrics(registry) {
      metrics = registerRunMetrics(registry, slots);
    },
    async sweep() {
      logCapabilities(await report(), options.log);
      const removed = await sweepLeftovers({ tempRoot, logger });
      await sweepWorkspaces();
      sweepTimer ??= setInterval(() => void sweepWorkspaces(), limits.workspaceSweepMs);
      // The sweep must not keep a process alive that is otherwise done (CLI, tests).
      (sweepTimer as { unref?: () => void }).unref?.();
      return removed;
    },
    async capabilities(call) {
      authorize(call, "reader", "sandbox.capabilities");
      return report();
    },
    open,
    async exec(call, request, target) {
      return (await open(call, request, target)).run();
    },
    close() {
      if (sweepTimer !== null) clearInterval(sweepTimer);
      sweepTimer = null;
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
