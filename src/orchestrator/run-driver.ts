/**
 * The driver: runs the decisions of plan-run.ts against the clock, the slots and the executors.
 * Every change of a run is one transition under the run's lock: decide (a step's outcome, a
 * signal, a cancel), fold it ahead, plan what follows (skips, schedules, the end), start what
 * may start (slots permitting) — and commit all of it as ONE batch through `storage.commit`
 * with the run's `Call`. Executors launch only after their `start` is durable; their outcome is
 * the next transition. A shutdown records nothing: what was running restarts after recovery.
 */
import * as v from "valibot";
import { TenantLock } from "../context/mod.ts";
import { type Call, VltairError } from "../core/mod.ts";
import type { Logger } from "../obs/mod.ts";
import {
  commitPrepared,
  type MachineHandle,
  type PreparedWrite,
  type Storage,
} from "../storage/mod.ts";
import { backoffMs } from "./backoff.ts";
import {
  type ExecutorServices,
  type HeldUnit,
  type JournalEntry,
  STEP_KIND_SPECS,
  type StepResult,
  type TakenSignal,
} from "./executors/mod.ts";
import { FairQueue } from "./fair-queue.ts";
import type { OrchestratorLimits } from "./limits.ts";
import { NO_RUN_METRICS, type RunMetrics } from "./metrics.ts";
import { planRun, startable } from "./plan-run.ts";
import { foldRun } from "./run-fold.ts";
import type { CreateRecord, RunRecord, Usage } from "./run-record.ts";
import {
  isStepDone,
  isTerminal,
  type RunState,
  type StepState,
  scopeOf,
  sumUsage,
} from "./run-state.ts";
import { briefOf, type RunsState } from "./runs-machine.ts";
import { SignalBox } from "./signal-box.ts";
import type { StepError } from "./step-error.ts";
import { StepFailure, stepErrorOf } from "./step-error.ts";
import { parseStepInput } from "./step-input.ts";
import { StepSlots } from "./step-slots.ts";
import { resolveReferences } from "./template.ts";
import { type Timers, timeoutSignal } from "./timers.ts";
import { type CompiledWorkflow, compileWorkflow } from "./validate-workflow.ts";

/** What the driver needs. */
export interface RunDriverOptions {
  storage: Storage;
  runs: MachineHandle<RunsState, RunRecord>;
  services: ExecutorServices;
  timers: Timers;
  limits: OrchestratorLimits;
  log: Logger;
  /** Called after each commit of a run's records (event streams flush). */
  onChange: (runId: string) => void;
}

/** A run this process drives. */
interface LiveRun {
  readonly id: string;
  readonly compiled: CompiledWorkflow;
  /** Aborts every attempt of the run (its end, or the server stopping). */
  readonly abort: AbortController;
  /** Attempts running in this process, by step id. */
  readonly executing: Map<string, Execution>;
  readonly retryTimers: Map<string, () => void>;
  readonly signals: SignalBox;
  /** Run budget held by side effects in flight, by unit. */
  readonly held: Record<HeldUnit, number>;
  /** Charged by attempts and not yet in a committed record (counted as used meanwhile). */
  readonly unrecorded: Record<HeldUnit, number>;
  /** Cancels the run's `wall_ms` budget timer. */
  cancelWallTimer: (() => void) | null;
  /** Bytes of the run's records (JSON), counted from its journal on the first transition. */
  historyBytes: number | null;
  /** A compensation (`on_cancel`) runs now. */
  compensating: boolean;
}

interface Execution {
  attempt: number;
  holdsSlot: boolean;
  startedMs: number;
  /** Aborts this attempt alone (its step was cancelled while the run goes on compensating). */
  controller: AbortController;
  /** Spent since the last record of the attempt (recorded with the next one). */
  usage: Usage;
}

/** A step's `with` with its references resolved, but for `deferred` keys (kept as written). */
function resolveWith(
  raw: Record<string, unknown>,
  deferred: readonly string[],
  scope: ReturnType<typeof scopeOf>,
): unknown {
  if (deferred.length === 0) return resolveReferences(raw, scope);
  const now = Object.fromEntries(Object.entries(raw).filter(([k]) => !deferred.includes(k)));
  const resolved = resolveReferences(now, scope) as Record<string, unknown>;
  for (const key of deferred) if (Object.hasOwn(raw, key)) resolved[key] = raw[key];
  return resolved;
}

/** The run's first deadline, and the error it ends the run with; null when it has none. */
function runDeadline(
  run: RunState,
): { atMs: number; error: (elapsedMs: number) => StepFailure } | null {
  const wallMs = run.workflow.budget?.wall_ms;
  const timeoutMs = run.workflow.timeout_ms;
  if (wallMs === undefined && timeoutMs === undefined) return null;
  if (timeoutMs !== undefined && (wallMs === undefined || timeoutMs < wallMs)) {
    return {
      atMs: run.createdAtMs + timeoutMs,
      error: (elapsedMs) =>
        new StepFailure("run_timeout", `the run ran longer than ${timeoutMs} ms`, {
          retryable: false,
          details: { timeout_ms: timeoutMs, elapsed_ms: elapsedMs },
        }),
    };
  }
  const limit = wallMs as number;
  return {
    atMs: run.createdAtMs + limit,
    error: (elapsedMs) => runBudgetError("wall_ms", limit, elapsedMs),
  };
}

