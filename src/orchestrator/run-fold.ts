/**
 * The fold of one run: `foldRun(run, record)` returns the run after the record and the events
 * the record made. Pure and total: no clock, no randomness, no I/O, no mutation of its inputs;
 * a record that does not fit the run's state (which the scheduler never writes) changes nothing
 * and makes no event.
 */
import type { EventDraft } from "./run-events.ts";
import type { CreateRecord, RunRecord } from "./run-record.ts";
import {
  type Attempt,
  addRunUsage,
  type Compensation,
  isReused,
  isStepDone,
  isTerminal,
  liveStatusOf,
  NO_USAGE,
  type RunState,
  type StepState,
} from "./run-state.ts";
import { graphOf } from "./workflow-graph.ts";

/** Where and when a record stands in the log. */
export interface RecordMeta {
  walIndex: number;
  wallMs: number;
}

/** The run after a record, and the events it made (empty when the record changed nothing). */
export interface Folded {
  run: RunState | undefined;
  events: EventDraft[];
}

type StepRecord = Exclude<Extract<RunRecord, { step_id: string }>, { op: "compensated" }>;

/**
 * A new run from its `create` record: every step pending, nothing admitted — except, in a fork,
 * the steps it reuses, succeeded with their source's output and no attempt.
 */
function created(body: CreateRecord, meta: RecordMeta): RunState {
  const graph = graphOf(body.workflow);
  const reused = new Map((body.fork?.reused ?? []).map((r) => [r.step_id, r.output]));
  return {
    id: body.run_id,
    tenant: body.principal.tenant,
    principal: {
      subject: body.principal.subject,
      tenant: body.principal.tenant,
      roles: body.principal.roles,
      tokenId: body.principal.token_id,
    },
    traceId: body.trace_id,
    workflow: body.workflow,
    graph,
    workflowRef: body.workflow_ref ?? null,
    input: body.input,
    idempotencyKey: body.idempotency_key ?? null,
    requestHash: body.request_hash,
    status: "queued",
    admitted: false,
    createdAtMs: meta.wallMs,
    updatedAtMs: meta.wallMs,
    endedAtMs: null,
    createdWalIndex: meta.walIndex,
    lastWalIndex: meta.walIndex,
    steps: graph.steps.map((s) => ({
      index: s.index,
      status: reused.has(s.id) ? "succeeded" : "pending",
      scheduled: false,
      attempts: [],
      output: reused.get(s.id),
      error: null,
      retryAtMs: null,
      notes: new Map(),
    })),
    signals: [],
    signalCount: 0,
    error: null,
    used: NO_USAGE,
    forkedFrom:
      body.fork === undefined ? null : { runId: body.fork.run_id, stepId: body.fork.step_id },
    compensations: null,
  };
}

/** `run.created`, then a `step.completed` (without `attempt`) per step a fork reuses. */
function createdEvents(run: RunState): EventDraft[] {
  const events: EventDraft[] = [{ type: "run.created" }];
  for (const step of run.steps) {
    if (!isReused(run, step)) continue;
    const stepId = run.graph.steps[step.index]?.id as string;
    events.push({ type: "step.completed", stepId, output: step.output });
  }
  return events;
}

/**
 * Folds one record into a run.
 *
 * @example
 * ```ts
 * const { run, events } = foldRun(undefined, createRecord, { walIndex: 1, wallMs: 0 });
 * ```
 */
export function foldRun(run: RunState | undefined, body: RunRecord, meta: RecordMeta): Folded {
  if (body.op === "create") {
    if (run !== undefined) return { run, events: [] };
    const fresh = created(body, meta);
    return { run: fresh, events: createdEvents(fresh) };
  }
  // `forget` drops a run from the machine's state (runs-machine.ts); it folds into nothing.
  if (run === undefined || isTerminal(run.status) || body.op === "forget")
    return { run, events: [] };
  const changed = change(run, body, meta.wallMs);
  if (changed === null) return { run, events: [] };
  const next: RunState = {
    ...run,
    ...changed.run,
    updatedAtMs: meta.wallMs,
    lastWalIndex: meta.walIndex,
  };
  const status = isTerminal(next.status) ? next.status : liveStatusOf(next);
  const events = changed.events;
  if (status === "waiting" && run.status !== "waiting") events.push({ type: "run.waiting" });
  return { run: { ...next, status }, events };
}

