/**
 * The sandbox as a server offers it: runs in the tenants' workspaces under bounded concurrency
 * (`RunSlots`), the workspaces, files and checkpoints service, the run metrics, the start-up
 * sweep and capabilities line. Every method takes the `Call` and checks the role with the one
 * authorizer. Built by the composition root from the config (src/app/sandbox.ts).
 */
import { assert, authorize, type Call, VltairError } from "../core/mod.ts";
import type { Counter, Histogram, Logger, MetricsRegistry } from "../obs/mod.ts";
import { type CapabilityReport, capabilityReport } from "./capability-report.ts";
import type { SandboxLimitConfig, SandboxLogger, SandboxOptions } from "./options.ts";
import type { OutputListener } from "./output-tap.ts";
import { RunSlots } from "./run-slots.ts";
import { prepareRun, runPrepared } from "./runner.ts";
import type { SandboxResult, SandboxStatus } from "./schema.ts";
import { sweepLeftovers } from "./sweep.ts";
import { DEFAULT_WORKSPACE_ID } from "./workspace-catalog.ts";
import { WorkspaceCheckpoints } from "./workspace-checkpoints.ts";
import { WorkspaceService } from "./workspace-service.ts";
import { Workspaces } from "./workspaces.ts";

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

/** What a server's sandbox service is made of (the composition root reads it from the config). */
export interface SandboxServiceOptions {
  /** The options every run shares (no workspace, trace id, logger or signal). */
  shared: Omit<SandboxOptions, "workspaceRoot" | "traceId" | "logger" | "signal"> & {
    limits: SandboxLimitConfig;
    hiddenPaths: readonly string[];
  };
  /** Where named workspaces and checkpoint stores live (`DATA_DIR/sandbox`). */
  workspacesRoot: string;
  /** The default workspace of a tenant. */
  defaultTree(tenant: string): string;
  log: Logger;
  nowMs?: () => number;
  /** Policy before anything happens (docs/policy.md): throws 403 policy_denied. */
  policy?: (request: unknown, call: Call, workspace: string) => void;
  /** Told of each run that passed every check, before it starts (the audit trail). */
  onRunStart?: (call: Call, run: RunStart) => Promise<void>;
  /**
   * Holds the run against the tenant's budgets before it starts (throws `budget_exceeded`);
   * the function it returns settles the hold with what the run spent.
   */
  charge?: RunCharge;
}

/** What a run spent, for its budgets: whether it started, its measured CPU time and status. */
export interface RunOutcome {
  /** The run was started (it got a slot); false when it was refused before (queue, gate). */
  ran: boolean;
  /** The result's `cpu_ms`: null when not measured or when no result came back. */
  cpuMs: number | null;
  /** The result's status, null when no result came back. */
  status: SandboxStatus | null;
}

/**
 * Holds a run against its tenant's budgets before it starts (throws `budget_exceeded`), given
 * the request's `limits.cpu_ms` (null when not asked); returns the settlement.
 */
export type RunCharge = (
  call: Call,
  run: { cpuMsLimit: number | null },
) => Promise<(outcome: RunOutcome) => Promise<void>>;

const NOT_RUN: RunOutcome = { ran: false, cpuMs: null, status: null };

/** What a starting run is, for the audit trail: never its arguments' values or environment. */
export interface RunStart {
  workspace: string;
  /** The command's program (argv[0]'s base name). */
  program: string;
  network: string;
}

/**
 * Creates the sandbox service of a server.
 *
 * @example
 * ```ts
 * const sandbox = makeSandboxService({ shared, workspacesRoot, defaultTree, log });
 * await sandbox.exec(call, { cmd: ["true"] });
 * ```
 */
export function makeSandboxService(options: SandboxServiceOptions): SandboxService {
  const { shared } = options;
  const { limits, tempRoot, hiddenPaths } = shared;
  const logger: SandboxLogger = (level, event, fields) => options.log[level](event, fields);
  const report = () =>
    capabilityReport({ ...shared, workspaceRoot: options.defaultTree("default") });
  const slots = new RunSlots(limits);
  const workspaces = new Workspaces({
    root: options.workspacesRoot,
    defaultTree: options.defaultTree,
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
    options.policy?.(request, call, id);
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
    await options.onRunStart?.(call, {
      workspace: id,
      program: (prepared.req.cmd[0] ?? "").split("/").at(-1) ?? "",
      network: prepared.req.network === "proxy" ? "list" : prepared.req.network,
    });
    const settle =
      (await options.charge?.(call, { cpuMsLimit: prepared.req.cpuMs })) ?? (async () => {});
    let slot: Awaited<ReturnType<typeof acquire>>;
    let leave: () => void;
    try {
      slot = await acquire(tenant, call.signal);
      try {
        leave = await workspaces.enterRun(tenant, id);
      } catch (error) {
        slot.release();
        throw error;
      }
    } catch (error) {
      await settle(NOT_RUN);
      throw error;
    }
    metrics.wait.observe(slot.waitedMs / 1000);
    let started = false;
    return {
      async run(onOutput) {
        assert(!started, "an opened run runs once");
        started = true;
        let result: SandboxResult | null = null;
        try {
          const options_ =
            onOutput === undefined ? prepared.options : { ...prepared.options, onOutput };
          result = await runPrepared({ ...prepared, options: options_ });
          metrics.runs.inc({ status: result.status });
          metrics.duration.observe(result.duration_ms / 1000, { status: result.status });
          return result;
        } finally {
          leave();
          slot.release();
          await settle({
            ran: true,
            cpuMs: result?.cpu_ms ?? null,
            status: result?.status ?? null,
          });
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
    cpu_usage: report.cpu_usage.mechanism,
    runs_refused: report.runs_refused,
  };
  if (report.runs_refused)
    log.warn("sandbox.capabilities", { ...fields, missing_detail: report.missing });
  else log.info("sandbox.capabilities", fields);
}
