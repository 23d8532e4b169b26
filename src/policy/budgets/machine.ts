/**
 * The `budgets` state machine: every tenant's ledgers, and the reservations not settled yet.
 * A reservation adds its amount to the usage at once (what a side effect may spend is held
 * before it runs); its settlement replaces it by what was spent (0 releases it). Records carry
 * their ids, so a record folded twice (a replay) changes nothing twice: no double charge.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import type { StateMachine } from "../../storage/mod.ts";
import {
  addUsage,
  BUDGET_UNITS,
  BudgetNameSchema,
  BudgetSpecSchema,
  type Ledger,
  LedgerSnapshotSchema,
  setLedger,
} from "./ledger.ts";

/** Name of the machine and of its records. */
export const BUDGETS_MACHINE = "budgets";

const Amount = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1e15));

export const BudgetBodySchema = v.variant("op", [
  v.strictObject({
    op: v.literal("set"),
    tenant: v.string(),
    name: BudgetNameSchema,
    ...BudgetSpecSchema.entries,
  }),
  v.strictObject({ op: v.literal("delete"), tenant: v.string(), name: BudgetNameSchema }),
  v.strictObject({
    op: v.literal("reserve"),
    id: v.pipe(v.string(), v.regex(/^rsv_[0-9a-f]{16}$/)),
    tenant: v.string(),
    unit: v.picklist(BUDGET_UNITS),
    amount: Amount,
    run_id: v.nullable(v.string()),
  }),
  v.strictObject({
    op: v.literal("settle"),
    id: v.pipe(v.string(), v.regex(/^rsv_[0-9a-f]{16}$/)),
    actual: Amount,
  }),
  /** Usage counted without a reservation (requests, counted in memory and written in batches). */
  v.strictObject({
    op: v.literal("charge"),
    tenant: v.string(),
    unit: v.picklist(BUDGET_UNITS),
    amount: Amount,
    run_id: v.nullable(v.string()),
  }),
]);
export type BudgetBody = v.InferOutput<typeof BudgetBodySchema>;

/** Settled reservation ids remembered (oldest forgotten first). */
export const SETTLED_KEPT = 100_000;

/** A reservation not settled yet. */
export interface Reservation {
  tenant: string;
  unit: (typeof BUDGET_UNITS)[number];
  amount: number;
  runId: string | null;
}

/** Every ledger (by `tenant/name`) and open reservation (by id). */
export class BudgetsState {
  readonly ledgers = new Map<string, Ledger>();
  readonly open = new Map<string, Reservation>();
  /** Settled reservation ids, so a replayed settlement or reservation is not counted again. */
  readonly settled = new Set<string>();

  /** The ledgers of `tenant`, by name. */
  ledgersOf(tenant: string): Ledger[] {
    return [...this.ledgers.values()].filter((l) => l.tenant === tenant);
  }

  #charge(tenant: string, unit: string, amount: number, runId: string | null, wallMs: number) {
    for (const ledger of this.ledgersOf(tenant)) {
      if (ledger.unit === unit) addUsage(ledger, amount, runId, wallMs);
    }
  }

  apply(body: BudgetBody, wallMs: number): void {
    switch (body.op) {
      case "set": {
        const key = `${body.tenant}/${body.name}`;
        const { op: _op, tenant, name, ...spec } = body;
        this.ledgers.set(key, setLedger(this.ledgers.get(key), tenant, name, spec, wallMs));
        return;
      }
      case "delete":
        this.ledgers.delete(`${body.tenant}/${body.name}`);
        return;
      case "reserve":
        if (this.open.has(body.id) || this.settled.has(body.id)) return;
        this.open.set(body.id, {
          tenant: body.tenant,
          unit: body.unit,
          amount: body.amount,
          runId: body.run_id,
        });
        this.#charge(body.tenant, body.unit, body.amount, body.run_id, wallMs);
        return;
      case "settle": {
        const r = this.open.get(body.id);
        if (r === undefined) return;
        this.open.delete(body.id);
        this.settled.add(body.id);
        // Only a retried side effect re-sends a settled id, soon after: the newest are enough.
        if (this.settled.size > SETTLED_KEPT) {
          this.settled.delete(this.settled.values().next().value as string);
        }
        this.#charge(r.tenant, r.unit, body.actual - r.amount, r.runId, wallMs);
        return;
      }
      case "charge":
        this.#charge(body.tenant, body.unit, body.amount, body.run_id, wallMs);
    }
  }
}

const LedgerSchema = v.object({
  tenant: v.string(),
  name: v.string(),
  ...BudgetSpecSchema.entries,
  periodStartMs: v.number(),
  used: v.number(),
  usedByRun: v.record(v.string(), v.number()),
  history: v.array(LedgerSnapshotSchema),
});

const SnapshotSchema = v.object({
  ledgers: v.array(LedgerSchema),
  open: v.array(
    v.object({
      id: v.string(),
      tenant: v.string(),
      unit: v.picklist(BUDGET_UNITS),
      amount: v.number(),
      runId: v.nullable(v.string()),
    }),
  ),
  settled: v.array(v.string()),
});

/** Creates the machine. */
export function createBudgetsMachine(): StateMachine<BudgetsState, BudgetBody> {
  return {
    name: BUDGETS_MACHINE,
    schema: BudgetBodySchema,
    init: () => new BudgetsState(),
    apply: (state, record) => {
      state.apply(record.body, record.wallMs);
      return state;
    },
    snapshot: (state) =>
      Buffer.from(
        JSON.stringify({
          ledgers: [...state.ledgers.values()],
          open: [...state.open].map(([id, r]) => ({ id, ...r })),
          settled: [...state.settled],
        }),
        "utf8",
      ),
    restore: (bytes) => {
      const state = new BudgetsState();
      const data = v.parse(SnapshotSchema, JSON.parse(Buffer.from(bytes).toString("utf8")));
      for (const ledger of data.ledgers)
        state.ledgers.set(`${ledger.tenant}/${ledger.name}`, ledger);
      for (const { id, ...r } of data.open) state.open.set(id, r);
      for (const id of data.settled) state.settled.add(id);
      return state;
    },
  };
}
