/**
 * evaluateLevels asks Cedar once less for a level holding the shipped default; the outcome must
 * be exactly what evaluating every level would give (decision, reasons, and a request that does
 * not fit the schema still refused).
 */
import { describe, expect, test } from "bun:test";
import {
  type CedarEngine,
  type CedarRequest,
  DEFAULT_POLICY,
  loadCedarEngine,
} from "../../../src/policy/mod.ts";
import { evaluateLevels, type LevelsOutcome } from "../../../src/policy/policy-decision.ts";
import type { LevelView } from "../../../src/policy/policy-levels.ts";

const engine = await loadCedarEngine();

function level(text: string, version = 1): LevelView {
  const set = engine.compile(text);
  if ("problems" in set) throw new Error(JSON.stringify(set.problems));
  return { version, set, problem: null };
}

/** The reference: every level asked, in order; deny or failure at the first that refuses. */
function everyLevel(levels: readonly [LevelView, LevelView], request: CedarRequest): LevelsOutcome {
  const allowed: string[] = [];
  for (const view of levels) {
    const answer = engine.authorize(view.set as NonNullable<LevelView["set"]>, request);
    if (answer.failure !== null) return { kind: "invalid", problem: answer.failure };
    if (answer.decision === "deny" || answer.errored.length > 0) {
      return {
        kind: "decided",
        decision: "deny",
        reasons: [...answer.reasons, ...answer.errored].sort(),
      };
    }
    allowed.push(...answer.reasons);
  }
  return { kind: "decided", decision: "allow", reasons: [...new Set(allowed)].sort() };
}

const READ = { scope_kind: "global", scope_id: "", id: "notes" };
const FORBID_NOTES = `${DEFAULT_POLICY}@id("no-notes") forbid(principal, action, resource) when { context has id && context.id == "notes" };`;
const PERMIT_READS = `@id("reads") permit(principal, action == vltair::Action::"context.read", resource);`;

const SETS: Record<string, string> = {
  default: DEFAULT_POLICY,
  forbid_notes: FORBID_NOTES,
  permit_reads: PERMIT_READS,
  empty: "",
};
const REQUESTS: Record<string, CedarRequest> = {
  read: { subject: "a", tenant: "acme", action: "context.read", context: READ },
  read_other: {
    subject: "a",
    tenant: "acme",
    action: "context.read",
    context: { ...READ, id: "other" },
  },
  write: { subject: "a", tenant: "acme", action: "context.write", context: READ },
  misfit: { subject: "a", tenant: "acme", action: "context.read", context: { id: 1 } },
};

describe("evaluateLevels", () => {
  test("skipping shipped-default levels gives what asking every level gives", () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [g, globalText] of Object.entries(SETS)) {
      for (const [t, tenantText] of Object.entries(SETS)) {
        const levels = [level(globalText), level(tenantText)] as const;
        for (const [r, request] of Object.entries(REQUESTS)) {
          const key = `${g}/${t}/${r}`;
          const outcome = evaluateLevels(engine as CedarEngine, levels, request);
          const reference = everyLevel(levels, request);
          got.push(`${key} ${JSON.stringify(outcome.kind === "invalid" ? "invalid" : outcome)}`);
          want.push(
            `${key} ${JSON.stringify(reference.kind === "invalid" ? "invalid" : reference)}`,
          );
        }
      }
    }
    expect(got).toEqual(want);
    // The table holds each kind of outcome, so the comparison means something.
    expect(got.some((l) => l.includes('"deny"'))).toBe(true);
    expect(got.some((l) => l.endsWith(' "invalid"'))).toBe(true);
    expect(got).toContain(
      'default/default/read {"kind":"decided","decision":"allow","reasons":["default"]}',
    );
  });
});
