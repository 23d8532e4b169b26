/** Budget ledgers folded from records: periods, reservations, settlements, replay, history. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type BudgetBody,
  BudgetsState,
  createBudgetsMachine,
  HISTORY_MAX,
  periodEndOf,
  periodStartOf,
} from "../../../src/policy/budgets/mod.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 4, 10);
const rsv = (n: number) => `rsv_${n.toString(16).padStart(16, "0")}`;

function fold(records: [BudgetBody, number][]): BudgetsState {
  const state = new BudgetsState();
  for (const [body, wallMs] of records) state.apply(body, wallMs);
  return state;
}

const set = (limit: number, period: "day" | "month" | "run" = "day"): BudgetBody => ({
  op: "set",
  tenant: "acme",
  name: "runs",
  unit: "sandbox_runs",
  limit,
  period,
});

describe("periods", () => {
  test("days and months start and end at UTC boundaries", () => {
    expect(new Date(periodStartOf("day", T0)).toISOString()).toBe("2026-12-04T00:00:00.000Z");
    expect(new Date(periodStartOf("month", T0)).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(new Date(periodEndOf("month", periodStartOf("month", T0)) as number).toISOString()).toBe(
      "2027-01-01T00:00:00.000Z",
    );
    expect(periodEndOf("run", 0)).toBeNull();
  });
});

describe("ledgers", () => {
  test("a reservation holds its amount; settlement replaces it by what was spent", () => {
    const state = fold([
      [set(10), T0],
      [
        {
          op: "reserve",
          id: rsv(1),
          tenant: "acme",
          unit: "sandbox_runs",
          amount: 3,
          run_id: null,
        },
        T0,
      ],
    ]);
    const ledger = () => state.ledgers.get("acme/runs");
    expect(ledger()?.used).toBe(3);
    state.apply({ op: "settle", id: rsv(1), actual: 1 }, T0 + 1);
    expect(ledger()?.used).toBe(1);
    expect(state.open.size).toBe(0);
  });

  test("the same reservation or settlement folded twice is counted once (crash and retry)", () => {
    const reserve: BudgetBody = {
      op: "reserve",
      id: rsv(2),
      tenant: "acme",
      unit: "sandbox_runs",
      amount: 2,
      run_id: null,
    };
    const settle: BudgetBody = { op: "settle", id: rsv(2), actual: 2 };
    const state = fold([
      [set(10), T0],
      [reserve, T0],
      [reserve, T0],
      [settle, T0],
      [settle, T0],
      [reserve, T0],
    ]);
    expect(state.ledgers.get("acme/runs")?.used).toBe(2);
  });

  test("a new day resets a day budget and remembers the closed one", () => {
    const charge = (wallMs: number): [BudgetBody, number] => [
      { op: "charge", tenant: "acme", unit: "sandbox_runs", amount: 1, run_id: null },
      wallMs,
    ];
    const state = fold([[set(5), T0], charge(T0), charge(T0 + 1), charge(T0 + DAY)]);
    const ledger = state.ledgers.get("acme/runs");
    expect(ledger?.used).toBe(1);
    expect(ledger?.history).toEqual([
      { at: "2026-12-05T00:00:00.000Z", used: 2, limit: 5, reason: "period_closed" },
    ]);
  });

  test("run budgets count per run; other tenants' and units' usage never counts", () => {
    const state = fold([
      [set(3, "run"), T0],
      [{ op: "charge", tenant: "acme", unit: "sandbox_runs", amount: 2, run_id: "run_a" }, T0],
      [{ op: "charge", tenant: "acme", unit: "sandbox_runs", amount: 1, run_id: "run_b" }, T0],
      [{ op: "charge", tenant: "beta", unit: "sandbox_runs", amount: 9, run_id: "run_a" }, T0],
      [{ op: "charge", tenant: "acme", unit: "llm_tokens", amount: 9, run_id: "run_a" }, T0],
    ]);
    expect(state.ledgers.get("acme/runs")?.usedByRun).toEqual({ run_a: 2, run_b: 1 });
  });

  test("property: usage never goes below 0, history stays bounded, snapshots never change", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("charge" as const),
        amount: fc.nat(50),
        dayOffset: fc.nat(40),
      }),
      fc.record({
        kind: fc.constant("reserve" as const),
        id: fc.nat(20),
        amount: fc.nat(50),
        dayOffset: fc.nat(40),
      }),
      fc.record({
        kind: fc.constant("settle" as const),
        id: fc.nat(20),
        actual: fc.nat(50),
        dayOffset: fc.nat(40),
      }),
      fc.record({ kind: fc.constant("limit" as const), limit: fc.nat(100), dayOffset: fc.nat(40) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const state = new BudgetsState();
        state.apply(set(50), T0);
        // Records arrive in log order, so their times never go back.
        const sorted = [...ops].sort((a, b) => a.dayOffset - b.dayOffset);
        const seen: unknown[] = [];
        for (const o of sorted) {
          const wallMs = T0 + o.dayOffset * DAY;
          if (o.kind === "charge")
            state.apply(
              {
                op: "charge",
                tenant: "acme",
                unit: "sandbox_runs",
                amount: o.amount,
                run_id: null,
              },
              wallMs,
            );
          if (o.kind === "reserve")
            state.apply(
              {
                op: "reserve",
                id: rsv(o.id),
                tenant: "acme",
                unit: "sandbox_runs",
                amount: o.amount,
                run_id: null,
              },
              wallMs,
            );
          if (o.kind === "settle")
            state.apply({ op: "settle", id: rsv(o.id), actual: o.actual }, wallMs);
          if (o.kind === "limit") state.apply(set(o.limit), wallMs);
          const ledger = state.ledgers.get("acme/runs");
          if (ledger === undefined || ledger.used < 0 || ledger.history.length > HISTORY_MAX)
            return false;
          for (const s of ledger.history) if (!Object.isFrozen(s)) return false;
          seen.push(...ledger.history);
        }
        // A snapshot, once taken, keeps its fields (stable order, never rewritten).
        return seen.every((s) => Object.keys(s as object).join() === "at,used,limit,reason");
      }),
      { seed: 20261204, numRuns: 200 },
    );
  });

  test("snapshot and restore give the same ledgers and open reservations", () => {
    const machine = createBudgetsMachine();
    const state = fold([
      [set(10), T0],
      [
        {
          op: "reserve",
          id: rsv(3),
          tenant: "acme",
          unit: "sandbox_runs",
          amount: 4,
          run_id: null,
        },
        T0,
      ],
    ]);
    const restored = machine.restore(machine.snapshot(state));
    expect([...restored.ledgers]).toEqual([...state.ledgers]);
    expect([...restored.open]).toEqual([...state.open]);
    restored.apply({ op: "settle", id: rsv(3), actual: 0 }, T0);
    expect(restored.ledgers.get("acme/runs")?.used).toBe(0);
  });
});
