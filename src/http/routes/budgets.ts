/**
 * Budgets (API.md, "Policy, budgets, audit"): set, list, delete and the history of a budget.
 * A tenant's admin manages its own; the operator any tenant's (`?tenant=T`).
 */
import * as v from "valibot";
import { VltairError } from "../../core/mod.ts";
import type { BudgetService } from "../../policy/budgets/mod.ts";
import {
  BUDGET_PERIODS,
  BUDGET_UNITS,
  BudgetNameSchema,
  BudgetSpecSchema,
  LedgerSnapshotSchema,
} from "../../policy/budgets/mod.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";

const TenantQuerySchema = v.strictObject({
  tenant: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
});

const BudgetViewSchema = v.object({
  name: v.string(),
  unit: v.picklist(BUDGET_UNITS),
  limit: v.number(),
  used: v.number(),
  period: v.picklist(BUDGET_PERIODS),
  resets_at: v.nullable(v.string()),
});

const HistorySchema = v.object({ history: v.array(LedgerSnapshotSchema) });

/** The `{name}` path parameter, or 400 `validation_failed` naming it. */
function nameOf(raw: string | undefined): string {
  const parsed = v.safeParse(BudgetNameSchema, raw ?? "");
  if (parsed.success) return parsed.output;
  throw new VltairError("validation_failed", `name: ${parsed.issues[0]?.message}`, {
    details: { path: "name" },
  });
}

/** The budget routes. */
export function budgetRoutes(deps: { budgets: BudgetService }): AnyRoute[] {
  return [
    defineRoute({
      method: "PUT",
      path: "/v1/budgets/:name",
      summary:
        "Set a budget: a limit on one unit (llm_tokens, cost_usd, sandbox_cpu_ms, sandbox_runs, requests) per run, day or month (UTC); usage is kept when only the limit changes.",
      tag: "budgets",
      access: "admin",
      query: TenantQuerySchema,
      body: BudgetSpecSchema,
      responses: { 200: { description: "The budget", schema: BudgetViewSchema } },
      handler: async (c, { body, query }) =>
        c.json(await deps.budgets.set(callOf(c), nameOf(c.req.param("name")), body, query.tenant)),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/budgets",
      tool: {
        name: "budget_list",
        title: "List budgets",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "The tenant's budgets with what is used in the current period and when it resets.",
      tag: "budgets",
      access: "reader",
      query: TenantQuerySchema,
      responses: {
        200: {
          description: "The budgets",
          schema: v.object({ budgets: v.array(BudgetViewSchema) }),
        },
      },
      handler: (c, { query }) => c.json({ budgets: deps.budgets.list(callOf(c), query.tenant) }),
    }),
    defineRoute({
      method: "DELETE",
      path: "/v1/budgets/:name",
      summary: "Delete a budget.",
      tag: "budgets",
      access: "admin",
      query: TenantQuerySchema,
      responses: {
        200: { description: "Deleted", schema: v.object({ deleted: v.literal(true) }) },
      },
      handler: async (c, { query }) => {
        await deps.budgets.remove(callOf(c), nameOf(c.req.param("name")), query.tenant);
        return c.json({ deleted: true as const });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/budgets/:name/history",
      summary:
        "The budget's last 32 snapshots (closed periods and limit changes), oldest first; fields in a stable order.",
      tag: "budgets",
      access: "reader",
      query: TenantQuerySchema,
      responses: { 200: { description: "The history", schema: HistorySchema } },
      handler: (c, { query }) =>
        c.json({
          history: deps.budgets.history(callOf(c), nameOf(c.req.param("name")), query.tenant),
        }),
    }),
  ];
}
