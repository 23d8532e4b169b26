/**
 * Composition root: Config -> services -> HTTP app. The only place that wires layers together.
 * Storage recovery, the context engine, sandbox and orchestrator plug in here as they land.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { type Config, isLoopbackHost } from "../config/mod.ts";
import {
  type ContextRecord,
  type ContextService,
  type ContextState,
  createContextMachine,
  describeIdentity,
  identityOf,
} from "../context/mod.ts";
import { type Call, localCall, type Principal } from "../core/mod.ts";
import { createHttpApp, type HttpApp, principalOfAuthorization, RATE_LIMITS } from "../http/mod.ts";
import {
  createMcpServer,
  inAppDispatch,
  MCP_LIMITS,
  McpHttpSessions,
  type McpLimits,
  type ResourceWatch,
  resourceWatchOf,
  toolsOf,
} from "../mcp/mod.ts";
import { type Logger, MetricsRegistry } from "../obs/mod.ts";
import {
  createRunsMachine,
  createWorkflowsMachine,
  type RunRecord,
  type RunService,
  type RunsState,
  systemTimers,
  type Timers,
  type WorkflowRecord,
  type WorkflowsState,
} from "../orchestrator/mod.ts";
import { collectGarbage } from "../platform/mod.ts";
import {
  type AuditBody,
  AuditService,
  type AuditState,
  allowedBy,
  auditHook,
  createAuditMachine,
  SERVER_CHAIN,
} from "../policy/audit/mod.ts";
import {
  type BudgetBody,
  BudgetService,
  type BudgetsState,
  createBudgetsMachine,
  RequestMeter,
} from "../policy/budgets/mod.ts";
import {
  ADMIN_PRINCIPAL,
  type AdminToken,
  createAuthenticator,
  createPolicyMachine,
  createTokensMachine,
  ensureAdminToken,
  type PolicyRecord,
  type PolicyService,
  type PolicyState,
  type TokenRecord,
  TokenService,
  type TokensState,
} from "../policy/mod.ts";
import { precompileVectorModule } from "../search/mod.ts";
import type { MachineHandle, Storage } from "../storage/mod.ts";
import { VERSION } from "../version.ts";
import { contextSettings, createContextService } from "./context.ts";
import { createRunService, modelGateway, orchestratorLimits } from "./orchestrator.ts";
import { auditDenials, createPolicyService, execPolicy } from "./policy.ts";
import { createSandboxService, type SandboxService, sandboxLimits } from "./sandbox.ts";
import { sandboxCharge } from "./sandbox-charge.ts";
import { openStorage, storageSettings } from "./storage.ts";

/** File of the token store inside the data directory. */
export const TOKENS_FILE = "tokens.jsonl";

/** The handles of the state machines folded from the WAL. */
export interface MachineHandles {
  context: MachineHandle<ContextState, ContextRecord>;
  tokens: MachineHandle<TokensState, TokenRecord>;
  policy: MachineHandle<PolicyState, PolicyRecord>;
  audit: MachineHandle<AuditState, AuditBody>;
  budgets: MachineHandle<BudgetsState, BudgetBody>;
  runs: MachineHandle<RunsState, RunRecord>;
  workflows: MachineHandle<WorkflowsState, WorkflowRecord>;
}

/** The registered machines and the policy service whose hook guards their writes. */
export interface RegisteredMachines extends MachineHandles {
  /** Decides before every side effect; load its engine (`load()`) before committing. */
  policyService: PolicyService;
}

/**
 * Registers every state machine folded from the WAL, in one order, and the write path's
 * pre-commit hooks (policy, budgets, then audit: ADR 0010): the server, the CLI's in-process
 * path and the offline tools (`vltair snapshot`) all call this, so a write is checked and
 * audited whichever way it comes. `vectorThread` is config `vector_thread`; `nowMs` stamps
 * audit records and policy versions; `policy` configures the policy service (`failOpen`: config
 * `policy_fail_open`).
 */
