/**
 * The `runs` state machine: every run folded from its records. Each run keeps its journal (the
 * records that changed it, with their index and time) and the events they made; the run's
 * value itself is immutable (run-fold.ts). A snapshot holds the journals only: restoring folds
 * them again, so there is one way a run's state and events come to be.
 */
import { Buffer } from "node:buffer";
import type { EventDraft, RunEvent } from "./run-events.ts";
import { foldRun, type RecordMeta } from "./run-fold.ts";
import type { RunRecord } from "./run-record.ts";
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
export type JournalTuples = [number, number, RunRecord][];

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A finished run restored from a snapshot: its brief at once, its journal kept as the snapshot's
 * JSON bytes (a view into one buffer shared by every restored run) and folded (run, events) the
 * first time anything asks for them. Recovery of 100k finished runs is then a parse of their
 * briefs, not 100k folds or 100k JSON strings; a finished run nobody reads again costs its bytes.
 */
export class FinishedRunEntry implements RunEntry {
  readonly brief: RunBrief;
  #bytes: Uint8Array;
  #folded: RunEntry | null = null;

  constructor(brief: RunBrief, journalBytes: Uint8Array) {
    this.brief = brief;
    this.#bytes = journalBytes;
  }

  #fold(): RunEntry {
    if (this.#folded !== null) return this.#folded;
    const tuples = JSON.parse(utf8.decode(this.#bytes)) as JournalTuples;
    const journal = tuples.map(([walIndex, wallMs, body]) => ({ walIndex, wallMs, body }));
    const folded = foldJournal(journal) as { run: RunState; events: RunEvent[] };
    this.#folded = { run: folded.run, journal, events: folded.events };
    this.#bytes = new Uint8Array(0);
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

  /** The journal as a snapshot holds it (UTF-8 JSON), folded or not. */
  journalBytes(): Uint8Array {
    return this.#folded === null ? this.#bytes : journalBytes(this.#folded.journal);
  }
}

/** A journal as a snapshot holds it: UTF-8 JSON of `[walIndex, wallMs, record]` tuples. */
export function journalBytes(journal: readonly JournalEntry[]): Uint8Array {
  return Buffer.from(JSON.stringify(journal.map((j) => [j.walIndex, j.wallMs, j.body])), "utf8");
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
