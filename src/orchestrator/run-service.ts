/**
 * The orchestrator's service: start runs (inline or stored workflows, idempotency keys, bounded
 * queues), read them, list them, stream and replay their events, cancel and signal them, and
 * store workflows. Every method takes the caller's `Call`: a run belongs to the caller's tenant
 * (another tenant's run is 404 everywhere) and acts, in every step, with its creator's
 * principal. Writes go through `storage.commit` (run-driver.ts); nothing here appends.
 */

import { Buffer } from "node:buffer";
import { createHash, getRandomValues } from "node:crypto";
import { canonicalJson, TenantLock } from "../context/mod.ts";
import { authorize, type Call, localCall, VltairError } from "../core/mod.ts";
import type { Logger, MetricsRegistry } from "../obs/mod.ts";
import { ADMIN_PRINCIPAL } from "../policy/mod.ts";
import type { MachineHandle, Storage } from "../storage/mod.ts";
import { EventHub } from "./event-hub.ts";
import type { ExecutorServices } from "./executors/mod.ts";
import { forkReuse } from "./fork-plan.ts";
import type { OrchestratorLimits } from "./limits.ts";
import { registerRunMetrics } from "./metrics.ts";
import { RunDriver } from "./run-driver.ts";
import { sseFrame } from "./run-events.ts";
import type { CreateRecord, ForkOrigin, RunRecord } from "./run-record.ts";
import { FORGET_BATCH_MAX, runsToForget } from "./run-retention.ts";
import {
  type ForkRunRequest,
  RUN_BUDGET_HISTORY_MAX,
  RUNS_LIST_LIMIT_DEFAULT,
  type RunBudgetHistory,
  type RunBudgetView,
  type RunList,
  type RunView,
  type SignalRequest,
  type StartRunRequest,
} from "./run-schemas.ts";
import { isStepDone, isTerminal, type RunState, type RunUsage } from "./run-state.ts";
import { runSummary, runView } from "./run-view.ts";
import {
  briefOf,
  foldJournal,
  idempotencyKey,
  type RunEntry,
  type RunsState,
} from "./runs-machine.ts";
import type { Timers } from "./timers.ts";
import { type CompiledWorkflow, compileWorkflow, validateWorkflow } from "./validate-workflow.ts";
import { WorkflowStore } from "./workflow-store.ts";
import type { WorkflowRecord, WorkflowsState } from "./workflows-machine.ts";

/**
 * The steps whose `on_cancel` runs when `run` is cancelled now: those that started (running,
 * waiting) or succeeded, deepest first (reverse topological order: what was done last is undone
 * first), later declarations first among equals.
 */
export function compensationOrder(run: RunState): string[] {
  return run.graph.steps
    .filter((g) => {
      const status = run.steps[g.index]?.status;
      const started = status === "succeeded" || status === "running" || status === "waiting";
      return started && run.workflow.steps[g.index]?.on_cancel !== undefined;
    })
    .sort((a, b) => b.depth - a.depth || b.index - a.index)
    .map((g) => g.id);
}

/** How often finished runs are checked against retention (sooner while a batch was full). */
const RETENTION_SWEEP_MS = 60_000;

/** Retention is the server's own act (the operator's principal). */
const RETENTION_CALL: Call = localCall(ADMIN_PRINCIPAL, "0".repeat(32));

/** What the service needs. */
export interface RunServiceOptions {
  storage: Storage;
  runs: MachineHandle<RunsState, RunRecord>;
  workflows: MachineHandle<WorkflowsState, WorkflowRecord>;
  services: ExecutorServices;
  limits: OrchestratorLimits;
  timers: Timers;
  log: Logger;
}

/** What `start` and `fork` answer. */
export interface StartedRun {
  run_id: string;
  status: RunState["status"];
  wal_index: number;
  /** A fork's source run and step. */
  forked_from?: { run_id: string; step_id: string };
  /** False when an idempotency key named an existing run (HTTP 200 instead of 201). */
  created: boolean;
}

