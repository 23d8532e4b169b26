/**
 * The `runs` state machine: every run folded from its records. Each run keeps its journal (the
 * records that changed it, with their index and time) and the events they made; the run's
 * value itself is immutable (run-fold.ts). A snapshot holds the journals only: restoring folds
 * them again, so there is one way a run's state and events come to be.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { runSteps, type Steps } from "../core/mod.ts";
import type { StateMachine } from "../storage/mod.ts";
import type { EventDraft, RunEvent } from "./run-events.ts";
import { foldRun, type RecordMeta } from "./run-fold.ts";
import { RUNS_MACHINE, type RunRecord, RunRecordSchema } from "./run-record.ts";
import { isTerminal, type RunState } from "./run-state.ts";

/** A record as a run's journal holds it. */
export interface JournalEntry extends RecordMeta {
  body: RunRecord;
}

/** One run: its state, the records that made it and their events. */
export interface RunEntry {
  run: RunState;
  journal: JournalEntry[];
  events: RunEvent[];
}

/** Numbers drafts after the `seq` of the events so far. */
function numbered(drafts: readonly EventDraft[], lastSeq: number, meta: RecordMeta): RunEvent[] {
  return drafts.map((draft, i) => ({
    ...draft,
    seq: lastSeq + i + 1,
    tsMs: meta.wallMs,
    walIndex: meta.walIndex,
  }));
}

/**
 * The run and its events folded afresh from a journal, up to `atWalIndex` when given: what
 * `/replay` serves, with no side effect. `undefined` when the run did not exist yet.
 *
 * @example
 * ```ts
 * const replayed = foldJournal(entry.journal, 120);
 * ```
 */
export function foldJournal(
  journal: readonly JournalEntry[],
  atWalIndex: number | null = null,
): { run: RunState; events: RunEvent[] } | undefined {
  let run: RunState | undefined;
  const events: RunEvent[] = [];
  for (const entry of journal) {
    if (atWalIndex !== null && entry.walIndex > atWalIndex) break;
    const folded = foldRun(run, entry.body, entry);
    run = folded.run;
    events.push(...numbered(folded.events, events.length, entry));
  }
  return run === undefined ? undefined : { run, events };
}

/** Every run, by id, by tenant (creation order) and by idempotency key. */
export class RunsState {
  readonly runs = new Map<string, RunEntry>();
  readonly byTenant = new Map<string, string[]>();
  /** `tenant\nkey` → run id. */
  readonly idempotency = new Map<string, string>();

  /** Runs forgotten per tenant since its id list was last compacted. */
  readonly #forgotten = new Map<string, number>();

  /** Folds one record; one that changes nothing is not journaled. */
  apply(body: RunRecord, meta: RecordMeta): void {
    if (body.op === "forget") {
      this.#forget(body.run_id);
      return;
    }
    const entry = this.runs.get(body.run_id);
    const folded = foldRun(entry?.run, body, meta);
    if (folded.events.length === 0 || folded.run === undefined) return;
    const journaled: JournalEntry = { walIndex: meta.walIndex, wallMs: meta.wallMs, body };
    if (entry !== undefined) {
      entry.run = folded.run;
      entry.journal.push(journaled);
      entry.events.push(...numbered(folded.events, entry.events.length, meta));
      return;
    }
    const run = folded.run;
    this.runs.set(run.id, { run, journal: [journaled], events: numbered(folded.events, 0, meta) });
    const ids = this.byTenant.get(run.tenant);
    if (ids === undefined) this.byTenant.set(run.tenant, [run.id]);
    else ids.push(run.id);
    if (run.idempotencyKey !== null) {
      const key = idempotencyKey(run.tenant, run.idempotencyKey);
      if (!this.idempotency.has(key)) this.idempotency.set(key, run.id);
    }
  }

  /** Drops a finished run; the tenant's id list is compacted once half of it is gone. */
  #forget(id: string): void {
    const run = this.runs.get(id)?.run;
    if (run === undefined || !isTerminal(run.status)) return;
    this.runs.delete(id);
    if (run.idempotencyKey !== null) {
      const key = idempotencyKey(run.tenant, run.idempotencyKey);
      if (this.idempotency.get(key) === id) this.idempotency.delete(key);
    }
    const ids = this.byTenant.get(run.tenant) ?? [];
    const forgotten = (this.#forgotten.get(run.tenant) ?? 0) + 1;
    if (forgotten * 2 < ids.length) {
      this.#forgotten.set(run.tenant, forgotten);
      return;
    }
    const left = ids.filter((runId) => this.runs.has(runId));
    if (left.length === 0) this.byTenant.delete(run.tenant);
    else this.byTenant.set(run.tenant, left);
    this.#forgotten.delete(run.tenant);
  }

  /** The run `id` of `tenant` (another tenant's run is as absent as an unknown one). */
  entry(tenant: string, id: string): RunEntry | undefined {
    const entry = this.runs.get(id);
    return entry?.run.tenant === tenant ? entry : undefined;
  }
}

/** The map key of an idempotency key. */
export function idempotencyKey(tenant: string, key: string): string {
  return `${tenant}\n${key}`;
}

/** Runs folded between two returns to the event loop while restoring. */
const RESTORE_RUNS_PER_STEP = 256;

/**
 * A snapshot's journals are records this machine validated when they were committed, and the
 * snapshot file is checksummed: restore checks the shape (op and run id of each record) but not
 * every field again — re-validating every run's workflow was most of a restore's time.
 */
const TrustedRecord = v.pipe(
  v.looseObject({ op: v.string(), run_id: v.string() }),
  v.transform((record) => record as unknown as RunRecord),
);
const JournalSchema = v.array(v.tuple([v.number(), v.number(), TrustedRecord]));
const SnapshotSchema = v.object({ runs: v.array(JournalSchema) });

function* restoreSteps(bytes: Uint8Array): Steps<RunsState> {
  const parsed = v.parse(SnapshotSchema, JSON.parse(Buffer.from(bytes).toString("utf8")));
  yield;
  const state = new RunsState();
  for (let i = 0; i < parsed.runs.length; i++) {
    for (const [walIndex, wallMs, body] of parsed.runs[i] ?? [])
      state.apply(body, { walIndex, wallMs });
    if (i % RESTORE_RUNS_PER_STEP === RESTORE_RUNS_PER_STEP - 1) yield;
  }
  return state;
}

/**
 * Creates the machine. `apply` updates the state's maps in place (copying a map of 100k runs per
 * record would be O(runs)); each run's value is replaced, never changed.
 */
export function createRunsMachine(): StateMachine<RunsState, RunRecord> {
  return {
    name: RUNS_MACHINE,
    schema: RunRecordSchema,
    init: () => new RunsState(),
    apply: (state, record) => {
      state.apply(record.body, record);
      return state;
    },
    snapshot: (state) => {
      const runs = [...state.runs.values()].map((e) =>
        e.journal.map((j) => [j.walIndex, j.wallMs, j.body]),
      );
      return Buffer.from(JSON.stringify({ runs }), "utf8");
    },
    restore: (bytes) => runSteps(restoreSteps(bytes)),
    restoreSteps,
  };
}
