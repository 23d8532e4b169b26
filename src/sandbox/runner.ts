/**
 * `runSandboxed`: validate, plan with the OS shim, refuse or run, classify, clean up. After any
 * outcome no process of the run is alive and its temp dir is gone (or an error is logged).
 */
import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { VltairError } from "../core/mod.ts";
import { detectCapabilities, type SandboxCapabilities } from "./capabilities.ts";
import { notApplied, unappliedKeys } from "./enforced.ts";
import { buildChildEnv } from "./env.ts";
import { type Executed, execute } from "./execute.ts";
import {
  type HiddenPath,
  isWithin,
  normalizeHiddenPaths,
  resolveHiddenPaths,
} from "./hidden-paths.ts";
import { proxyEnv } from "./linux/mod.ts";
import { checkAllowlist } from "./network-allow.ts";
import { type NetworkProxy, startNetworkProxy } from "./network-proxy.ts";
import {
  checkRequireList,
  DEFAULT_ENV_PASSTHROUGH,
  resolveLimitConfig,
  type SandboxLimitConfig,
  type SandboxLogger,
  type SandboxOptions,
} from "./options.ts";
import { DEFAULT_REQUIRE, hintFor, missingRequired, refusalReason } from "./requirements.ts";
import {
  ENFORCED_KEYS,
  type EnforcedKey,
  type EnforcedReport,
  type SandboxResult,
} from "./schema.ts";
import { selectShim } from "./select-shim.ts";
import type { LaunchPlan } from "./shim.ts";
import { classify, exitRc, looksLikeAllocationFailure } from "./status.ts";
import { makeRunTempDir, nextRunTempDir, type RunTempDir, removeRunTempDir } from "./temp-dir.ts";
import { type ResolvedRequest, validateRequest } from "./validate.ts";
import { resolveCwd } from "./workspace.ts";

const TRACE_ID = /^[0-9a-f]{32}$/;
const noopLogger: SandboxLogger = () => undefined;

function newTraceId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** The trace id of a run: the given one when it is a W3C trace-id, else a fresh one. */
export function normalizeTraceId(traceId: string | undefined): string {
  const lower = traceId?.toLowerCase();
  return lower !== undefined && TRACE_ID.test(lower) ? lower : newTraceId();
}

async function realDir(path: string, field: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (cause) {
    throw new VltairError("config_invalid", `${field} does not exist`, {
      details: { field, path },
      cause,
    });
  }
}

function refusedReport(reason: string): EnforcedReport {
  const entries = ENFORCED_KEYS.map((key) => [key, notApplied(null, reason)] as const);
  return Object.fromEntries(entries) as EnforcedReport;
}

function nothingRan(
  status: "SANDBOX_DENIED" | "INTERNAL_ERROR",
  reason: string,
  enforced: EnforcedReport,
  traceId: string,
): SandboxResult {
  return {
    status,
    rc: 1,
    stdout: "",
    stderr: "",
    stdout_truncated: false,
    stderr_truncated: false,
    duration_ms: 0,
    max_rss_bytes: null,
    cpu_ms: null,
    enforced,
    network_refused: null,
    reason,
    trace_id: traceId,
  };
}

/**
 * A cwd inside a hidden path that lies inside the workspace would not exist in the run's view:
 * refused like any other bad cwd (a workspace inside a hidden directory is fine).
 */
function refuseHiddenCwd(cwd: string, workspaceRoot: string, hidden: readonly HiddenPath[]): void {
  for (const h of hidden) {
    if (h.kind !== "absent" && isWithin(cwd, h.real) && !isWithin(workspaceRoot, h.real)) {
      throw new VltairError("validation_failed", "cwd is inside a hidden path", {
        details: { field: "cwd", issue: "hidden" },
      });
    }
  }
}

/**
 * Runs `request` (the body of `POST /v1/sandbox/exec`) under the limits it asks for.
 * Throws `validation_failed` (nothing runs) for an invalid request or a cwd outside the
 * workspace, `config_invalid` for bad options; every other outcome is a result.
 *
 * @example
 * ```ts
 * const result = await runSandboxed(
 *   { cmd: ["pytest", "-q"], limits: { wall_ms: 60000 }, network: "deny" },
 *   { workspaceRoot: "/srv/ws", tempRoot: "/tmp" },
 * );
 * result.status; // "OK"
 * ```
 */
