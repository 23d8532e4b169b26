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

/** What lists, resumes, retention and tenancy checks read of a run, without folding it. */
export interface RunBrief {
  tenant: string;
  status: RunState["status"];
  createdWalIndex: number;
  endedAtMs: number | null;
  idempotencyKey: string | null;
}

/** The brief of any entry (a finished run restored from a snapshot answers without folding). */
export function briefOf(entry: RunEntry): RunBrief {
  if (entry instanceof FinishedRunEntry) return entry.brief;
  const run = entry.run;
  return {
    tenant: run.tenant,
    status: run.status,
    createdWalIndex: run.createdWalIndex,
    endedAtMs: run.endedAtMs,
    idempotencyKey: run.idempotencyKey,
  };
}

/** A snapshot's journal: `[walIndex, wallMs, record]` per record. */
type JournalTuples = [number, number, RunRecord][];

/**
 * A finished run restored from a snapshot: its brief at once, its journal kept as the snapshot's
 * JSON text and folded (run, events) the first time anything asks for them. Recovery of 100k
 * finished runs is then a JSON parse of their briefs, not 100k folds; a finished run nobody reads
 * again costs its text, not its folded state.
 */
export class FinishedRunEntry implements RunEntry {
  readonly brief: RunBrief;
  #text: string;
  #folded: RunEntry | null = null;

  constructor(brief: RunBrief, journalText: string) {
    this.brief = brief;
    this.#text = journalText;
  }

  #fold(): RunEntry {
    if (this.#folded !== null) return this.#folded;
    const tuples = JSON.parse(this.#text) as JournalTuples;
    const journal = tuples.map(([walIndex, wallMs, body]) => ({ walIndex, wallMs, body }));
    const folded = foldJournal(journal) as { run: RunState; events: RunEvent[] };
    this.#folded = { run: folded.run, journal, events: folded.events };
    this.#text = "";
    return this.#folded;
  }

  get run(): RunState {
    return this.#fold().run;
  }

  set run(run: RunState) {
    this.#fold().run = run;
  }

  get journal(): JournalEntry[] {
    return this.#fold().journal;
  }

  get events(): RunEvent[] {
    return this.#fold().events;
  }

  /** The journal as a snapshot holds it, folded or not. */
  journalText(): string {
    return this.#folded === null ? this.#text : journalJson(this.#folded.journal);
  }
}

function journalJson(journal: readonly JournalEntry[]): string {
  return JSON.stringify(journal.map((j) => [j.walIndex, j.wallMs, j.body]));
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
    const created = { run, journal: [journaled], events: numbered(folded.events, 0, meta) };
    this.runs.set(run.id, created);
    this.#index(run.id, briefOf(created));
  }

  /** Adds a finished run restored from a snapshot (its brief indexes it; folded on demand). */
  restoreFinished(id: string, entry: FinishedRunEntry): void {
    this.runs.set(id, entry);
    this.#index(id, entry.brief);
  }

  #index(id: string, brief: RunBrief): void {
    const ids = this.byTenant.get(brief.tenant);
    if (ids === undefined) this.byTenant.set(brief.tenant, [id]);
    else ids.push(id);
    if (brief.idempotencyKey !== null) {
      const key = idempotencyKey(brief.tenant, brief.idempotencyKey);
      if (!this.idempotency.has(key)) this.idempotency.set(key, id);
    }
  }

  /** Drops a finished run; the tenant's id list is compacted once half of it is gone. */
  #forget(id: string): void {
    const entry = this.runs.get(id);
    const run = entry === undefined ? undefined : briefOf(entry);
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
    return entry !== undefined && briefOf(entry).tenant === tenant ? entry : undefined;
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
/** A finished run: `["f", id, tenant, status, createdWalIndex, endedAtMs, idempotencyKey, journal JSON]`. */
const FinishedSchema = v.tuple([
  v.literal("f"),
  v.string(),
  v.string(),
  v.picklist(["succeeded", "failed", "cancelled"]),
  v.number(),
  v.nullable(v.number()),
  v.nullable(v.string()),
  v.string(),
]);
/** Runs in creation order: an unfinished run as its journal, a finished one as its brief + text. */
const SnapshotSchema = v.object({ runs: v.array(v.union([FinishedSchema, JournalSchema])) });

function* restoreSteps(bytes: Uint8Array): Steps<RunsState> {
  const parsed = v.parse(SnapshotSchema, JSON.parse(Buffer.from(bytes).toString("utf8")));
  yield;
  const state = new RunsState();
  for (let i = 0; i < parsed.runs.length; i++) {
    const item = parsed.runs[i] as (typeof parsed.runs)[number];
    if (item[0] === "f") {
      const [, id, tenant, status, createdWalIndex, endedAtMs, key, text] = item as v.InferOutput<
        typeof FinishedSchema
      >;
      const brief = { tenant, status, createdWalIndex, endedAtMs, idempotencyKey: key };
      state.restoreFinished(id, new FinishedRunEntry(brief, text));
    } else {
      for (const [walIndex, wallMs, body] of item as JournalTuples)
        state.apply(body, { walIndex, wallMs });
    }
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
      const runs = [...state.runs].map(([id, e]) => {
        const brief = briefOf(e);
        if (!isTerminal(brief.status)) return e.journal.map((j) => [j.walIndex, j.wallMs, j.body]);
        const text = e instanceof FinishedRunEntry ? e.journalText() : journalJson(e.journal);
        const { tenant, status, createdWalIndex, endedAtMs, idempotencyKey: key } = brief;
        return ["f", id, tenant, status, createdWalIndex, endedAtMs, key, text];
      });
      return Buffer.from(JSON.stringify({ runs }), "utf8");
    },
    restore: (bytes) => runSteps(restoreSteps(bytes)),
    restoreSteps,
  };
}