/** What a new run's `create` record holds besides its principal and id. */
interface Launch {
  compiled: CompiledWorkflow;
  input: unknown;
  /** What identifies the request besides its input (hashed: an idempotency key's request). */
  request: Record<string, unknown>;
  workflowRef: { name: string; version: number } | undefined;
  idempotencyKey: string | undefined;
  fork?: ForkOrigin;
}

/** The answer of a start or fork of `run`, created at `walIndex`. */
function startedOf(run: RunState, walIndex: number): Omit<StartedRun, "created"> {
  const started: Omit<StartedRun, "created"> = {
    run_id: run.id,
    status: run.status,
    wal_index: walIndex,
  };
  if (run.forkedFrom !== null)
    started.forked_from = { run_id: run.forkedFrom.runId, step_id: run.forkedFrom.stepId };
  return started;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** `run_` + creation time (12 hex digits of ms) + 16 random hex digits. */
function newRunId(nowMs: number): string {
  const time = Math.floor(nowMs).toString(16).padStart(12, "0").slice(-12);
  return `run_${time}${Buffer.from(getRandomValues(new Uint8Array(8))).toString("hex")}`;
}

function cursorOf(walIndex: number): string {
  return Buffer.from(String(walIndex)).toString("base64url");
}

function fromCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[0-9]{1,15}$/.test(text)) {
    throw new VltairError("validation_failed", "cursor is not a cursor this server returned", {
      details: { field: "cursor" },
    });
  }
  return Number(text);
}

export class RunService {
  readonly workflows: WorkflowStore;
  readonly #o: RunServiceOptions;
  readonly #driver: RunDriver;
  readonly #hub = new EventHub();
  readonly #keys = new TenantLock();

  #closed = false;
  #cancelRetention: () => void = () => {};

  constructor(options: RunServiceOptions) {
    this.#o = options;
    this.workflows = new WorkflowStore({ ...options, machine: options.workflows });
    this.#driver = new RunDriver({ ...options, onChange: (runId) => this.#hub.notify(runId) });
  }

  /** The limits in force. */
  get limits(): OrchestratorLimits {
    return this.#o.limits;
  }

