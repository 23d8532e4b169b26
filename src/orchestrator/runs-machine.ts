/**
 * The `runs` state machine: every run folded from its records. Each run keeps its journal (the
 * records that changed it, with their index and time) and the events they made; the run's
 * value itself is immutable (run-fold.ts). A snapshot holds the journals only: restoring folds
 * them again, so there is one way a run's state and events come to be.
 */
import { Buffer } from "node:buffer";
import type { EventDraft, RunEvent } from "./run-events.ts";
import { foldRun, type RecordMeta } from "./run-fold.ts";
import type { CreateRecord, RunRecord } from "./run-record.ts";
import { isTerminal, type RunState } from "./run-state.ts";

/** A record as a run's journal holds it. */
export interface JournalEntry extends RecordMeta {
  body: RunRecord;
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
  const folded: Folded = { run: undefined, events: [] };
  for (const entry of journal) {
    if (atWalIndex !== null && entry.walIndex > atWalIndex) break;
    foldInto(folded, entry);
  }
  const { run, events } = folded;
  return run === undefined ? undefined : { run, events };
}

/** A run and its events as far as they are folded. */
interface Folded {
  run: RunState | undefined;
  events: RunEvent[];
}

/**
 * Folds one record into `into` when it changes the run (it makes events); returns false, changing
 * nothing, for a record that does not (a journal holds only the records that did).
 */
function foldInto(into: Folded, entry: JournalEntry): boolean {
  const folded = foldRun(into.run, entry.body, entry);
  if (folded.events.length === 0 || folded.run === undefined) return false;
  into.run = folded.run;
  into.events.push(...numbered(folded.events, into.events.length, entry));
  return true;
}

/** What lists, resumes, retention and tenancy checks read of a run, without folding it. */
export interface RunBrief {
  tenant: string;
  status: RunState["status"];
  createdWalIndex: number;
  endedAtMs: number | null;
  idempotencyKey: string | null;
}

/** The brief of an entry. */
export function briefOf(entry: RunEntry): RunBrief {
  return entry.brief();
}

/** A snapshot's journal: `[walIndex, wallMs, record]` per record. */
export type JournalTuples = [number, number, RunRecord][];

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What a run's `create` record says of its brief (its status comes from its fold or finish). */
type BriefBase = Omit<RunBrief, "status" | "endedAtMs">;
/** How a run ended. */
type RunEnd = Pick<RunBrief, "status" | "endedAtMs">;

/**
 * One run: its state, the records that made it (its journal) and their events — folded when
 * first read. `apply` only files a record; whoever reads the run, its journal or its events
 * folds what was filed since (for a live run: at once, by the driver and the event streams).
 * A run nobody reads is never folded: recovery replays finished runs' records and restores
 * finished runs from a snapshot (their journal kept as the snapshot's bytes) without folding
 * them, and their brief — what lists, resumes, retention and tenancy checks read — comes from
 * their `create` and `finish` records.
 *
 * The fold files a record into the journal only when it changed the run (it made events), so
 * folding a journal with records that changed nothing gives the same run, journal and events.
 */
export class RunEntry {
  readonly #base: BriefBase;
  /** The run's end, known from its fold or its (first) `finish` record, without folding. */
  #finished: RunEnd | null;
  /** A journal restored from a snapshot, not parsed yet (UTF-8 JSON of JournalTuples). */
  #bytes: Uint8Array | null;
  /** Records filed and not folded yet. */
  #pending: JournalEntry[];
  readonly #folded: Folded = { run: undefined, events: [] };
  readonly #journal: JournalEntry[] = [];

  private constructor(
    base: BriefBase,
    finished: RunEnd | null,
    bytes: Uint8Array | null,
    pending: JournalEntry[],
  ) {
    this.#base = base;
    this.#finished = finished;
    this.#bytes = bytes;
    this.#pending = pending;
  }

