/**
 * Budgets: ledgers per tenant (and per run) on a unit over a period, reserved before a side
 * effect and settled after it, all as WAL records.
 *
 * @example
 * ```ts
 * import { BudgetService, createBudgetsMachine } from "../policy/budgets/mod.ts";
 * ```
 */
export type { BudgetPeriod, BudgetSpec, BudgetUnit, Ledger, LedgerSnapshot } from "./ledger.ts";
export {
  BUDGET_PERIODS,
  BUDGET_UNITS,
  BudgetNameSchema,
  BudgetSpecSchema,
  HISTORY_MAX,
  LedgerSnapshotSchema,
  periodEndOf,
  periodStartOf,
} from "./ledger.ts";
export type { BudgetBody, Reservation } from "./machine.ts";
export { BUDGETS_MACHINE, BudgetsState, createBudgetsMachine, SETTLED_KEPT } from "./machine.ts";
export { RequestMeter } from "./request-meter.ts";
export type { BudgetServiceOptions, BudgetView, Hold } from "./service.ts";
export { BudgetService } from "./service.ts";
