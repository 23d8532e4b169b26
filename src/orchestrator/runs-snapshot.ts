/**
 * The `runs` state machine (the fold of runs-machine.ts) and its snapshot layout.
 *
 * Format 2: `["VLTRUNS2"][headerBytes u32 LE][header JSON][journals]`. The header lists the runs in
 * creation order — an unfinished run as its journal (`[walIndex, wallMs, record]` tuples, folded
 * again on restore), a finished one as `["f", id, tenant, status, createdWalIndex, endedAtMs,
 * idempotencyKey, journalBytes]` — and the finished runs' journals follow as UTF-8 JSON, one after
 * another in header order. Restoring 100k finished runs is then one small JSON parse and one copy
 * of their journal bytes; each is decoded and folded the first time it is read.
 * Format 1 (one JSON document whose finished runs carry their journals as JSON strings) is still
 * read.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { runSteps, type Steps } from "../core/mod.ts";
import {
  applyInPlace,
  decodeParts,
  encodeParts,
  hasMagic,
  PartReader,
  type StateMachine,
  snapshotInParts,
  utf8Text,
} from "../storage/mod.ts";
import { RUNS_MACHINE, type RunRecord, RunRecordSchema } from "./run-record.ts";
import { isTerminal, type RunState } from "./run-state.ts";
import { briefOf, type JournalTuples, type RunBrief, RunEntry, RunsState } from "./runs-machine.ts";

/** The snapshot layout `snapshot` writes. */
export const RUNS_SNAPSHOT_FORMAT = 2;
const MAGIC = "VLTRUNS2";
/** Runs restored between two returns to the event loop. */
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

/** A finished run's header entry; the last field is its journal (format 1: JSON text; 2: size). */
type FinishedTuple = [
  "f",
  string,
  string,
  RunState["status"],
  number,
  number | null,
  string | null,
  string | number,
];

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

function corrupt(what: string): Error {
  return new Error(`runs snapshot: ${what}`);
}

/** Checks a finished run's header entry by hand (100k of them: a schema per entry is slow). */
function finishedOf(item: unknown[], last: "string" | "number"): FinishedTuple {
  const [, id, tenant, status, created, ended, key, journal] = item;
  const ok =
    item.length === 8 &&
    typeof id === "string" &&
    typeof tenant === "string" &&
    typeof status === "string" &&
    TERMINAL.has(status) &&
    Number.isSafeInteger(created) &&
    (ended === null || typeof ended === "number") &&
    (key === null || typeof key === "string") &&
    typeof journal === last &&
    (last === "string" || Number.isSafeInteger(journal));
  if (!ok) throw corrupt("a finished run's entry is malformed");
  return item as FinishedTuple;
}

function briefOfTuple(t: FinishedTuple): RunBrief {
  return {
    tenant: t[2],
    status: t[3],
    createdWalIndex: t[4],
    endedAtMs: t[5],
    idempotencyKey: t[6],
  };
}

/** Encodes the state in format 2. */
export function encodeRunsSnapshotParts(state: RunsState): Uint8Array[] {
  const runs: unknown[] = [];
  const journals: Uint8Array[] = [];
  for (const [id, entry] of state.runs) {
    const brief = briefOf(entry);
    if (!isTerminal(brief.status)) {
      runs.push(entry.journal.map((j) => [j.walIndex, j.wallMs, j.body]));
      continue;
    }
    const bytes = entry.journalBytes();
    journals.push(bytes);
    const { tenant, status, createdWalIndex, endedAtMs, idempotencyKey } = brief;
    runs.push(["f", id, tenant, status, createdWalIndex, endedAtMs, idempotencyKey, bytes.length]);
  }
  return encodeParts(MAGIC, { runs }, journals);
}

/** The header's runs and a reader of the journals after it (format 1: none). */
function headerOf(bytes: Uint8Array): { runs: unknown[]; journals: PartReader | null } {
  const format2 = hasMagic(bytes, MAGIC);
  const decoded = format2
    ? decodeParts(bytes)
    : { header: JSON.parse(utf8Text(bytes)), parts: null };
  const runs = (decoded.header as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) throw corrupt("no runs list");
  return { runs, journals: decoded.parts === null ? null : new PartReader(decoded.parts) };
}

function* restoreSteps(bytes: Uint8Array): Steps<RunsState> {
  const { runs, journals } = headerOf(bytes);
  yield;
  const state = new RunsState();
  for (let i = 0; i < runs.length; i++) {
    const item = runs[i];
    if (!Array.isArray(item)) throw corrupt("a run is not a list");
    if (item[0] === "f") {
      const t = finishedOf(item, journals === null ? "string" : "number");
      const journal =
        journals === null ? Buffer.from(t[7] as string, "utf8") : journals.next(t[7] as number);
      state.restore(t[1], RunEntry.restored(briefOfTuple(t), journal));
    } else {
      for (const [walIndex, wallMs, body] of v.parse(JournalSchema, item) as JournalTuples)
        state.apply(body, { walIndex, wallMs });
    }
    if (i % RESTORE_RUNS_PER_STEP === RESTORE_RUNS_PER_STEP - 1) yield;
  }
  journals?.end();
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
    format: RUNS_SNAPSHOT_FORMAT,
    init: () => new RunsState(),
    apply: applyInPlace,
    ...snapshotInParts(encodeRunsSnapshotParts),
    restore: (bytes) => runSteps(restoreSteps(bytes)),
    restoreSteps,
  };
}