  registerMetrics(registry: MetricsRegistry): void {
    const driver = this.#driver;
    this.#driver.metrics = registerRunMetrics(registry, {
      runsActive: () => driver.activeCount,
      runsQueued: () => driver.queuedCount,
      stepsRunning: () => driver.slots.used,
      stepsQueued: () => driver.slots.queued,
    });
  }

  #state(): RunsState {
    return this.#o.runs.state();
  }

  /**
   * The tenant of run `id`, or null: for the server's own notifications (an MCP session
   * subscribed to a run hears of it only within that tenant), never for an answer to a caller.
   */
  tenantOf(id: string): string | null {
    const entry = this.#state().runs.get(id);
    return entry === undefined ? null : briefOf(entry).tenant;
  }

  /** The caller's run `id`; 404 `not_found` for an unknown id and for another tenant's. */
  #entry(call: Call, id: string): RunEntry {
    const entry = this.#state().entry(call.principal.tenant, id);
    if (entry === undefined)
      throw new VltairError("not_found", "no such run", { details: { run_id: id } });
    return entry;
  }

  /**
   * Starts a run of an inline workflow or a stored one (`workflow_ref`), or answers the run an
   * idempotency key already names (same request) — 409 `idempotency_conflict` for another
   * request under the same key.
   */
  async start(call: Call, request: StartRunRequest): Promise<StartedRun> {
    authorize(call, "writer", "run.start");
    if ((request.workflow === undefined) === (request.workflow_ref === undefined)) {
      throw new VltairError(
        "validation_failed",
        "workflow: give exactly one of workflow and workflow_ref",
        {
          details: { field: "workflow" },
        },
      );
    }
    const ref = request.workflow_ref;
    const stored = ref === undefined ? null : this.workflows.resolve(call, ref.name, ref.version);
    const compiled = validateWorkflow(stored?.workflow ?? request.workflow, this.#o.limits);
    const input = request.input ?? {};
    return this.#launch(call, {
      compiled,
      input,
      request: { workflow: stored === null ? compiled.workflow : null, workflow_ref: ref ?? null },
      workflowRef: stored === null ? undefined : { name: stored.name, version: stored.version },
      idempotencyKey: request.idempotency_key,
    });
  }

  /**
   * Forks run `id` from step `from_step` (docs/orchestrator.md "Forking a run"): a new run of
   * the caller's tenant, with the source's input and workflow unless the request replaces them,
   * that reuses the outputs of the source's completed steps not downstream of `from_step`
   * (fork-plan.ts) — copied into its `create` record — and runs the rest. Checked like a start
   * (the writer role, `run.start`, idempotency keys, admission).
   */
  async fork(call: Call, id: string, request: ForkRunRequest): Promise<StartedRun> {
    authorize(call, "writer", "run.start");
    const source = this.#entry(call, id).run;
    const compiled =
      request.workflow === undefined
        ? compileWorkflow(source.workflow, source.graph)
        : validateWorkflow(request.workflow, this.#o.limits);
    const input = request.input === undefined ? source.input : request.input;
    const fork = forkReuse(source, request.from_step, compiled);
    const keepsSource = request.workflow === undefined && source.workflowRef !== null;
    return this.#launch(call, {
      compiled,
      input,
      request: {
        fork: { run_id: source.id, from_step: request.from_step },
        workflow: compiled.workflow,
      },
      workflowRef: keepsSource ? (source.workflowRef ?? undefined) : undefined,
      idempotencyKey: request.idempotency_key,
      fork,
    });
  }

  /** Writes the `create` record of a new run (or answers the run its idempotency key names). */
  #launch(call: Call, launch: Launch): Promise<StartedRun> {
    const key = launch.idempotencyKey;
    const requestHash = sha256(canonicalJson({ ...launch.request, input: launch.input }));
    const create = async (): Promise<StartedRun> => {
      const existing =
        key === undefined
          ? undefined
          : this.#state().idempotency.get(idempotencyKey(call.principal.tenant, key));
      if (existing !== undefined) return this.#repeated(existing, requestHash, key as string);
      const { principal } = call;
      const record: CreateRecord = {
        op: "create",
        run_id: newRunId(this.#o.timers.nowMs()),
        principal: {
          subject: principal.subject,
          tenant: principal.tenant,
          roles: [...principal.roles],
          token_id: principal.tokenId,
        },
        trace_id: call.traceId,
        workflow: launch.compiled.workflow,
        input: launch.input,
        request_hash: requestHash,
      };
      if (launch.workflowRef !== undefined) record.workflow_ref = { ...launch.workflowRef };
      if (key !== undefined) record.idempotency_key = key;
      if (launch.fork !== undefined) record.fork = launch.fork;
      const walIndex = await this.#driver.create(record, launch.compiled);
      const run = this.#state().runs.get(record.run_id)?.run as RunState;
      return { ...startedOf(run, walIndex), created: true };
    };
    return key === undefined
      ? create()
      : this.#keys.run(idempotencyKey(call.principal.tenant, key), create);
  }

  #repeated(runId: string, requestHash: string, key: string): StartedRun {
    const run = this.#state().runs.get(runId)?.run as RunState;
    if (run.requestHash !== requestHash) {
      throw new VltairError(
        "idempotency_conflict",
        "this idempotency key names a run of another request",
        {
          details: { idempotency_key: key, run_id: run.id },
        },
      );
    }
    return { ...startedOf(run, run.createdWalIndex), created: false };
  }

  /** The run body. */
  get(call: Call, id: string): RunView {
    authorize(call, "reader", "run.read");
    return runView(this.#entry(call, id));
  }

  /** The run's budget: the workflow's limits, what the run used, what is left. */
  budget(call: Call, id: string): RunBudgetView {
    authorize(call, "reader", "run.read");
    const run = this.#entry(call, id).run;
    const limits = run.workflow.budget ?? {};
    const remaining: Record<string, number> = {};
    const wallMs = (run.endedAtMs ?? this.#o.timers.nowMs()) - run.createdAtMs;
    for (const [unit, limit] of Object.entries(limits) as [keyof typeof limits, number][]) {
      const used = unit === "wall_ms" ? wallMs : run.used[unit];
      remaining[unit] = Math.max(0, Math.round((limit - used) * 1e6) / 1e6);
    }
    return { run_id: run.id, limits, used: { ...run.used }, remaining, wall_ms: wallMs };
  }

  /** The run's last budget charges (its `budget.charged` events), oldest first. */
  budgetHistory(call: Call, id: string): RunBudgetHistory {
    authorize(call, "reader", "run.read");
    const entry = this.#entry(call, id);
    const history = entry.events
      .filter((e) => e.type === "budget.charged")
      .slice(-RUN_BUDGET_HISTORY_MAX)
      .map((e) => {
        const charged = e.output as { usage: Record<string, number>; used: RunUsage };
        return {
          seq: e.seq,
          ts: new Date(e.tsMs).toISOString(),
          step_id: e.stepId as string,
          attempt: e.attempt as number,
          usage: charged.usage,
          used: charged.used,
        };
      });
    return { run_id: entry.run.id, history };
  }

  /** The caller's runs, newest first, optionally of one status; `next_cursor` pages on. */
  list(
    call: Call,
    query: {
      status?: RunState["status"] | undefined;
      cursor?: string | undefined;
      limit?: number | undefined;
    },
  ): RunList {
    authorize(call, "reader", "run.read");
    const limit = query.limit ?? RUNS_LIST_LIMIT_DEFAULT;
    const before = query.cursor === undefined ? Number.POSITIVE_INFINITY : fromCursor(query.cursor);
    const ids = this.#state().byTenant.get(call.principal.tenant) ?? [];
    const runs: RunState[] = [];
    let more = false;
    for (let i = ids.length - 1; i >= 0; i--) {
      // Filtered on briefs: a finished run restored from a snapshot is folded only if listed.
      const entry = this.#state().runs.get(ids[i] as string);
      const brief = entry === undefined ? undefined : briefOf(entry);
      if (brief === undefined || brief.createdWalIndex >= before) continue;
      if (query.status !== undefined && brief.status !== query.status) continue;
      if (runs.length === limit) {
        more = true;
        break;
      }
      runs.push((entry as RunEntry).run);
    }
    const last = runs.at(-1);
    return {
      runs: runs.map(runSummary),
      next_cursor: more && last !== undefined ? cursorOf(last.createdWalIndex) : null,
    };
  }

  /** Cancels a run: its unfinished steps are cancelled (running ones aborted), then the run. */
  async cancel(call: Call, id: string): Promise<number> {
    authorize(call, "writer", "run.cancel");
    this.#entry(call, id);
    return this.#driver.decide(id, (run) => {
      const current = this.#live(run, id);
      // Already cancelling (compensations running): nothing more to decide.
      if (current.compensations !== null) return { records: [] };
      const records: RunRecord[] = current.steps
        .filter((s) => !isStepDone(s.status))
        .map((s) => ({
          op: "cancel_step",
          run_id: id,
          step_id: current.graph.steps[s.index]?.id as string,
        }));
      const compensate = compensationOrder(current);
      if (compensate.length > 0) records.push({ op: "compensate", run_id: id, steps: compensate });
      else records.push({ op: "finish", run_id: id, status: "cancelled" });
      return { records };
    });
  }

  /** Sends a signal; one no step waits for yet is kept until one does. */
  async signal(call: Call, id: string, request: SignalRequest): Promise<number> {
    authorize(call, "writer", "run.signal");
    this.#entry(call, id);
    return this.#driver.decide(id, (run) => {
      const current = this.#live(run, id);
      if (current.signals.length >= this.#o.limits.signalsPendingMax) {
        throw new VltairError(
          "queue_full",
          `the run keeps ${current.signals.length} signals no step has taken`,
          {
            details: { limit: this.#o.limits.signalsPendingMax, scope: "signals_pending_max" },
            headers: { "retry-after": "1" },
          },
        );
      }
      return {
        records: [
          { op: "signal", run_id: id, name: request.name, payload: request.payload ?? null },
        ],
      };
    });
  }

  /** The run, unless it has ended: 409 `conflict` then. */
  #live(run: RunState | undefined, id: string): RunState {
    if (run === undefined || isTerminal(run.status)) {
      throw new VltairError("conflict", `the run has ended (${run?.status ?? "unknown"})`, {
        details: { run_id: id, status: run?.status ?? null },
      });
    }
    return run;
  }

  /** The run's event stream (SSE) after event `afterSeq`, live until its terminal event. */
  events(
    call: Call,
    id: string,
    options: { afterSeq: number; signal?: AbortSignal },
  ): ReadableStream<Uint8Array> {
    authorize(call, "reader", "run.read");
    this.#entry(call, id);
    return this.#hub.stream(id, () => this.#state().runs.get(id), options);
  }

  /**
   * The run's events rebuilt from its records (no side effect), as SSE text equal byte for byte
   * to what `/events` streamed; with `atWalIndex`, only the events of records at or before it.
   */
  replay(
    call: Call,
    id: string,
    options: { atWalIndex?: number } = {},
  ): { text: string; run: RunView | null } {
    authorize(call, "reader", "run.read");
    const entry = this.#entry(call, id);
    const folded = foldJournal(entry.journal, options.atWalIndex ?? null);
    if (folded === undefined) return { text: "", run: null };
    return { text: folded.events.map((e) => sseFrame(id, e)).join(""), run: runView(folded) };
  }

  /** The run body once it has ended, or after `timeoutMs` (or when `signal` aborts), as it is then. */
  async wait(call: Call, id: string, timeoutMs: number, signal?: AbortSignal): Promise<RunView> {
    const ended = () => isTerminal(this.#entry(call, id).run.status);
    if (timeoutMs > 0 && !ended()) {
      await new Promise<void>((resolve) => {
        const done = () => {
          unsubscribe();
          cancelTimer();
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const unsubscribe = this.#hub.subscribe(id, () => {
          if (ended()) done();
        });
        const cancelTimer = this.#o.timers.setTimer(timeoutMs, done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
    return this.get(call, id);
  }

  /** Resumes every unfinished run of the log (the server's start, after recovery). */
  resume(): void {
    this.#driver.resumeAll();
    this.#armRetention(0);
  }

  /**
   * Forgets finished runs past `runs_retention_days` or beyond `runs_finished_max` (a bounded
   * batch per sweep, as the operator: retention is the server's act, not a tenant's).
   */
  async sweepRetention(): Promise<number> {
    const forget = runsToForget(this.#state(), this.#o.timers.nowMs(), this.#o.limits);
    if (forget.length === 0) return 0;
    await this.#o.storage.commit(
      forget.map((r) => this.#o.runs.record(r, this.#o.timers.nowMs())),
      RETENTION_CALL,
    );
    this.#o.log.info("runs.forgotten", { runs: forget.length });
    return forget.length;
  }

  /**
   * The sweep's own process timer (unref'd, not the runs' `Timers`: it is housekeeping, and
   * tests that count armed run timers must not see it); ages are measured on the runs' clock.
   */
  #armRetention(delayMs: number): void {
    if (this.#closed) return;
    const handle = setTimeout(() => {
      void this.sweepRetention()
        .catch((error: unknown) => {
          this.#o.log.error("runs.retention_failed", { error });
          return 0;
        })
        .then((n) => this.#armRetention(n === FORGET_BATCH_MAX ? 0 : RETENTION_SWEEP_MS));
    }, delayMs);
    (handle as { unref?: () => void }).unref?.();
    this.#cancelRetention = () => clearTimeout(handle);
  }

  /** Ends event streams and waits, then stops driving runs (they resume at the next start). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelRetention();
    this.#hub.closeAll();
    await this.#driver.close();
  }
}
