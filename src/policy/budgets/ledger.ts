/**
 * Budget ledgers (issue 17 item 4): a limit on one unit over a period, and what is used and
 * reserved against it. Pure: every function takes the time from the record it folds (UTC day and
 * month boundaries), so replay gives the same ledgers.
 */
import * as v from "valibot";
import { VltairError } from "../../core/mod.ts";

export const BUDGET_UNITS = [
  "llm_tokens",
  "cost_usd",
  "sandbox_cpu_ms",
  "sandbox_runs",
  "requests",
] as const;
export type BudgetUnit = (typeof BUDGET_UNITS)[number];

export const BUDGET_PERIODS = ["run", "day", "month"] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** Snapshots of a ledger kept in its history ring (one per closed period or change). */
export const HISTORY_MAX = 32;

export const BudgetNameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1-64 of a-z, 0-9, '.', '_', '-'"),
);

/** A budget as set: what it limits, how much, over what. */
export const BudgetSpecSchema = v.strictObject({
  unit: v.picklist(BUDGET_UNITS),
  limit: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1e15)),
  period: v.picklist(BUDGET_PERIODS),
});
export type BudgetSpec = v.InferOutput<typeof BudgetSpecSchema>;

/** One snapshot of a ledger (stable field order: it is rendered as is). */
export const LedgerSnapshotSchema = v.object({
  at: v.string(),
  used: v.number(),
  limit: v.number(),
  reason: v.picklist(["period_closed", "limit_changed"]),
});
export type LedgerSnapshot = v.InferOutput<typeof LedgerSnapshotSchema>;

/** A ledger: a budget and its usage in the current period (per run for `run` budgets). */
export interface Ledger extends BudgetSpec {
  tenant: string;
  name: string;
  /** Start of the current period (ms since epoch, UTC); 0 for `run` budgets. */
  periodStartMs: number;
  /** Charged in the current period; for `run` budgets, per run id. */
  used: number;
  usedByRun: Record<string, number>;
  history: LedgerSnapshot[];
}

/** Start of the period holding `wallMs` (UTC midnight, or the first of the month). */
export function periodStartOf(period: BudgetPeriod, wallMs: number): number {
  if (period === "run") return 0;
  const d = new Date(wallMs);
  return period === "day"
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the next period: when a day or month budget resets. */
export function periodEndOf(period: BudgetPeriod, startMs: number): number | null {
  if (period === "run") return null;
  const d = new Date(startMs);
  return period === "day"
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function remember(ledger: Ledger, snapshot: LedgerSnapshot): void {
  ledger.history.push(Object.freeze({ ...snapshot }));
  if (ledger.history.length > HISTORY_MAX)
    ledger.history.splice(0, ledger.history.length - HISTORY_MAX);
}

/** Closes the period if `wallMs` lies past it: usage resets, the closed period is remembered. */
export function rollOver(ledger: Ledger, wallMs: number): void {
  const start = periodStartOf(ledger.period, wallMs);
  if (ledger.period === "run" || start <= ledger.periodStartMs) return;
  remember(ledger, {
    at: new Date(start).toISOString(),
    used: ledger.used,
    limit: ledger.limit,
    reason: "period_closed",
  });
  ledger.periodStartMs = start;
  ledger.used = 0;
}

/**
 * Usage a new charge of `runId` at `nowMs` is measured against: the run's for `run` budgets;
 * otherwise the current period's (0 once `nowMs` lies past the period the ledger last saw).
 */
export function usedFor(ledger: Ledger, runId: string | null, nowMs: number): number {
  if (ledger.period === "run") return runId === null ? 0 : (ledger.usedByRun[runId] ?? 0);
  return periodStartOf(ledger.period, nowMs) > ledger.periodStartMs ? 0 : ledger.used;
}

/**
 * Throws `429 budget_exceeded` when `amount` more would pass the ledger's limit, given `used`
 * (what is written plus what is held or counted but not written yet).
 */
export function assertRoom(ledger: Ledger, used: number, amount: number): void {
  if (used + amount <= ledger.limit) return;
  throw new VltairError(
    "budget_exceeded",
    `budget ${ledger.name} allows ${ledger.limit} ${ledger.unit} per ${ledger.period}; ${used} used`,
    { details: { budget: ledger.name, limit: ledger.limit, used, period: ledger.period } },
  );
}

/** A new ledger, or an existing one with a new limit (usage kept; the change remembered). */
export function setLedger(
  existing: Ledger | undefined,
  tenant: string,
  name: string,
  spec: BudgetSpec,
  wallMs: number,
): Ledger {
  if (existing !== undefined && existing.unit === spec.unit && existing.period === spec.period) {
    rollOver(existing, wallMs);
    remember(existing, {
      at: new Date(wallMs).toISOString(),
      used: existing.used,
      limit: existing.limit,
      reason: "limit_changed",
    });
    existing.limit = spec.limit;
    return existing;
  }
  return {
    tenant,
    name,
    ...spec,
    periodStartMs: periodStartOf(spec.period, wallMs),
    used: 0,
    usedByRun: {},
    history: [],
  };
}

/** Adds `amount` (negative gives back) to the ledger's usage, never below zero. */
export function addUsage(
  ledger: Ledger,
  amount: number,
  runId: string | null,
  wallMs: number,
): void {
  rollOver(ledger, wallMs);
  if (ledger.period === "run") {
    if (runId === null) return;
    ledger.usedByRun[runId] = Math.max(0, (ledger.usedByRun[runId] ?? 0) + amount);
    return;
  }
  ledger.used = Math.max(0, ledger.used + amount);
}