/** Bytes of records as JSON (what the run's history limit counts). */
function bytesOf(records: readonly RunRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += JSON.stringify(record).length;
  return bytes;
}

/** Adds (`sign` 1) or removes (-1, once recorded) charges not yet in a committed record. */
function moveUnrecorded(live: LiveRun, usage: Usage | undefined, sign: 1 | -1): void {
  for (const unit of ["llm_tokens", "cost_usd", "sandbox_cpu_ms"] as const)
    live.unrecorded[unit] += sign * (usage?.[unit] ?? 0);
}

/** `usage` when it holds anything, else undefined. */
function usageOf(usage: Usage): Usage | undefined {
  return Object.keys(usage).length === 0 ? undefined : usage;
}

/** The `budget_exceeded` error of a run budget's unit. */
function runBudgetError(budget: string, limit: number, used: number): StepFailure {
  return new StepFailure(
    "budget_exceeded",
    `the run's ${budget} budget (${limit}) would be passed (${used} used)`,
    { retryable: false, details: { budget, limit, used, period: "run" } },
  );
}

type Outcome = { ok: StepResult } | { error: unknown };

/** A decision taken under a run's lock. */
interface Decided {
  records: RunRecord[];
  prepared?: readonly PreparedWrite<unknown>[];
  /** Called once the batch is committed, before anything it starts runs. */
  committed?: () => void;
}

type Decide = (run: RunState | undefined) => Decided | null;

/** The call a run's records are committed with: its principal and trace. */
export function runCall(run: Pick<RunState, "principal" | "traceId">): Call {
  return { principal: run.principal, traceId: run.traceId };
}

/** `run` (or nothing, before its `create`) with `records` folded in. */
function ahead(
  run: RunState | undefined,
  records: readonly RunRecord[],
  wallMs: number,
): RunState | undefined {
  let next = run;
  for (const record of records)
    next = foldRun(next, record, { walIndex: next?.lastWalIndex ?? 0, wallMs }).run;
  return next;
}

function stepIdOf(run: RunState, step: StepState): string {
  return run.graph.steps[step.index]?.id as string;
}