export function registerMachines(
  storage: Storage,
  options: {
    vectorThread: boolean;
    nowMs: () => number;
    policy: { failOpen: boolean; log: Logger };
  },
): RegisteredMachines {
  const handles = {
    context: storage.register(createContextMachine({ helperThread: options.vectorThread })),
    tokens: storage.register(createTokensMachine()),
    policy: storage.register(createPolicyMachine()),
    audit: storage.register(createAuditMachine()),
    budgets: storage.register(createBudgetsMachine()),
    runs: storage.register(createRunsMachine()),
    workflows: storage.register(createWorkflowsMachine()),
  };
  // Policy first, so a refused batch is never audited as written; audit last.
  const policyService = createPolicyService({
    storage,
    machine: handles.policy,
    nowMs: options.nowMs,
    ...options.policy,
  });
  const { hook } = auditHook(handles.audit, options.nowMs, (call, tenant) =>
    policyService.decidedVersion(call, tenant),
  );
  storage.addHook("audit", hook);
  return { ...handles, policyService };
}

/** Clocks injected into the app so tests control time. */
export interface Clocks {
  nowMs: () => number;
  monotonicMs: () => number;
}

/** The running application, before and after it is bound to a port. */
export interface App {
  http: HttpApp;
  tokens: TokenService;
  policy: PolicyService;
  sandbox: SandboxService;
  context: ContextService;
  runs: RunService;
  storage: Storage;
  admin: AdminToken | null;
  /** Recovery and start-up housekeeping; `/v1/ready` answers 200 once it has resolved. */
  start(): Promise<void>;
  /**
   * Ends long-lived work (run event streams, `wait_ms` waits, step execution) so the server's
   * graceful stop is not held up by it; called when shutdown begins, before the server stops.
   */
  stopping(): Promise<void>;
  /** Flushes and closes every service (called on shutdown, after the server stopped). */
  close(): Promise<void>;
}

/** The system clocks. */
export const systemClocks: Clocks = { nowMs: Date.now, monotonicMs: () => performance.now() };

/** Creates the data directory (mode 0700) when it does not exist. */
export function ensureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/** The operator's call for start-up work (importing a legacy tokens file). */
const STARTUP_CALL: Call = localCall(ADMIN_PRINCIPAL, "00000000000000000000000000000000");

/**
 * Imports `DATA_DIR/tokens.jsonl` of an older vltair into the `tokens` machine, once (the file
 * is renamed afterwards); logs what it did.
 */
export async function importLegacyTokens(
  tokens: TokenService,
  dataDir: string,
  log: Logger,
): Promise<void> {
  const file = path.join(dataDir, TOKENS_FILE);
  const done = await tokens.importLegacy(STARTUP_CALL, file);
  if (done !== null) log.info("tokens.imported", { path: file, records: done.imported });
}

/**
 * Builds the application for a validated config.
 *
 * @example
 * ```ts
 * const app = createApp(config, { log, clocks: systemClocks });
 * app.markReady();
 * ```
 */