type Change = { run: Partial<RunState>; events: EventDraft[] } | null;

function change(run: RunState, body: Exclude<RunRecord, CreateRecord>, wallMs: number): Change {
  switch (body.op) {
    case "schedule":
      return schedule(run, body.steps);
    case "signal": {
      const seq = run.signalCount + 1;
      return {
        run: {
          signals: [...run.signals, { seq, name: body.name, payload: body.payload }],
          signalCount: seq,
        },
        events: [{ type: "run.signaled", output: { signal: body.name, payload: body.payload } }],
      };
    }
    case "finish": {
      const event: EventDraft = { type: `run.${body.status}` };
      if (body.error !== undefined) event.error = body.error;
      return {
        run: { status: body.status, endedAtMs: wallMs, error: body.error ?? null, admitted: true },
        events: [event],
      };
    }
    case "forget":
      return null;
    case "compensate": {
      if (run.compensations !== null) return null;
      return {
        run: { compensations: body.steps.map((stepId) => ({ stepId, done: false })) },
        events: [{ type: "run.cancelling", output: { compensate: body.steps } }],
      };
    }
    case "compensated": {
      const list = run.compensations ?? [];
      const at = list.findIndex((c) => c.stepId === body.step_id && !c.done);
      if (at === -1) return null;
      const done: Compensation = { stepId: body.step_id, done: true };
      const event: EventDraft = { type: "step.compensated", stepId: body.step_id };
      if (body.error !== undefined) {
        Object.assign(done, { error: body.error });
        event.error = body.error;
      } else {
        Object.assign(done, { output: body.output ?? null });
        event.output = body.output ?? null;
      }
      const compensations = [...list];
      compensations[at] = done;
      return { run: { compensations }, events: [event] };
    }
    default:
      return stepChange(run, body, wallMs);
  }
}

function schedule(run: RunState, ids: readonly string[]): Change {
  const steps = [...run.steps];
  const events: EventDraft[] = [];
  for (const id of ids) {
    const index = run.graph.byId.get(id);
    const step = index === undefined ? undefined : steps[index];
    if (step === undefined || step.status !== "pending" || step.scheduled) continue;
    steps[step.index] = { ...step, scheduled: true };
    events.push({ type: "step.scheduled", stepId: id });
  }
  return events.length === 0 ? null : { run: { steps, admitted: true }, events };
}

/** A change of one step: the new step and its events, or null when the record does not fit. */
type StepChange = {
  step: StepState;
  events: EventDraft[];
  signals?: RunState["signals"];
  /** Attempts started (a restart is not one): counted against the run's `steps` budget. */
  started?: number;
} | null;

function stepChange(run: RunState, body: StepRecord, wallMs: number): Change {
  const index = run.graph.byId.get(body.step_id);
  const step = index === undefined ? undefined : run.steps[index];
  if (step === undefined) return null;
  const id = body.step_id;
  const out = stepRecord(run, step, body, wallMs, id);
  if (out === null) return null;
  const steps = [...run.steps];
  steps[step.index] = out.step;
  const usage = "usage" in body ? body.usage : undefined;
  const used =
    usage === undefined && out.started === undefined
      ? run.used
      : addRunUsage(run.used, { ...usage, steps: out.started ?? 0 });
  const changed: Partial<RunState> =
    out.signals === undefined
      ? { steps, admitted: true, used }
      : { steps, admitted: true, used, signals: out.signals };
  if (usage !== undefined && Object.keys(usage).length > 0 && "attempt" in body) {
    out.events.push({
      type: "budget.charged",
      stepId: id,
      attempt: body.attempt,
      output: { usage, used },
    });
  }
  return { run: changed, events: out.events };
}