export async function runSandboxed(
  request: unknown,
  options: SandboxOptions,
): Promise<SandboxResult> {
  return runPrepared(await prepareRun(request, options));
}

/**
 * A request checked against the options: everything that can refuse it with an error (not a
 * result) is done, nothing has started. Streaming exec answers its HTTP status from here.
 */
export interface PreparedRun {
  options: SandboxOptions;
  limits: SandboxLimitConfig;
  require: readonly EnforcedKey[];
  req: ResolvedRequest;
  workspaceRoot: string;
  cwd: string;
  hidden: readonly HiddenPath[];
  tempRoot: string;
  traceId: string;
  log: SandboxLogger;
}

/**
 * Validates `request` and the options. Throws `validation_failed` (a bad request or cwd) or
 * `config_invalid` (bad options); nothing runs.
 *
 * @example
 * ```ts
 * const prepared = await prepareRun({ cmd: ["true"] }, options);
 * const result = await runPrepared(prepared);
 * ```
 */
export async function prepareRun(request: unknown, options: SandboxOptions): Promise<PreparedRun> {
  const limits = resolveLimitConfig(options.limits);
  const require = checkRequireList(options.require ?? DEFAULT_REQUIRE);
  const hiddenPaths = normalizeHiddenPaths(options.hiddenPaths);
  const parsed = validateRequest(request, limits);
  const req =
    parsed.network === "proxy"
      ? {
          ...parsed,
          networkAllow: checkAllowlist(parsed.networkAllow, options.networkAllowDomains ?? []),
        }
      : parsed;
  const workspaceRoot = await realDir(options.workspaceRoot, "sandbox.workspace_root");
  if (workspaceRoot === "/") {
    // The workspace is bound writable over a read-only root: "/" would make everything writable.
    throw new VltairError("config_invalid", "the sandbox workspace cannot be /", {
      details: { field: "sandbox.workspace_root", path: workspaceRoot },
    });
  }
  const cwd = await resolveCwd(workspaceRoot, req.cwd);
  const hidden = await resolveHiddenPaths(hiddenPaths);
  refuseHiddenCwd(cwd, workspaceRoot, hidden);
  const tempRoot = await realDir(options.tempRoot, "sandbox.temp_root");
  const traceId = normalizeTraceId(options.traceId);
  const sink = options.logger ?? noopLogger;
  // Every event of the run carries its trace id, including those logged deep in the kill path.
  const log: SandboxLogger = (level, event, fields) => {
    try {
      sink(level, event, { trace_id: traceId, ...fields });
    } catch {
      // A failing log sink must not break a run halfway (and leave its processes behind).
    }
  };
  return { options, limits, require, req, workspaceRoot, cwd, hidden, tempRoot, traceId, log };
}

/**
 * Runs a prepared request to its result: refusals (`SANDBOX_DENIED`, `INTERNAL_ERROR`) are
 * results too. After it returns no process of the run is alive and its temp dir is gone.
 */