  /** A run from its `create` record. */
  static created(body: CreateRecord, meta: RecordMeta): RunEntry {
    const base = {
      tenant: body.principal.tenant,
      createdWalIndex: meta.walIndex,
      idempotencyKey: body.idempotency_key ?? null,
    };
    return new RunEntry(base, null, null, [{ walIndex: meta.walIndex, wallMs: meta.wallMs, body }]);
  }

  /** A finished run restored from a snapshot: its brief and its journal's bytes. */
  static restored(brief: RunBrief, journal: Uint8Array): RunEntry {
    const { status, endedAtMs, ...base } = brief;
    return new RunEntry(base, { status, endedAtMs }, journal, []);
  }

  /** Tenant, creation index and idempotency key (known without folding). */
  get base(): BriefBase {
    return this.#base;
  }

  /** Files a record of this run (folded when the run is next read). */
  file(entry: JournalEntry): void {
    this.#pending.push(entry);
    // The first finish ends the run (the fold ignores any record after its end).
    if (entry.body.op === "finish" && this.#finished === null)
      this.#finished = { status: entry.body.status, endedAtMs: entry.wallMs };
  }

  /** Whether everything filed has been folded. */
  get folded(): boolean {
    return this.#bytes === null && this.#pending.length === 0;
  }

  #fold(): void {
    if (this.#bytes !== null) {
      const tuples = JSON.parse(utf8.decode(this.#bytes)) as JournalTuples;
      const restored = tuples.map(([walIndex, wallMs, body]) => ({ walIndex, wallMs, body }));
      this.#pending = restored.concat(this.#pending);
      this.#bytes = null;
    }
    if (this.#pending.length === 0) return;
    for (const entry of this.#pending) if (foldInto(this.#folded, entry)) this.#journal.push(entry);
    this.#pending = [];
    const run = this.#folded.run;
    if (run !== undefined && this.#finished === null && isTerminal(run.status))
      this.#finished = { status: run.status, endedAtMs: run.endedAtMs };
  }

  get run(): RunState {
    this.#fold();
    return this.#folded.run as RunState;
  }

  get journal(): JournalEntry[] {
    this.#fold();
    return this.#journal;
  }

  get events(): RunEvent[] {
    this.#fold();
    return this.#folded.events;
  }

  /** The brief, without folding a run whose end is known. */
  brief(): RunBrief {
    if (this.#finished === null) this.#fold();
    if (this.#finished !== null) return { ...this.#base, ...this.#finished };
    const run = this.#folded.run as RunState;
    return { ...this.#base, status: run.status, endedAtMs: run.endedAtMs };
  }

  /**
   * The journal as a snapshot holds it (UTF-8 JSON of JournalTuples). A run never folded writes
   * what it holds — the restored bytes, or the records as filed, which fold to the same run.
   */
  journalBytes(): Uint8Array {
    if (this.#folded.run === undefined && this.#bytes !== null && this.#pending.length === 0)
      return this.#bytes;
    if (this.#folded.run === undefined && this.#bytes === null) return journalBytes(this.#pending);
    return journalBytes(this.journal);
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

  /** Files one record with its run (a `create` makes the run; other runs' records are dropped). */
  apply(body: RunRecord, meta: RecordMeta): void {
    if (body.op === "forget") {
      this.#forget(body.run_id);
      return;
    }
    const entry = this.runs.get(body.run_id);
    if (entry !== undefined) {
      entry.file({ walIndex: meta.walIndex, wallMs: meta.wallMs, body });
      return;
    }
    // A record of a run that does not exist changes nothing (as its fold says).
    if (body.op !== "create") return;
    const created = RunEntry.created(body, meta);
    this.runs.set(body.run_id, created);
    this.#index(body.run_id, created.base);
  }

  /** Adds a finished run restored from a snapshot (its brief indexes it; folded on demand). */
  restore(id: string, entry: RunEntry): void {
    this.runs.set(id, entry);
    this.#index(id, entry.base);
  }

  #index(id: string, brief: BriefBase): void {
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