function stepRecord(
  run: RunState,
  step: StepState,
  body: StepRecord,
  wallMs: number,
  id: string,
): StepChange {
  const current = step.attempts.at(-1);
  const active = step.status === "running" || step.status === "waiting";
  switch (body.op) {
    case "start":
      return start(run, step, body, wallMs, id);
    case "note": {
      if (!active || current?.n !== body.attempt || step.notes.has(body.key)) return null;
      const notes = new Map(step.notes).set(body.key, body.output);
      return {
        step: { ...step, notes },
        events: [
          {
            type: "step.journaled",
            stepId: id,
            attempt: body.attempt,
            output: { key: body.key, output: body.output },
          },
        ],
      };
    }
    case "complete": {
      if (!active || current?.n !== body.attempt) return null;
      const signals =
        body.signal_seq === undefined
          ? undefined
          : run.signals.filter((s) => s.seq !== body.signal_seq);
      const done: StepState = {
        ...step,
        status: "succeeded",
        output: body.output,
        attempts: ended(step.attempts, wallMs, null),
      };
      const event = {
        type: "step.completed" as const,
        stepId: id,
        attempt: body.attempt,
        output: body.output,
      };
      return signals === undefined
        ? { step: done, events: [event] }
        : { step: done, events: [event], signals };
    }
    case "fail": {
      if (!active || current?.n !== body.attempt) return null;
      const attempts = ended(step.attempts, wallMs, body.error);
      const retry = body.retry_at_ms !== undefined;
      const next: StepState = retry
        ? { ...step, status: "pending", attempts, retryAtMs: body.retry_at_ms ?? null }
        : { ...step, status: "failed", attempts, error: body.error };
      const type = retry ? ("step.retrying" as const) : ("step.failed" as const);
      return {
        step: next,
        events: [{ type, stepId: id, attempt: body.attempt, error: body.error }],
      };
    }
    case "skip":
      if (step.status !== "pending" || step.scheduled) return null;
      return {
        step: { ...step, status: "skipped" },
        events: [{ type: "step.skipped", stepId: id }],
      };
    case "cancel_step": {
      if (isStepDone(step.status)) return null;
      const attempts = active ? ended(step.attempts, wallMs, null) : step.attempts;
      const event: EventDraft = { type: "step.cancelled", stepId: id };
      if (active && current !== undefined) event.attempt = current.n;
      return { step: { ...step, status: "cancelled", attempts, retryAtMs: null }, events: [event] };
    }
  }
}

function start(
  run: RunState,
  step: StepState,
  body: Extract<RunRecord, { op: "start" }>,
  wallMs: number,
  id: string,
): StepChange {
  const kind = run.graph.steps[step.index]?.kind;
  const status = kind === "wait" ? "waiting" : "running";
  const current = step.attempts.at(-1);
  let attempts: Attempt[];
  if (body.restart) {
    // The same attempt again: its start time stays (a durable timer counts from it).
    if ((step.status !== "running" && step.status !== "waiting") || current?.n !== body.attempt)
      return null;
    attempts = [...step.attempts.slice(0, -1), { ...current, restarts: current.restarts + 1 }];
  } else {
    if (step.status !== "pending" || !step.scheduled || body.attempt !== step.attempts.length + 1)
      return null;
    attempts = [
      ...step.attempts,
      { n: body.attempt, startedAtMs: wallMs, endedAtMs: null, error: null, restarts: 0 },
    ];
  }
  return {
    step: { ...step, status, attempts, retryAtMs: null },
    events: [{ type: "step.started", stepId: id, attempt: body.attempt }],
    started: body.restart || body.refused === true ? 0 : 1,
  };
}

/** The attempts with the last one ended at `wallMs` (with its error, if it failed). */
function ended(attempts: readonly Attempt[], wallMs: number, error: Attempt["error"]): Attempt[] {
  const last = attempts.at(-1) as Attempt;
  return [...attempts.slice(0, -1), { ...last, endedAtMs: wallMs, error }];
}
