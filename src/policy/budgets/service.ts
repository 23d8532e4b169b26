/**
 * Budgets: operators and tenant admins set limits; services reserve before a side effect and
 * settle after it (`spend`), and a reservation that would pass a limit is refused with
 * `429 budget_exceeded` before anything runs. Reservations of one tenant are checked and
 * committed one at a time, so two concurrent ones cannot both squeeze under a limit.
 */
import { randomBytes } from "node:crypto";
import { authorize, type Call, VltairError } from "../../core/mod.ts";
import type { MachineHandle, Storage } from "../../storage/mod.ts";
import { isOperator } from "../roles.ts";
import {
  assertRoom,
  type BudgetSpec,
  type BudgetUnit,
  type Ledger,
  type LedgerSnapshot,
  periodEndOf,
  periodStartOf,
  usedFor,
} from "./ledger.ts";
import type { BudgetBody, BudgetsState } from "./machine.ts";

/** A budget as the API shows it. */
export interface BudgetView {
  name: string;
  unit: BudgetUnit;
  limit: number;
  used: number;
  period: BudgetSpec["period"];
  resets_at: string | null;
}

/** Options of {@link BudgetService}. */
export interface BudgetServiceOptions {
  storage: Storage;
  handle: MachineHandle<BudgetsState, BudgetBody>;
  nowMs: () => number;
}

/** A held amount, to settle once the side effect is done. */
export interface Hold {
  id: string;
  amount: number;
}

export class BudgetService {
  readonly #o: BudgetServiceOptions;
  /** Per tenant, the end of the last reservation's check-and-commit. */
  readonly #tails = new Map<string, Promise<unknown>>();

  constructor(options: BudgetServiceOptions) {
    this.#o = options;
  }

  #tenantFor(call: Call, tenant: string | undefined): string {
    const wanted = tenant ?? call.principal.tenant;
    if (wanted !== call.principal.tenant && !isOperator(call.principal)) {
      throw new VltairError("not_found", "no budgets of that tenant are visible to this token");
    }
    return wanted;
  }

  #view(ledger: Ledger, nowMs: number): BudgetView {
    const start = periodStartOf(ledger.period, nowMs);
    const current = ledger.period === "run" || start <= ledger.periodStartMs;
    const end = periodEndOf(ledger.period, current ? ledger.periodStartMs : start);
    return {
      name: ledger.name,
      unit: ledger.unit,
      limit: ledger.limit,
      // A run budget has no usage of its own: each run's is its own.
      used: usedFor(ledger, null, nowMs),
      period: ledger.period,
      resets_at: end === null ? null : new Date(end).toISOString(),
    };
  }

  /** Sets (creates or changes) a budget of the caller's tenant, or another's (operator). */
  async set(call: Call, name: string, spec: BudgetSpec, tenant?: string): Promise<BudgetView> {
    authorize(call, "admin", "budget.set");
    const t = this.#tenantFor(call, tenant);
    await this.#o.storage.commit(
      [this.#o.handle.record({ op: "set", tenant: t, name, ...spec })],
      call,
    );
    return this.#view(this.#ledger(t, name), this.#o.nowMs());
  }

  /** Deletes a budget (404 when there is none of that name). */
  async remove(call: Call, name: string, tenant?: string): Promise<void> {
    authorize(call, "admin", "budget.set");
    const t = this.#tenantFor(call, tenant);
    this.#ledger(t, name);
    await this.#o.storage.commit([this.#o.handle.record({ op: "delete", tenant: t, name })], call);
  }

  /** The budgets of the caller's tenant (or another's, for the operator), by name. */
  list(call: Call, tenant?: string): BudgetView[] {
    authorize(call, "reader", "budget.read");
    const t = this.#tenantFor(call, tenant);
    const nowMs = this.#o.nowMs();
    return this.#o.handle
      .state()
      .ledgersOf(t)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((l) => this.#view(l, nowMs));
  }

  /** The bounded history of one budget, oldest first. */
  history(call: Call, name: string, tenant?: string): readonly LedgerSnapshot[] {
    authorize(call, "reader", "budget.read");
    return this.#ledger(this.#tenantFor(call, tenant), name).history;
  }

  #ledger(tenant: string, name: string): Ledger {
    const ledger = this.#o.handle.state().ledgers.get(`${tenant}/${name}`);
    if (ledger === undefined) throw new VltairError("not_found", `no budget named ${name}`);
    return ledger;
  }

  /**
   * Holds `amount` of `unit` for the call's tenant (and run) before a side effect, or throws
   * `budget_exceeded` naming the first budget it would pass. `id` makes a retried hold of the
   * same side effect (after a crash) the same reservation.
   */
  async reserve(
    call: Call,
    unit: BudgetUnit,
    amount: number,
    options: { runId?: string | null; id?: string } = {},
  ): Promise<Hold> {
    const tenant = call.principal.tenant;
    const id = options.id ?? `rsv_${randomBytes(8).toString("hex")}`;
    const runId = options.runId ?? null;
    // No budget on this unit: nothing to hold, nothing written (no fsync for every run).
    if (
      !this.#o.handle
        .state()
        .ledgersOf(tenant)
        .some((l) => l.unit === unit)
    ) {
      return { id: "", amount: 0 };
    }
    return this.#serial(tenant, async () => {
      const nowMs = this.#o.nowMs();
      for (const ledger of this.#o.handle.state().ledgersOf(tenant)) {
        if (ledger.unit === unit) assertRoom(ledger, usedFor(ledger, runId, nowMs), amount);
      }
      await this.#o.storage.commit(
        [this.#o.handle.record({ op: "reserve", id, tenant, unit, amount, run_id: runId })],
        call,
      );
      return { id, amount };
    });
  }

  /** Replaces a hold by what was spent (0 releases it); a hold of no budget settles nothing. */
  async settle(call: Call, hold: Hold, actual: number): Promise<void> {
    if (hold.id === "") return;
    await this.#o.storage.commit(
      [this.#o.handle.record({ op: "settle", id: hold.id, actual: Math.max(0, actual) })],
      call,
    );
  }

  /**
   * Runs a side effect under a budget: holds `amount`, runs `effect`, then settles what it says
   * it spent — or releases the hold when it throws.
   *
   * @example
   * ```ts
   * const result = await budgets.spend(call, "sandbox_runs", 1, async () => [await run(), 1]);
   * ```
   */
  async spend<T>(
    call: Call,
    unit: BudgetUnit,
    amount: number,
    effect: () => Promise<[T, number]>,
  ): Promise<T> {
    const hold = await this.reserve(call, unit, amount);
    let spent = 0;
    try {
      const [result, actual] = await effect();
      spent = actual;
      return result;
    } finally {
      await this.settle(call, hold, spent);
    }
  }

  #serial<T>(tenant: string, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(tenant) ?? Promise.resolve();
    const run = before.then(task, task);
    const tail = run.catch(() => undefined);
    this.#tails.set(tenant, tail);
    void tail.then(() => {
      if (this.#tails.get(tenant) === tail) this.#tails.delete(tenant);
    });
    return run;
  }
}