/** `promise`, or the signal's reason once it aborts; leases of a result that comes too late are released. */
function raceAbort(promise: Promise<StepResult>, signal: AbortSignal): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    let lost = false;
    const onAbort = () => {
      lost = true;
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (result) => {
        signal.removeEventListener("abort", onAbort);
        if (lost) for (const p of result.prepared ?? []) p.release();
        else resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

export class RunDriver {
  readonly #o: RunDriverOptions;
  readonly #locks = new TenantLock();
  readonly #live = new Map<string, LiveRun>();
  /** Runs waiting for admission: creation order within a tenant, round-robin across tenants. */
  readonly #admission = new FairQueue();
  /** Runs taken off the admission queue whose first transition has not admitted them yet. */
  readonly #admitting = new Set<string>();
  /** Admitted runs whose status is `running`. */
  readonly #active = new Set<string>();
  readonly #slots: StepSlots;
  readonly #inflight = new Set<Promise<unknown>>();
  #metrics: RunMetrics = NO_RUN_METRICS;
  #closed = false;

  constructor(options: RunDriverOptions) {
    this.#o = options;
    this.#slots = new StepSlots(options.limits.stepsRunningMax);
  }

  set metrics(metrics: RunMetrics) {
    this.#metrics = metrics;
  }

  /** Runs executing now. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Runs waiting for admission. */
  get queuedCount(): number {
    return this.#admission.length;
  }

  /** Step attempts holding a slot, and runs waiting for one. */
  get slots(): { used: number; queued: number } {
    return { used: this.#slots.used, queued: this.#slots.queued };
  }

  #state(): RunsState {
    return this.#o.runs.state();
  }

  #track<T>(work: Promise<T>): void {
    const tracked = work.catch((error: unknown) => {
      this.#o.log.error("run.transition_failed", { error });
    });
    this.#inflight.add(tracked);
    void tracked.finally(() => this.#inflight.delete(tracked));
  }

  #newLive(id: string, compiled: CompiledWorkflow): LiveRun {
    const live: LiveRun = {
      id,
      compiled,
      abort: new AbortController(),
      executing: new Map(),
      retryTimers: new Map(),
      signals: new SignalBox(),
      held: { llm_tokens: 0, cost_usd: 0, sandbox_cpu_ms: 0 },
      unrecorded: { llm_tokens: 0, cost_usd: 0, sandbox_cpu_ms: 0 },
      cancelWallTimer: null,
      historyBytes: null,
      compensating: false,
    };
    this.#live.set(id, live);
    return live;
  }

  #mayAdmitNow(): boolean {
    return (
      this.#admission.length === 0 &&
      this.#active.size + this.#admitting.size < this.#o.limits.runsActiveMax
    );
  }

  /**
   * Commits a new run (with its first schedule and starts when it is admitted at once) and
   * drives it. 429 `queue_full` when it would wait for admission and the queue is full.
   */
  async create(record: CreateRecord, compiled: CompiledWorkflow): Promise<number> {
    if (this.#closed) throw new VltairError("unavailable", "the server is stopping");
    if (!this.#mayAdmitNow() && this.#admission.length >= this.#o.limits.runsQueuedMax) {
      throw new VltairError("queue_full", `${this.#admission.length} runs are queued already`, {
        details: { limit: this.#o.limits.runsQueuedMax, scope: "runs_queued_max" },
        headers: { "retry-after": "1" },
      });
    }
    this.#newLive(record.run_id, compiled);
    try {
      const walIndex = await this.#transition(record.run_id, () => ({ records: [record] }));
      this.#metrics.runsCreated.inc();
      return walIndex;
    } catch (error) {
      this.#live.delete(record.run_id);
      throw error;
    }
  }

  /** Drives every unfinished run of the log, in creation order (after recovery). */
  resumeAll(): void {
    for (const entry of this.#state().runs.values()) {
      if (!isTerminal(briefOf(entry).status)) this.#drive(entry.run);
    }
  }

  #drive(run: RunState): void {
    if (this.#closed || this.#live.has(run.id)) return;
    const live = this.#newLive(run.id, compileWorkflow(run.workflow, run.graph));
    if (run.compensations !== null) this.#nextCompensation(live, run);
    if (run.admitted) this.#advance(run.id);
    else {
      this.#admission.push(run.tenant, run.id);
      this.#pumpAdmission();
    }
  }

  /** A transition that only plans and starts (after a grant, a timer, an admission). */
  #advance(runId: string): void {
    this.#track(this.#transition(runId, () => ({ records: [] })));
  }

  /**
   * Commits a decision about a run (a signal, a cancel) under its lock. A run this process
   * drives gets everything that follows from it in the same batch; one it does not drive (the
   * CLI working on a data directory) gets the decision alone, for a server to act on later.
   * Throws what the decision or the commit throws (nothing is then committed). Returns the
   * batch's last WAL index (the run's last record when nothing was written).
   */
  decide(runId: string, decide: Decide): Promise<number> {
    if (this.#closed)
      return Promise.reject(new VltairError("unavailable", "the server is stopping"));
    return this.#transition(runId, decide, 0, [], true);
  }

  async #transition(
    runId: string,
    decide: Decide,
    freedSlots = 0,
    prepared: readonly PreparedWrite<unknown>[] = [],
    passive = false,
  ): Promise<number> {
    let handedOver = false;
    try {
      return await this.#locks.run(runId, async () => {
        if (freedSlots > 0) this.#slots.release(freedSlots);
        const live = this.#live.get(runId);
        const run = this.#state().runs.get(runId)?.run;
        const lastIndex = run?.lastWalIndex ?? 0;
        if (live === undefined && !passive) return lastIndex;
        const decided = decide(run);
        if (decided === null) return lastIndex;
        if (live === undefined) {
          if (decided.records.length === 0 || run === undefined) return lastIndex;
          const inputs = decided.records.map((r) => this.#o.runs.record(r, this.#o.timers.nowMs()));
          const walIndex = (await this.#o.storage.commit(inputs, runCall(run))).lastIndex;
          this.#o.onChange(runId);
          return walIndex;
        }
        const nowMs = this.#o.timers.nowMs();
        let next = ahead(run, decided.records, nowMs);
        if (next === undefined) return lastIndex;
        const admit =
          next.admitted || this.#admitting.has(runId) || (run === undefined && this.#mayAdmitNow());
        const planned = planRun(next, live.compiled, { admit });
        next = ahead(next, planned, nowMs) as RunState;
        // Pure steps are computed now, in this batch; each may make more steps ready.
        const inlined: RunRecord[] = [];
        for (let round = 0; round < next.steps.length; round++) {
          const pure = this.#inline(next, nowMs);
          if (pure.length === 0) break;
          next = ahead(next, pure, nowMs) as RunState;
          const more = planRun(next, live.compiled, { admit });
          next = ahead(next, more, nowMs) as RunState;
          inlined.push(...pure, ...more);
        }
        const starts = this.#starts(next, live, nowMs);
        next = ahead(next, starts.records, nowMs) as RunState;
        // A start the run's budget refused failed its step: plan the run's end in this batch.
        const ending = starts.refused ? planRun(next, live.compiled, { admit }) : [];
        next = ahead(next, ending, nowMs) as RunState;
        if (isTerminal(next.status)) {
          this.#slots.release(starts.slotsTaken);
          starts.slotsTaken = 0;
          starts.launched = [];
        }
        const records = [...decided.records, ...planned, ...inlined, ...starts.records, ...ending];
        if (records.length === 0) {
          // Nothing to write (a run resumed while a retry waits for its backoff): its timer
          // must still be armed, or the run never moves again.
          this.#armRetryTimers(live, next);
          return lastIndex;
        }
        if (run !== undefined && this.#overflows(run, live, records)) {
          // Past the run's history limits: nothing of this decision is written; the run fails.
          this.#slots.release(starts.slotsTaken);
          if (decided.prepared !== undefined && decided.prepared !== prepared)
            for (const p of decided.prepared) p.release();
          return this.#failHistory(run, live, nowMs);
        }
        live.historyBytes = (live.historyBytes ?? 0) + bytesOf(records);
        const inputs = records.map((r) => this.#o.runs.record(r, nowMs));
        let walIndex: number;
        try {
          handedOver = true;
          walIndex = await this.#commit(runCall(next), inputs, decided.prepared ?? prepared);
        } catch (error) {
          this.#slots.release(starts.slotsTaken);
          throw error;
        }
        decided.committed?.();
        this.#afterCommit(live, starts.launched);
        return walIndex;
      });
    } finally {
      if (!handedOver) for (const p of prepared) p.release();
      this.#slots.returnGrants(runId);
      this.#pumpSlots();
    }
  }

  async #commit(
    call: Call,
    inputs: ReturnType<MachineHandle<RunsState, RunRecord>["record"]>[],
    prepared: readonly PreparedWrite<unknown>[],
  ): Promise<number> {
    if (prepared.length === 0) return (await this.#o.storage.commit(inputs, call)).lastIndex;
    await commitPrepared(this.#o.storage, call, [...prepared], inputs);
    return this.#o.storage.lastIndex;
  }

  /**
   * Start and outcome records of the startable steps whose kind computes their input inline (a
   * pure `echo`): no slot, no attempt after a durable start — the log holds their input, so a
   * crash before this batch commits loses nothing. Runs with a `budget` are not inlined (every
   * attempt goes through the budget's checks).
   */
  #inline(run: RunState, nowMs: number): RunRecord[] {
    if (isTerminal(run.status) || !run.admitted || run.workflow.budget !== undefined) return [];
    const out: RunRecord[] = [];
    const scope = scopeOf(run);
    for (const step of startable(run, nowMs)) {
      const definition = run.workflow.steps[step.index] as RunState["workflow"]["steps"][number];
      const spec = STEP_KIND_SPECS[definition.kind];
      if (spec.inline === undefined) continue;
      let outcome: { output: unknown } | null;
      try {
        const input = resolveWith(definition.with ?? {}, spec.deferredKeys ?? [], scope);
        outcome = spec.inline(v.parse(spec.withSchema, input));
      } catch {
        continue; // A bad input fails in a real attempt, with the usual error and retries.
      }
      if (outcome === null) continue;
      const base = { run_id: run.id, step_id: definition.id, attempt: step.attempts.length + 1 };
      out.push({ op: "start", ...base, restart: false });
      out.push({ op: "complete", ...base, output: outcome.output ?? null });
      this.#metrics.stepDuration.observe(0, { kind: definition.kind, outcome: "succeeded" });
    }
    return out;
  }

  /** Start records for what may start now (slots permitting), restarts of attempts lost to a restart first. */
  #starts(
    run: RunState,
    live: LiveRun,
    nowMs: number,
  ): { records: RunRecord[]; launched: string[]; slotsTaken: number; refused: boolean } {
    const out = {
      records: [] as RunRecord[],
      launched: [] as string[],
      slotsTaken: 0,
      refused: false,
    };
    if (isTerminal(run.status) || !run.admitted) return out;
    const budget = run.workflow.budget;
    let started = 0;
    const take = (step: StepState, attempt: number, restart: boolean) => {
      const id = stepIdOf(run, step);
      const refusal = restart ? null : this.#startRefusal(run, started, nowMs);
      if (refusal !== null) {
        // Over the run's budget: the attempt starts and fails at once (never retried).
        const start = { run_id: run.id, step_id: id, attempt };
        out.records.push({ op: "start", ...start, restart, refused: true });
        out.records.push({ op: "fail", ...start, error: refusal });
        out.refused = true;
        return;
      }
      if (!restart && budget?.steps !== undefined) started += 1;
      const holdsSlot = STEP_KIND_SPECS[run.graph.steps[step.index]?.kind ?? "echo"].holdsSlot;
      if (holdsSlot && !this.#slots.take(run.id, run.tenant)) return;
      if (holdsSlot) out.slotsTaken += 1;
      out.records.push({ op: "start", run_id: run.id, step_id: id, attempt, restart });
      out.launched.push(id);
    };
    for (const step of run.steps) {
      const active = step.status === "running" || step.status === "waiting";
      if (active && !live.executing.has(stepIdOf(run, step)))
        take(step, step.attempts.length, true);
    }
    for (const step of startable(run, nowMs)) take(step, step.attempts.length + 1, false);
    return out;
  }

  /** Why a new attempt may not start under the run's `steps` and `wall_ms` budgets, or null. */
  #startRefusal(
    run: RunState,
    startedNow: number,
    nowMs: number,
  ): ReturnType<typeof stepErrorOf>["error"] | null {
    const budget = run.workflow.budget;
    if (budget === undefined) return null;
    const steps = run.used.steps + startedNow;
    if (budget.steps !== undefined && steps >= budget.steps)
      return stepErrorOf(runBudgetError("steps", budget.steps, steps)).error;
    const wallMs = nowMs - run.createdAtMs;
    if (budget.wall_ms !== undefined && wallMs >= budget.wall_ms)
      return stepErrorOf(runBudgetError("wall_ms", budget.wall_ms, wallMs)).error;
    return null;
  }

  /**
   * Ends the run `failed` at its first deadline: the `wall_ms` budget (`budget_exceeded`) or the
   * workflow's `timeout_ms` (`run_timeout`), both counted from the run's creation.
   */
  #armWallTimer(live: LiveRun, run: RunState): void {
    if (live.cancelWallTimer !== null) return;
    const deadline = runDeadline(run);
    if (deadline === null) return;
    live.cancelWallTimer = this.#o.timers.setTimer(deadline.atMs - this.#o.timers.nowMs(), () => {
      if (this.#live.get(live.id) !== live) return;
      this.#track(
        this.#transition(live.id, (now) => {
          if (now === undefined || isTerminal(now.status)) return null;
          const error = stepErrorOf(deadline.error(this.#o.timers.nowMs() - now.createdAtMs)).error;
          const records: RunRecord[] = now.steps
            .filter((st) => !isStepDone(st.status))
            .map((st) => ({ op: "cancel_step", run_id: now.id, step_id: stepIdOf(now, st) }));
          records.push({ op: "finish", run_id: now.id, status: "failed", error });
          return { records };
        }),
      );
    });
  }

  #afterCommit(live: LiveRun, launched: readonly string[]): void {
    const entry = this.#state().runs.get(live.id);
    if (entry === undefined) return;
    const run = entry.run;
    if (run.status === "running") this.#active.add(run.id);
    else this.#active.delete(run.id);
    if (run.admitted) this.#admitting.delete(run.id);
    else if (!this.#admitting.has(run.id)) this.#admission.push(run.tenant, run.id);
    if (isTerminal(run.status)) this.#finishLive(live, run);
    else {
      if (run.compensations !== null) {
        // Cancelled, compensating: attempts of cancelled steps stop; the next on_cancel runs.
        for (const [stepId, execution] of live.executing) {
          const step = run.steps[run.graph.byId.get(stepId) ?? -1];
          if (step?.status === "cancelled")
            execution.controller.abort(new VltairError("conflict", "the step was cancelled"));
        }
        this.#nextCompensation(live, run);
      }
      for (const stepId of launched) this.#execute(live, run, stepId);
      this.#armRetryTimers(live, run);
      this.#armWallTimer(live, run);
      live.signals.offer(run.signals);
    }
    this.#o.onChange(run.id);
    this.#pumpAdmission();
  }

  #finishLive(live: LiveRun, run: RunState): void {
    this.#metrics.runsFinished.inc({ status: run.status });
    this.#stopLive(live, new VltairError("conflict", `the run has ended (${run.status})`));
    this.#active.delete(live.id);
  }

  /** Stops everything of a live run in this process; attempts still running settle as no-ops. */
  #stopLive(live: LiveRun, reason: unknown): void {
    live.abort.abort(reason);
    live.cancelWallTimer?.();
    for (const cancel of live.retryTimers.values()) cancel();
    live.retryTimers.clear();
    live.signals.rejectAll(reason);
    this.#live.delete(live.id);
    this.#admitting.delete(live.id);
    this.#admission.remove(live.id);
    this.#slots.forget(live.id);
  }

  #armRetryTimers(live: LiveRun, run: RunState): void {
    for (const step of run.steps) {
      const id = stepIdOf(run, step);
      if (step.retryAtMs === null || step.status !== "pending" || live.retryTimers.has(id))
        continue;
      const cancel = this.#o.timers.setTimer(step.retryAtMs - this.#o.timers.nowMs(), () => {
        live.retryTimers.delete(id);
        if (this.#live.get(live.id) === live) this.#advance(live.id);
      });
      live.retryTimers.set(id, cancel);
    }
  }

  #pumpAdmission(): void {
    while (
      !this.#closed &&
      this.#admission.length > 0 &&
      this.#active.size + this.#admitting.size < this.#o.limits.runsActiveMax
    ) {
      const runId = this.#admission.shift() as string;
      if (!this.#live.has(runId)) continue;
      this.#admitting.add(runId);
      this.#advance(runId);
    }
  }

  #pumpSlots(): void {
    if (this.#closed) return;
    for (const runId of this.#slots.grant()) {
      if (this.#live.has(runId)) this.#advance(runId);
      else this.#slots.forget(runId);
    }
  }

  /** Runs one attempt of a step whose `start` is durable, then commits its outcome. */
  #execute(live: LiveRun, run: RunState, stepId: string): void {
    const index = run.graph.byId.get(stepId) as number;
    const step = run.steps[index] as StepState;
    const definition = run.workflow.steps[index] as RunState["workflow"]["steps"][number];
    const spec = STEP_KIND_SPECS[definition.kind];
    const attempt = step.attempts.at(-1) as StepState["attempts"][number];
    const controller = new AbortController();
    const execution: Execution = {
      attempt: attempt.n,
      holdsSlot: spec.holdsSlot,
      startedMs: this.#o.timers.nowMs(),
      controller,
      usage: {},
    };
    live.executing.set(stepId, execution);
    const onRunAbort = () => controller.abort(live.abort.signal.reason);
    live.abort.signal.addEventListener("abort", onRunAbort, { once: true });
    const timeout =
      definition.timeout_ms === undefined
        ? null
        : timeoutSignal(
            this.#o.timers,
            definition.timeout_ms,
            () =>
              new StepFailure(
                "step_timeout",
                `the attempt ran longer than ${definition.timeout_ms} ms`,
                {
                  retryable: true,
                  details: { timeout_ms: definition.timeout_ms },
                },
              ),
          );
    timeout?.signal.addEventListener("abort", () => controller.abort(timeout.signal.reason), {
      once: true,
    });
    const work = async (): Promise<Outcome> => {
      try {
        const scope = scopeOf(run);
        const input = resolveWith(definition.with ?? {}, spec.deferredKeys ?? [], scope);
        const checked = parseStepInput(spec.withSchema, input, "with");
        const attemptOf = {
          id: stepId,
          kind: definition.kind,
          with: checked,
          attempt: attempt.n,
          attemptStartedAtMs: attempt.startedAtMs,
          ...(definition.output_schema === undefined
            ? {}
            : { outputSchema: definition.output_schema }),
          ...(definition.retry?.on_status === undefined
            ? {}
            : { retryOnStatus: definition.retry.on_status }),
        };
        const signal = controller.signal;
        const ctx = {
          call: { ...runCall(run), signal },
          runId: run.id,
          idempotencyKey: `${run.id}:${stepId}:${attempt.n}`,
          timers: this.#o.timers,
          services: this.#o.services,
          waitSignal: (name: string, deadlineMs: number | null) =>
            this.#waitSignal(live, name, deadlineMs, signal),
          scope,
          journal: (key: string, entry: () => Promise<JournalEntry>) =>
            this.#journal(live, stepId, execution, key, entry, signal),
          charge: (usage: Usage) => {
            execution.usage = sumUsage(execution.usage, usage);
            moveUnrecorded(live, usage, 1);
          },
          holdRun: (unit: HeldUnit, amount: number) => this.#holdRun(live, unit, amount),
        };
        return { ok: await raceAbort(spec.run(attemptOf, ctx), signal) };
      } catch (error) {
        return { error: controller.signal.aborted ? controller.signal.reason : error };
      }
    };
    const settled = work()
      .then((outcome) => this.#settle(live, run, stepId, execution, outcome))
      .finally(() => {
        timeout?.cancel();
        live.abort.signal.removeEventListener("abort", onRunAbort);
        if (live.executing.get(stepId) === execution) live.executing.delete(stepId);
      });
    this.#track(settled);
  }

  /** Commits an attempt's outcome: completion, a retry later, or failure. */
  async #settle(
    live: LiveRun,
    run: RunState,
    stepId: string,
    execution: Execution,
    outcome: Outcome,
  ): Promise<void> {
    const freed = execution.holdsSlot ? 1 : 0;
    const prepared = "ok" in outcome ? (outcome.ok.prepared ?? []) : [];
    if (this.#closed) {
      // Stopping: nothing is recorded, the attempt restarts (same attempt number) after recovery.
      this.#slots.release(freed);
      for (const p of prepared) p.release();
      return;
    }
    const kind =
      STEP_KIND_SPECS[run.workflow.steps[run.graph.byId.get(stepId) as number]?.kind ?? "echo"]
        .kind;
    const elapsedS = (this.#o.timers.nowMs() - execution.startedMs) / 1000;
    const isCurrent = (now: RunState | undefined) => {
      const step = now?.steps[now.graph.byId.get(stepId) ?? -1];
      const active = step?.status === "running" || step?.status === "waiting";
      return active && step?.attempts.at(-1)?.n === execution.attempt;
    };
    const signalSeq = "ok" in outcome ? outcome.ok.signalSeq : undefined;
    try {
      await this.#transition(
        live.id,
        (now) => {
          if (!isCurrent(now)) return null;
          return {
            records: [
              this.#outcomeRecord(now as RunState, stepId, execution, outcome, kind, elapsedS),
            ],
            committed: () => {
              moveUnrecorded(live, execution.usage, -1);
              execution.usage = {};
            },
          };
        },
        freed,
        prepared,
      );
    } catch (error) {
      // The completion could not be committed (too large, refused, I/O): the attempt fails with that.
      this.#o.log.warn("run.step_commit_failed", { run_id: live.id, step_id: stepId, error });
      await this.#transition(live.id, (now) =>
        isCurrent(now)
          ? {
              records: [
                this.#outcomeRecord(now as RunState, stepId, execution, { error }, kind, elapsedS),
              ],
            }
          : null,
      ).catch((again: unknown) =>
        this.#o.log.error("run.step_commit_failed", {
          run_id: live.id,
          step_id: stepId,
          error: again,
        }),
      );
    } finally {
      if (signalSeq !== undefined) live.signals.release(signalSeq);
      // Usage no record took (the attempt ended without one) counts no more.
      moveUnrecorded(live, execution.usage, -1);
      execution.usage = {};
    }
  }

  #outcomeRecord(
    run: RunState,
    stepId: string,
    execution: Execution,
    outcome: Outcome,
    kind: string,
    elapsedS: number,
  ): RunRecord {
    const usage = usageOf(execution.usage);
    const base = {
      run_id: run.id,
      step_id: stepId,
      attempt: execution.attempt,
      ...(usage === undefined ? {} : { usage }),
    };
    if ("ok" in outcome) {
      this.#metrics.stepDuration.observe(elapsedS, { kind, outcome: "succeeded" });
      const record: RunRecord = { op: "complete", ...base, output: outcome.ok.output ?? null };
      if (outcome.ok.signalSeq !== undefined) record.signal_seq = outcome.ok.signalSeq;
      return record;
    }
    const { error, retryable } = stepErrorOf(outcome.error);
    const definition = run.workflow.steps[run.graph.byId.get(stepId) as number];
    const attemptsMax = definition?.retry?.max_attempts ?? 1;
    if (retryable && execution.attempt < attemptsMax) {
      this.#metrics.stepDuration.observe(elapsedS, { kind, outcome: "retrying" });
      this.#metrics.retries.inc({ kind });
      const retryAtMs = this.#o.timers.nowMs() + backoffMs(run.id, stepId, execution.attempt);
      return { op: "fail", ...base, error, retry_at_ms: retryAtMs };
    }
    this.#metrics.stepDuration.observe(elapsedS, { kind, outcome: "failed" });
    return { op: "fail", ...base, error };
  }

  /** True when `records` would take the run past `run_events_max` or `run_history_bytes_max`. */
  #overflows(run: RunState, live: LiveRun, records: readonly RunRecord[]): boolean {
    const entry = this.#state().runs.get(run.id);
    if (entry === undefined) return false;
    live.historyBytes ??= bytesOf(entry.journal.map((j) => j.body));
    // Each record makes at most one event, plus `budget.charged` when it carries usage.
    let events = entry.events.length;
    for (const r of records) events += "usage" in r && r.usage !== undefined ? 2 : 1;
    const { runEventsMax, runHistoryBytesMax } = this.#o.limits;
    return events > runEventsMax || live.historyBytes + bytesOf(records) > runHistoryBytesMax;
  }

  /** Ends a run that reached its history limits: unfinished steps cancelled, `history_limit`. */
  async #failHistory(run: RunState, live: LiveRun, nowMs: number): Promise<number> {
    const { runEventsMax, runHistoryBytesMax } = this.#o.limits;
    const records: RunRecord[] = run.steps
      .filter((st) => !isStepDone(st.status))
      .map((st) => ({ op: "cancel_step", run_id: run.id, step_id: stepIdOf(run, st) }));
    records.push({
      op: "finish",
      run_id: run.id,
      status: "failed",
      error: {
        code: "history_limit",
        message: `the run's history would pass run_events_max (${runEventsMax}) or run_history_bytes_max (${runHistoryBytesMax})`,
        details: { run_events_max: runEventsMax, run_history_bytes_max: runHistoryBytesMax },
      },
    });
    const inputs = records.map((r) => this.#o.runs.record(r, nowMs));
    const walIndex = (await this.#o.storage.commit(inputs, runCall(run))).lastIndex;
    this.#afterCommit(live, []);
    return walIndex;
  }

  /**
   * Runs the next pending `on_cancel` of a cancelled run (one at a time, in the recorded order)
   * and records how it ended; the transition after the last one ends the run `cancelled`. A
   * compensation is one attempt, not retried, holding no slot; its failure is recorded and the
   * next one runs. After a restart, one that had not been recorded runs again.
   */
  #nextCompensation(live: LiveRun, run: RunState): void {
    if (live.compensating) return;
    const next = run.compensations?.find((c) => !c.done);
    if (next === undefined) return;
    live.compensating = true;
    const work = async (): Promise<{
      output?: unknown;
      error?: StepError;
      prepared?: readonly PreparedWrite<unknown>[];
    }> => {
      try {
        const result = await this.#runCompensation(live, run, next.stepId);
        return result.prepared === undefined
          ? { output: result.output ?? null }
          : { output: result.output ?? null, prepared: result.prepared };
      } catch (error) {
        if (live.abort.signal.aborted) throw error;
        return { error: stepErrorOf(error).error };
      }
    };
    const done = work()
      .then((outcome) => {
        if (this.#closed) {
          for (const p of outcome.prepared ?? []) p.release();
          return;
        }
        const record: RunRecord = { op: "compensated", run_id: live.id, step_id: next.stepId };
        if (outcome.error !== undefined) record.error = outcome.error;
        else record.output = outcome.output ?? null;
        return this.#transition(
          live.id,
          (now) =>
            now?.compensations?.some((c) => c.stepId === next.stepId && !c.done)
              ? { records: [record] }
              : null,
          0,
          outcome.prepared ?? [],
        ).then(() => undefined);
      })
      .finally(() => {
        live.compensating = false;
        const now = this.#state().runs.get(live.id)?.run;
        if (now !== undefined && !isTerminal(now.status) && this.#live.get(live.id) === live)
          this.#nextCompensation(live, now);
      });
    this.#track(done);
  }

  /** One `on_cancel`: its input resolved against the run (the step's own output included). */
  async #runCompensation(live: LiveRun, run: RunState, stepId: string): Promise<StepResult> {
    const index = run.graph.byId.get(stepId) as number;
    const template = run.workflow.steps[index]?.on_cancel;
    if (template === undefined) return { output: null };
    const spec = STEP_KIND_SPECS[template.kind];
    const scope = scopeOf(run);
    const input = resolveWith(template.with ?? {}, spec.deferredKeys ?? [], scope);
    const checked = parseStepInput(spec.withSchema, input, "on_cancel.with");
    const signal = live.abort.signal;
    const ctx = {
      call: { ...runCall(run), signal },
      runId: run.id,
      idempotencyKey: `${run.id}:${stepId}:cancel`,
      timers: this.#o.timers,
      services: this.#o.services,
      waitSignal: () => Promise.reject(new VltairError("conflict", "a compensation cannot wait")),
      scope,
      journal: async (_key: string, entry: () => Promise<JournalEntry>) => (await entry()).output,
      charge: () => {},
      holdRun: () => () => {},
    };
    const attempt = {
      id: stepId,
      kind: template.kind,
      with: checked,
      attempt: 1,
      attemptStartedAtMs: this.#o.timers.nowMs(),
    };
    return raceAbort(spec.run(attempt, ctx), signal);
  }

  /** Holds run budget for a side effect in flight; throws `budget_exceeded` past the limit. */
  #holdRun(live: LiveRun, unit: HeldUnit, amount: number): () => void {
    const run = this.#state().runs.get(live.id)?.run;
    const limit = run?.workflow.budget?.[unit];
    if (run === undefined || limit === undefined) return () => {};
    const used = run.used[unit] + live.held[unit] + live.unrecorded[unit];
    if (used + amount > limit) throw runBudgetError(unit, limit, used);
    live.held[unit] += amount;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      live.held[unit] -= amount;
    };
  }

  /** A journaled sub-step of a running attempt (see StepContext.journal). */
  async #journal(
    live: LiveRun,
    stepId: string,
    execution: Execution,
    key: string,
    work: () => Promise<JournalEntry>,
    signal: AbortSignal,
  ): Promise<unknown> {
    const stepOf = (run: RunState | undefined) =>
      run?.steps[run.graph.byId.get(stepId) ?? -1] as StepState | undefined;
    const known = stepOf(this.#state().runs.get(live.id)?.run)?.notes;
    if (known?.has(key)) return known.get(key);
    const entry = await work();
    if (signal.aborted) {
      for (const p of entry.prepared ?? []) p.release();
      throw signal.reason;
    }
    let recorded = false;
    await this.#transition(
      live.id,
      (now) => {
        const step = stepOf(now);
        const active = step?.status === "running" || step?.status === "waiting";
        if (!active || step?.attempts.at(-1)?.n !== execution.attempt || step.notes.has(key))
          return null;
        recorded = true;
        const usage = usageOf(execution.usage);
        execution.usage = {};
        const note: RunRecord = {
          op: "note",
          run_id: live.id,
          step_id: stepId,
          attempt: execution.attempt,
          key,
          output: entry.output ?? null,
        };
        if (usage !== undefined) note.usage = usage;
        const committed = () => moveUnrecorded(live, usage, -1);
        return { records: [note], prepared: entry.prepared ?? [], committed };
      },
      0,
      entry.prepared ?? [],
    );
    if (!recorded)
      throw signal.aborted ? signal.reason : new VltairError("conflict", "the step has ended");
    return entry.output ?? null;
  }

  /** A `wait` step's signal: a pending one, or the next one offered, until the deadline. */
  #waitSignal(
    live: LiveRun,
    name: string,
    deadlineMs: number | null,
    signal: AbortSignal,
  ): Promise<TakenSignal> {
    const run = this.#state().runs.get(live.id)?.run;
    const taken = run === undefined ? undefined : live.signals.take(run.signals, name);
    if (taken !== undefined) return Promise.resolve(taken);
    return new Promise((resolve, reject) => {
      let cancelTimer = () => {};
      const done = () => {
        cancelTimer();
        signal.removeEventListener("abort", onAbort);
      };
      const stop = live.signals.wait(
        name,
        (s) => {
          done();
          resolve(s);
        },
        (reason) => {
          done();
          reject(reason);
        },
      );
      const onAbort = () => {
        stop();
        done();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if (deadlineMs !== null) {
        cancelTimer = this.#o.timers.setTimer(deadlineMs - this.#o.timers.nowMs(), () => {
          stop();
          done();
          reject(
            new StepFailure("wait_timeout", `no signal ${name} came in time`, {
              retryable: false,
              details: { signal: name },
            }),
          );
        });
      }
    });
  }

  /**
   * Stops driving: aborts every attempt (nothing of them is recorded), cancels timers, and waits
   * for what is in flight. The log keeps every run as it was; the next start resumes them.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const reason = new VltairError("unavailable", "the server is stopping");
    for (const live of [...this.#live.values()]) this.#stopLive(live, reason);
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }
}