export function createApp(
  config: Config,
  options: {
    log: Logger;
    clocks: Clocks;
    timers?: Timers;
    /** Where `llm_providers` keys are read (default: the process environment). */
    env?: Readonly<Record<string, string | undefined>>;
  },
): App {
  const { log, clocks } = options;
  // Derived configuration is checked first, so a bad value exits 2 before anything is created.
  // The exec check reads `policy`, created below with the storage; runs start after start().
  const sandbox = createSandboxService(config, {
    log,
    nowMs: clocks.nowMs,
    policy: execPolicy(() => policy, sandboxLimits(config)),
    // A run is held against the tenant's sandbox_runs and sandbox_cpu_ms budgets, and settled
    // once it ran (sandbox-charge.ts).
    charge: (call, run) => sandboxCharge(budgets, log)(call, run),
    // Every run that passed the checks is a side effect in its tenant's audit trail.
    onRunStart: (call, run) =>
      audit.record(call, [
        {
          ...allowedBy(call),
          action: "exec",
          resource: `sandbox/${run.workspace}`,
          details: { program: run.program, network: run.network },
        },
      ]),
  });
  const settings = storageSettings(config);
  const contextConfig = contextSettings(config);
  const mcpLimits = MCP_LIMITS.resolveSnake(config.mcp_limits);
  const rateLimits = RATE_LIMITS.resolveSnake(config.rate_limits);
  const runLimits = orchestratorLimits(config);
  const models = modelGateway(config, options.env ?? process.env);
  ensureDataDir(config.data_dir);
  // Takes the data directory's lock: a second server on the same directory stops here.
  const storage = openStorage(config, settings, {
    log,
    nowMs: clocks.nowMs,
    monotonicMs: clocks.monotonicMs,
  });
  const machines = registerMachines(storage, {
    vectorThread: config.vector_thread,
    nowMs: clocks.nowMs,
    policy: { failOpen: config.policy_fail_open, log },
  });
  const audit = new AuditService({
    storage,
    handle: machines.audit,
    nowMs: clocks.nowMs,
    retentionDays: config.audit_retention_days,
    recordsMax: config.audit_records_max,
    authFailuresPerS: AUTH_FAILURES_AUDITED_PER_S,
  });
  const budgets = new BudgetService({ storage, handle: machines.budgets, nowMs: clocks.nowMs });
  const requestMeter = new RequestMeter({
    storage,
    handle: machines.budgets,
    nowMs: clocks.nowMs,
    flushMs: REQUESTS_FLUSH_MS,
  });
  const denials = auditDenials(machines.policyService, audit, log);
  const tokens = new TokenService({
    storage,
    machine: machines.tokens,
    nowMs: clocks.nowMs,
    tokensMax: config.tokens_max,
  });
  const policy = machines.policyService;
  const context = createContextService(contextConfig, {
    storage,
    machine: machines.context,
    monotonicMs: clocks.monotonicMs,
    policy,
  });
  const runs = createRunService(runLimits, {
    storage,
    runs: machines.runs,
    workflows: machines.workflows,
    context,
    sandbox,
    budgets,
    models,
    policy,
    // Model and HTTP calls of runs are side effects in their tenant's audit trail, with the
    // policy version that allowed them (the step's call is the one policy decided).
    audit: (call, effect) =>
      audit.record(call, [
        {
          ...allowedBy(call),
          action: effect.action,
          resource: effect.resource,
          policy_version: policy.decidedVersion(call, call.principal.tenant),
          run_id: effect.runId,
          details: effect.details,
        },
      ]),
    allowedHosts: config.http_allowed_hosts,
    timers: options.timers ?? systemTimers(clocks.nowMs),
    log,
  });
  const admin = config.no_auth
    ? null
    : ensureAdminToken({ envToken: config.admin_token, dataDir: config.data_dir });
  if (admin?.source === "file") {
    log.info("auth.admin_token", { path: admin.path, created: admin.created });
    if (admin.modeFixed)
      log.warn("auth.admin_token_mode_fixed", { path: admin.path, mode: "0600" });
  }
  if (config.no_auth) log.warn("auth.disabled", { host: config.host, reason: "--no-auth" });
  const metrics = new MetricsRegistry();
  registerProcessMetrics(metrics, clocks);
  sandbox.registerMetrics(metrics);
  runs.registerMetrics(metrics);
  let ready = false;
  let compaction: ReturnType<typeof setInterval> | null = null;
  let mcp: McpHttpSessions | null = null;
  const authenticator = createAuthenticator({
    adminToken: admin?.token ?? null,
    store: tokens,
    open: config.no_auth,
  });
  const http = createHttpApp({
    version: VERSION,
    log,
    metrics,
    authenticator,
    tokens,
    policy,
    sandbox,
    context,
    runs,
    takeSnapshot: async () => {
      const report = await storage.takeSnapshot();
      return {
        wal_index: report.walIndex,
        path: report.path,
        size_bytes: report.sizeBytes,
        snapshots_kept: report.snapshotsKept,
        segments_removed: report.segmentsRemoved,
      };
    },
    bodyBytesMax: config.body_bytes_max,
    startedAtMs: clocks.nowMs(),
    nowMs: clocks.nowMs,
    monotonicMs: clocks.monotonicMs,
    isReady: () => ready,
    mcpHandler: (request) => (mcp as McpHttpSessions).handle(request),
    audit,
    budgets,
    admitRequest: (call) => requestMeter.admit(call),
    onAuthFailure: (traceId, reason) => {
      if (!ready) return;
      audit
        .authFailed(localCall(ANONYMOUS, traceId), reason)
        .catch((error: unknown) => log.error("audit.write_failed", { error }));
    },
    rateLimits,
  });
  mcp = createMcpSessions(mcpLimits, config, {
    http,
    clocks,
    watch: resourceWatchOf(
      (listener) => storage.onApplied(listener),
      (runId) => runs.tenantOf(runId),
    ),
    tenantOf: (authorization) =>
      principalOfAuthorization(authenticator, authorization)?.tenant ?? null,
  });
  const startOnce = async (): Promise<void> => {
    // Compiled off the main thread first, so recovery's first vector index load does not
    // compile it synchronously while health checks wait.
    await Promise.all([precompileVectorModule(), policy.load()]);
    // Both steps log their own outcome (storage.recovered, sandbox.sweep.done).
    await storage.recover();
    policy.logLevels();
    await importLegacyTokens(tokens, config.data_dir, log);
    const configured = context.embedder === null ? null : identityOf(context.embedder);
    for (const { tenant, recorded } of context.tenantsWithOtherEmbedder()) {
      log.warn("context.embedder_mismatch", {
        tenant,
        recorded: describeIdentity(recorded),
        configured: configured === null ? null : describeIdentity(configured),
        effect: "requests of this tenant that embed answer 409 embedder_mismatch",
      });
    }
    // The snapshot's bytes and decoding temporaries are garbage now; return them before
    // serving instead of at the runtime's next collection.
    collectGarbage();
    await sandbox.sweep();
    compaction = startAuditCompaction(audit, log);
    // Every unfinished run of the log goes on where it stood (a started, unfinished step
    // runs again with the same attempt number).
    runs.resume();
    ready = true;
  };
  let starting: Promise<void> | null = null;
  return {
    http,
    tokens,
    policy,
    sandbox,
    context,
    runs,
    storage,
    admin,
    // Once: a second call waits for the first (recovery must run exactly once).
    start: () => {
      starting ??= startOnce();
      return starting;
    },
    stopping: () => runs.close(),
    close: async () => {
      if (compaction !== null) clearInterval(compaction);
      await requestMeter.close();
      await mcp?.close();
      await runs.close();
      sandbox.close();
      context.close();
      await denials.settle();
      await storage.close();
    },
  };
}

