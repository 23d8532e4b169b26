/**
 * Policy tests (`vltair policy test DIR`, OPA's `opa test` for Cedar): cases that describe a
 * request and the decision expected of a global set and a tenant set, evaluated exactly as the
 * server decides (both levels, deny overrides, fail closed on errors).
 */
import * as v from "valibot";
import type { CedarEngine } from "./cedar-engine.ts";
import { ACTION_CONTEXT_SCHEMAS, POLICY_ACTIONS } from "./cedar-schema.ts";
import { evaluateLevels } from "./policy-decision.ts";
import type { CompiledPolicySet } from "./policy-set.ts";
import { SubjectSchema, TenantSchema } from "./roles.ts";

/** Most cases in one file. */
export const POLICY_CASES_MAX = 10_000;

/** One case: a request and what must be decided. */
export const PolicyCaseSchema = v.strictObject({
  name: v.pipe(v.string("must be a string"), v.minLength(1), v.maxLength(200)),
  action: v.picklist(POLICY_ACTIONS, `must be one of ${POLICY_ACTIONS.join(", ")}`),
  context: v.record(v.string(), v.unknown(), "must be an object"),
  /** Default: subject `test` of tenant `default`. */
  principal: v.optional(v.strictObject({ tenant: TenantSchema, subject: SubjectSchema }), {
    tenant: "default",
    subject: "test",
  }),
  expect: v.picklist(["allow", "deny"], "must be allow or deny"),
  /** When given, the reasons must be exactly these policy ids (any order). */
  reasons: v.optional(v.array(v.string("must be a string"))),
});
export type PolicyCase = v.InferOutput<typeof PolicyCaseSchema>;

/** A file of cases: a JSON array. */
export const PolicyCasesSchema = v.pipe(
  v.array(PolicyCaseSchema, "must be an array of cases"),
  v.maxLength(POLICY_CASES_MAX, `must hold at most ${POLICY_CASES_MAX} cases`),
);

/** What one case gave. */
export interface PolicyCaseResult {
  name: string;
  ok: boolean;
  expected: "allow" | "deny";
  decision: "allow" | "deny";
  reasons: string[];
  /** Why the case itself could not be evaluated (a context that does not fit its action). */
  error: string | null;
}

/**
 * Evaluates every case against the two sets.
 *
 * @example
 * ```ts
 * const results = runPolicyCases(engine, { global, tenant }, cases);
 * const failed = results.filter((r) => !r.ok);
 * ```
 */
export function runPolicyCases(
  engine: CedarEngine,
  sets: { global: CompiledPolicySet; tenant: CompiledPolicySet },
  cases: readonly PolicyCase[],
): PolicyCaseResult[] {
  const levels = [
    { version: 0, set: sets.global, problem: null },
    { version: 0, set: sets.tenant, problem: null },
  ] as const;
  return cases.map((c) => {
    const base = { name: c.name, expected: c.expect };
    const context = v.safeParse(ACTION_CONTEXT_SCHEMAS[c.action], c.context);
    if (!context.success) {
      const field = v.getDotPath(context.issues[0]) ?? "";
      const error = `context.${field}: ${context.issues[0].message}`;
      return { ...base, ok: false, decision: "deny", reasons: [], error };
    }
    const request = { ...c.principal, action: c.action, context: context.output };
    const outcome = evaluateLevels(engine, levels, request);
    if (outcome.kind === "invalid") {
      return { ...base, ok: false, decision: "deny", reasons: [], error: outcome.problem };
    }
    const reasonsOk =
      c.reasons === undefined || [...c.reasons].sort().join("\n") === outcome.reasons.join("\n");
    const ok = outcome.decision === c.expect && reasonsOk;
    return { ...base, ok, decision: outcome.decision, reasons: outcome.reasons, error: null };
  });
}