export async function runPrepared(prepared: PreparedRun): Promise<SandboxResult> {
  const { options, limits, req, cwd, workspaceRoot, hidden, tempRoot, traceId, log } = prepared;
  if (req.network === "allow" && options.networkAllowPermitted === false) {
    log("warn", "sandbox.run.denied", { reason: "network_allow_refused" });
    return nothingRan(
      "SANDBOX_DENIED",
      "network_allow_refused",
      refusedReport("network_allow_refused"),
      traceId,
    );
  }
  const caps = await detectCapabilities({
    ...(options.tools === undefined ? {} : { tools: options.tools }),
    ...(options.cgroupRoot === undefined ? {} : { cgroupRoot: options.cgroupRoot }),
    ...(options.disable === undefined ? {} : { disable: options.disable }),
  });
  if (caps.platform === "linux" && !caps.procfs.available) {
    // Without /proc the run's processes cannot be tracked nor killed: never run.
    const reason = `required_not_applied:process_tree — process_tree: ${caps.procfs.reason}; to get it: ${hintFor("process_tree", caps)}`;
    log("error", "sandbox.run.refused", { reason });
    return nothingRan("SANDBOX_DENIED", reason, refusedReport(reason), traceId);
  }
  const temp = await nextRunTempDir(tempRoot, traceId);
  const runName = temp.root.slice(temp.root.lastIndexOf("vltair-"));
  const shim = selectShim(caps.platform);
  const proxySocket = req.network === "proxy" ? join(temp.root, "proxy.sock") : null;
  // The temp dir and the shim's set-up (the run's cgroup) do not depend on each other.
  const [made, setUp] = await Promise.allSettled([
    makeRunTempDir(temp),
    shim.prepare({ req, cwd, workspaceRoot, temp, runName, caps, limits, hidden, proxySocket }),
  ]);
  if (made.status === "rejected") {
    if (setUp.status === "fulfilled") await disposePlan(setUp.value, runName, log);
    const code = (made.reason as NodeJS.ErrnoException).code ?? "error";
    log("error", "sandbox.tempdir.create_failed", { temp_root: tempRoot, code });
    return nothingRan(
      "INTERNAL_ERROR",
      "temp_dir_create_failed",
      refusedReport("temp_dir_create_failed"),
      traceId,
    );
  }
  let removing: Promise<void> | null = null;
  const removeTemp = (): Promise<void> => {
    removing ??= removeRunTempDir(temp).then((ok) => {
      if (!ok) log("error", "sandbox.tempdir.remove_failed", { path: temp.root });
    });
    return removing;
  };
  if (setUp.status === "rejected") {
    await removeTemp();
    throw setUp.reason;
  }
  const plan = setUp.value;
  try {
    return await runPlan({
      options,
      caps,
      require: prepared.require,
      limits,
      req,
      cwd,
      traceId,
      log,
      temp,
      plan,
      runName,
      shimName: shim.name,
      proxySocket,
      removeTemp,
    });
  } finally {
    await Promise.all([disposePlan(plan, runName, log), removeTemp()]);
  }
}

async function disposePlan(plan: LaunchPlan, runName: string, log: SandboxLogger): Promise<void> {
  if (!(await plan.tracker.dispose()))
    log("error", "sandbox.cgroup.remove_failed", { run: runName });
}

type RunContext = {
  options: SandboxOptions;
  caps: SandboxCapabilities;
  require: readonly EnforcedKey[];
  limits: SandboxLimitConfig;
  req: ResolvedRequest;
  cwd: string;
  traceId: string;
  log: SandboxLogger;
  temp: RunTempDir;
  plan: LaunchPlan;
  runName: string;
  shimName: string;
  /** The proxy's socket of a run with a network allowlist. */
  proxySocket: string | null;
  /** Starts (once) the temp dir's removal; awaited by the caller on every outcome. */
  removeTemp: () => Promise<void>;
};

async function runPlan(ctx: RunContext): Promise<SandboxResult> {
  const { options, limits, req, traceId, log, plan } = ctx;
  const unapplied = unappliedKeys(plan.enforced);
  for (const key of unapplied) {
    log("warn", "sandbox.limit.not_applied", { limit: key, reason: plan.enforced[key].reason });
  }
  const policy = { require: ctx.require, allowPartial: options.allowPartial === true };
  // An allowlist without its namespace would reach everything: never waived.
  const always: EnforcedKey[] =
    req.network === "proxy" ? ["hidden_paths", "network"] : ["hidden_paths"];
  const missing = missingRequired(plan.enforced, policy, req.allowPartial, always);
  if (missing.length > 0) {
    const reason = refusalReason(missing, plan.enforced, ctx.caps);
    log("error", "sandbox.run.refused", { reason, missing });
    return nothingRan("SANDBOX_DENIED", reason, plan.enforced, traceId);
  }
  if (!req.allowPartial && unapplied.length > 0) {
    const reason = `limit_not_applied:${unapplied.join(",")}`;
    log("error", "sandbox.run.refused", { reason });
    return nothingRan("INTERNAL_ERROR", reason, plan.enforced, traceId);
  }
  let proxy: NetworkProxy | null = null;
  if (ctx.proxySocket !== null) {
    try {
      proxy = await startNetworkProxy({
        socketPath: ctx.proxySocket,
        allow: req.networkAllow,
        resolve: options.networkResolve ?? {},
        limits,
        log,
      });
    } catch (error) {
      log("error", "sandbox.network.proxy_failed", { code: (error as NodeJS.ErrnoException).code });
      return nothingRan("INTERNAL_ERROR", "network_proxy_failed", plan.enforced, traceId);
    }
  }
  try {
    return await execPlan(ctx, proxy);
  } finally {
    await proxy?.close();
  }
}