/** How often counted requests are written to their `requests` budgets. */
const REQUESTS_FLUSH_MS = 1000;
/** Auth failures written to the audit trail per second at most (the rest are counted). */
const AUTH_FAILURES_AUDITED_PER_S = 10;
/** How often retention compacts the audit chains. */
const AUDIT_COMPACTION_EVERY_MS = 3_600_000;
/** Who auth failures are recorded as: nobody known, in the server's chain. */
const ANONYMOUS: Principal = {
  subject: "anonymous",
  tenant: SERVER_CHAIN,
  roles: [],
  tokenId: null,
};

/** Retention now and then hourly, as the operator; a failure is logged and retried next hour. */
function startAuditCompaction(audit: AuditService, log: Logger): ReturnType<typeof setInterval> {
  const run = () =>
    audit
      .compact(localCall(ADMIN_PRINCIPAL, "0".repeat(32)))
      .then((chains) => {
        if (chains > 0) log.info("audit.compacted", { chains });
      })
      .catch((error: unknown) => log.error("audit.compaction_failed", { error }));
  void run();
  const timer = setInterval(run, AUDIT_COMPACTION_EVERY_MS);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** `/mcp`: sessions whose tools dispatch through this app with each session's credentials. */
function createMcpSessions(
  limits: McpLimits,
  config: Config,
  wiring: {
    http: HttpApp;
    clocks: Clocks;
    watch: ResourceWatch;
    tenantOf: (authorization: string | null) => string | null;
  },
): McpHttpSessions {
  const { http, clocks, watch, tenantOf } = wiring;
  const tools = toolsOf(http.routes);
  return new McpHttpSessions({
    createServer: (dispatch, authorization) =>
      createMcpServer({
        version: VERSION,
        tools,
        dispatch,
        changes: { watch, tenant: tenantOf(authorization) },
      }),
    dispatchFor: (authorization) => inAppDispatch((r) => http.app.fetch(r), authorization),
    sessionsMax: limits.sessionsMax,
    idleMs: limits.idleMs,
    messageBytesMax: limits.messageBytesMax,
    loopback: isLoopbackHost(config.host),
    allowedOrigins: config.mcp_allowed_origins,
    monotonicMs: clocks.monotonicMs,
  });
}

function registerProcessMetrics(metrics: MetricsRegistry, clocks: Clocks): void {
  const startedMs = clocks.monotonicMs();
  metrics.gauge(
    "process_resident_memory_bytes",
    "Resident set size of the process, in bytes.",
    () => process.memoryUsage().rss,
  );
  metrics.gauge(
    "process_heap_used_bytes",
    "JavaScript heap in use, in bytes.",
    () => process.memoryUsage().heapUsed,
  );
  metrics.gauge(
    "vltair_uptime_seconds",
    "Seconds since the app was created.",
    () => (clocks.monotonicMs() - startedMs) / 1000,
  );
}
