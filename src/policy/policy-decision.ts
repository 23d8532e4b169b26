/**
 * One decision from the two levels (API.md): a request is allowed when both the global set and
 * the tenant's set allow it. Inside a set Cedar decides (deny by default, `forbid` overrides
 * `permit`); vltair adds one rule on top, fail closed: a policy whose evaluation errors makes
 * its set deny (Cedar would skip it, so an erroring `forbid` would let the request through).
 */
import type { CedarAnswer, CedarEngine, CedarRequest } from "./cedar-engine.ts";
import { DEFAULT_POLICY, type PolicyAction } from "./cedar-schema.ts";
import type { LevelView } from "./policy-levels.ts";

/** A decision, as checks return it and (next) audit records carry it. */
export interface PolicyDecision {
  decision: "allow" | "deny";
  /** Policy ids; `policy_invalid` or `policy_fail_open` when no set could decide. */
  reasons: string[];
  /** The newest stored version among the two sets that decided (0: both shipped defaults). */
  policy_version: number;
  action: PolicyAction;
  tenant: string;
}

/** What evaluating both levels gave: a decision, or why none could be made. */
export type LevelsOutcome =
  | { kind: "decided"; decision: "allow" | "deny"; reasons: string[] }
  | { kind: "invalid"; problem: string };

/**
 * Evaluates `request` against the global set, then (when it allows) the tenant's set.
 *
 * @example
 * ```ts
 * const outcome = evaluateLevels(engine, [globalView, tenantView], request);
 * ```
 */
export function evaluateLevels(
  engine: CedarEngine,
  levels: readonly [LevelView, LevelView],
  request: CedarRequest,
): LevelsOutcome {
  const allowed: string[] = [];
  // The shipped default permits every valid request with reason `default`; Cedar is asked
  // once (it validates the request against the schema) and not again for a default level.
  const defaults = levels.filter(isShippedDefault).length;
  let skippable = defaults === levels.length ? defaults - 1 : defaults;
  for (const level of levels) {
    if (level.set === null) return { kind: "invalid", problem: level.problem ?? "no policy set" };
    if (skippable > 0 && isShippedDefault(level)) {
      skippable--;
      allowed.push(...DEFAULT_REASONS);
      continue;
    }
    const answer = engine.authorize(level.set, request);
    if (answer.failure !== null) return { kind: "invalid", problem: answer.failure };
    if (refuses(answer)) {
      const reasons = [...new Set([...answer.reasons, ...answer.errored])].sort();
      return { kind: "decided", decision: "deny", reasons };
    }
    allowed.push(...answer.reasons);
  }
  return { kind: "decided", decision: "allow", reasons: [...new Set(allowed)].sort() };
}

const DEFAULT_REASONS = ["default"] as const;

/** A level holding exactly the shipped default text (stored or not). */
export function isShippedDefault(level: LevelView): boolean {
  return level.set !== null && level.set.text === DEFAULT_POLICY;
}

function refuses(answer: CedarAnswer): boolean {
  return answer.decision === "deny" || answer.errored.length > 0;
}

/** The version a decision over these two levels reports. */
export function versionOf(levels: readonly [LevelView, LevelView]): number {
  return Math.max(levels[0].version, levels[1].version);
}