async function execPlan(ctx: RunContext, proxy: NetworkProxy | null): Promise<SandboxResult> {
  const { options, limits, req, traceId, log, temp, plan } = ctx;
  log("info", "sandbox.run.start", {
    run: ctx.runName,
    shim: ctx.shimName,
    mechanisms: plan.mechanisms,
  });
  const env = buildChildEnv({
    parentEnv: options.parentEnv ?? process.env,
    passthrough: options.envPassthrough ?? DEFAULT_ENV_PASSTHROUGH,
    requestEnv: req.env,
    homeDir: temp.home,
    tmpDir: temp.tmp,
    serverEnv: proxy === null ? {} : proxyEnv(),
  });
  const done = await execute({
    plan,
    cwd: ctx.cwd,
    env,
    stdin: req.stdin,
    wallMs: req.wallMs,
    outputBytes: req.outputBytes,
    killGraceMs: limits.killGraceMs,
    reapTimeoutMs: limits.reapTimeoutMs,
    clockMs: options.clockMs ?? (() => performance.now()),
    signal: options.signal,
    log,
    onOutput: options.onOutput,
  });
  // Nothing of the run is alive any more (or survivors are reported): its temp dir goes now,
  // while the result is read and the cgroup removed.
  void ctx.removeTemp();
  const result = await buildResult(plan, done, req.wallMs, traceId, proxy?.refused ?? null);
  log("info", "sandbox.run.end", {
    status: result.status,
    rc: result.rc,
    reason: result.reason,
    duration_ms: result.duration_ms,
    cpu_ms: result.cpu_ms,
    spawn_error: done.spawnError,
    network_refused: result.network_refused,
  });
  return result;
}

/** Classifies a finished run and renders the wire result. */
async function buildResult(
  plan: LaunchPlan,
  done: Executed,
  wallMs: number,
  traceId: string,
  networkRefused: number | null,
): Promise<SandboxResult> {
  const stderr = done.stderr.text();
  const rc = exitRc(done.exitCode, done.exitSignal);
  const rlimitAs = plan.enforced.memory.mechanism === "rlimit_as";
  const classified = classify({
    ready: done.ready,
    exitCode: done.exitCode,
    exitSignal: done.exitSignal,
    killReason: done.killReason,
    durationMs: done.durationMs,
    wallMs,
    cgroupOomKill: await plan.tracker.memoryLimitHit(),
    allocationFailure: rlimitAs && looksLikeAllocationFailure(rc, stderr),
    survivors: done.survivors,
    outputExceeded: done.stdout.truncated || done.stderr.truncated,
    commandNotFound: !plan.readyMarker && done.spawnError === "ENOENT",
  });
  return {
    status: classified.status,
    rc: classified.rc,
    stdout: done.stdout.text(),
    stderr,
    stdout_truncated: done.stdout.truncated,
    stderr_truncated: done.stderr.truncated,
    duration_ms: Math.round(done.durationMs),
    max_rss_bytes: await plan.tracker.maxRssBytes(),
    cpu_ms: await plan.tracker.cpuMs(),
    enforced: plan.enforced,
    network_refused: networkRefused,
    reason: classified.reason,
    trace_id: traceId,
  };
}
