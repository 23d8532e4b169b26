/**
 * The runs machine's snapshot: format 2 (a header of briefs, then the finished runs' journals as
 * bytes) restores finished runs unfolded and unfinished ones folded, each equal to the live fold;
 * a restored state snapshots to the same bytes; format 1 (one JSON document) is still read; a
 * snapshot whose journals do not add up is refused.
 */
import { describe, expect, test } from "bun:test";
import type { CreateRecord, RunRecord } from "../../../src/orchestrator/run-record.ts";
import type { RunsState } from "../../../src/orchestrator/runs-machine.ts";
import { createRunsMachine } from "../../../src/orchestrator/runs-snapshot.ts";

const machine = createRunsMachine();

function create(n: number, tenant: string, key: string | null): CreateRecord {
  return {
    op: "create",
    run_id: `run_${String(n).padStart(28, "0")}`,
    principal: { subject: "agent", tenant, roles: ["writer"], token_id: null },
    trace_id: "0".repeat(32),
    workflow: { steps: [{ id: "a", kind: "echo", with: { value: n } }] },
    input: { n },
    request_hash: "0".repeat(64),
    ...(key === null ? {} : { idempotency_key: key }),
  } as CreateRecord;
}

/** Run n's records: created, step `a` done, and finished unless `open`. */
function recordsOf(n: number, tenant: string, open = false): RunRecord[] {
  const run_id = create(n, tenant, null).run_id;
  const out = [
    create(n, tenant, n % 2 === 0 ? `key-${n}` : null),
    { op: "schedule", run_id, steps: ["a"] },
    { op: "start", run_id, step_id: "a", attempt: 1, restart: false },
  ] as RunRecord[];
  if (open) return out;
  return [
    ...out,
    { op: "complete", run_id, step_id: "a", attempt: 1, output: n },
    { op: "finish", run_id, status: "succeeded" },
  ] as RunRecord[];
}

/** A state of five finished runs of two tenants and one unfinished run. */
function liveState(): RunsState {
  const state = machine.init();
  let walIndex = 0;
  const runs = [0, 1, 2, 3, 4].map((n) => recordsOf(n, n < 3 ? "acme" : "beta"));
  for (const body of [...runs.flat(), ...recordsOf(5, "acme", true)])
    machine.apply(state, { walIndex: ++walIndex, wallMs: 1_000 + walIndex, machine: "runs", body });
  return state;
}

/** What reads see of a state: each run's state and events, the lists and keys. */
function view(state: RunsState) {
  return {
    runs: [...state.runs].map(([id, e]) => ({ id, run: e.run, events: e.events })),
    byTenant: [...state.byTenant],
    idempotency: [...state.idempotency],
  };
}

describe("runs snapshot, format 2", () => {
  test("finished runs restore unfolded, equal to the live fold once read", () => {
    const live = liveState();
    const bytes = machine.snapshot(live);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("VLTRUNS2");
    const restored = machine.restore(bytes);
    // No run is folded by the restore (the unfinished one is, by the driver's first read).
    expect([...restored.runs.values()].filter((e) => !e.folded)).toHaveLength(6);
    // A restored state that nobody read snapshots to the same bytes (its journals are reused).
    expect(machine.snapshot(restored)).toEqual(bytes);
    expect(view(restored)).toEqual(view(live));
    // Read (folded), it still snapshots to the same bytes.
    expect(machine.snapshot(restored)).toEqual(bytes);
  });

  test("format 1 (one JSON document with journals as text) is still read", () => {
    const live = liveState();
    const runs = [...live.runs].map(([id, e]) => {
      const journal = e.journal.map((j) => [j.walIndex, j.wallMs, j.body]);
      if (e.run.status !== "succeeded") return journal;
      const { tenant, status, createdWalIndex, endedAtMs, idempotencyKey } = e.run;
      const text = JSON.stringify(journal);
      return ["f", id, tenant, status, createdWalIndex, endedAtMs, idempotencyKey, text];
    });
    const restored = machine.restore(new TextEncoder().encode(JSON.stringify({ runs })));
    expect(view(restored)).toEqual(view(live));
  });

  test("journals that do not add up, or a malformed entry, are refused", () => {
    const bytes = machine.snapshot(liveState());
    expect(() => machine.restore(bytes.subarray(0, bytes.length - 1))).toThrow(/shorter/);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => machine.restore(longer)).toThrow(/longer/);
    // A finished run's status that is not a string (same length: the header size still fits).
    const bad = bytes.slice();
    bad.set(new TextEncoder().encode("12345678901"), Buffer.from(bad).indexOf('"succeeded"'));
    expect(() => machine.restore(bad)).toThrow(/malformed/);
  });

  test("records are filed and folded when read: a record that changes nothing is not journaled", () => {
    const state = machine.init();
    const [create, schedule, start, complete, finish] = recordsOf(9, "acme") as RunRecord[];
    let walIndex = 0;
    const file = (body: RunRecord) =>
      machine.apply(state, {
        walIndex: ++walIndex,
        wallMs: 5_000 + walIndex,
        machine: "runs",
        body,
      });
    // A duplicate completion, a record of an unknown run, and a record after the end.
    const stray = { ...(complete as RunRecord), run_id: `run_${"9".repeat(28)}` } as RunRecord;
    for (const body of [create, schedule, start, complete, complete, stray, finish, schedule])
      file(body as RunRecord);
    const entry = state.runs.get((create as CreateRecord).run_id);
    if (entry === undefined) throw new Error("the run exists");
    expect(state.runs.size).toBe(1);
    // Its end is known from its finish record: nothing folded yet.
    expect(entry.brief()).toMatchObject({ tenant: "acme", status: "succeeded", endedAtMs: 5_007 });
    expect(entry.folded).toBe(false);
    // Written unfolded (records as filed) and restored, it folds to the same run.
    const restored = machine.restore(machine.snapshot(state));
    expect(entry.journal.map((j) => j.body.op)).toEqual([
      "create",
      "schedule",
      "start",
      "complete",
      "finish",
    ]);
    expect(entry.folded).toBe(true);
    expect(view(restored)).toEqual(view(state));
    expect(entry.events.at(-1)?.type).toBe("run.succeeded");
  });
});
