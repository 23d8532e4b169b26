/**
 * Compiling a Cedar policy set: parse it, name each policy, validate it against the schema.
 *
 * A policy's id is its `@id("…")` annotation, else the name Cedar gives a policy of a text set:
 * `policyN`, N its position in the text. Cedar's `policySetTextToParts` returns the policies
 * sorted by those names (`policy0, policy1, policy10, policy11, policy2, …`), so the positional
 * names are rebuilt in that order and zipped with the parts (pinned by a test against Cedar's
 * own naming). Ids are reasons in responses, logs and (next) audit records, so they are held to
 * a short, safe alphabet and must be unique.
 */
import { createHash } from "node:crypto";
import {
  type DetailedError,
  type PolicySet,
  policySetTextToParts,
  policyToJson,
  validate,
} from "@cedar-policy/cedar-wasm/web";

/** Longest policy set, in UTF-8 bytes. */
export const POLICY_TEXT_BYTES_MAX = 1_048_576;
/** Most policies in one set. */
export const POLICIES_MAX = 10_000;
/** What a policy id may be: 1-64 characters of letters, digits and `_ . : -`. */
export const POLICY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** Reasons vltair itself gives; no policy may take these ids. */
export const RESERVED_REASONS = ["policy_invalid", "policy_fail_open"] as const;

/** A parsed, named and validated policy set. */
export interface CompiledPolicySet {
  /** The text as stored. */
  readonly text: string;
  /** Hex SHA-256 of the text. */
  readonly sha256: string;
  /** Policy ids, in text order. */
  readonly ids: readonly string[];
  /** Each policy's text by id: what Cedar evaluates. */
  readonly policies: Readonly<Record<string, string>>;
  /** The same as a Cedar `PolicySet`. */
  readonly cedarPolicies: PolicySet;
}

/** One reason a set was refused: the validator's message, where Cedar located it. */
export interface PolicyProblem {
  message: string;
  /** The policy it concerns, when known. */
  policy_id?: string;
  /** 1-based line and column in the set's text, for parse errors. */
  line?: number;
  column?: number;
}

/** Positional names `policy0 … policy{count-1}` in Cedar's (lexicographic) order. */
export function positionalIds(count: number): string[] {
  const ids = Array.from({ length: count }, (_, n) => `policy${n}`);
  return ids.sort();
}

/**
 * Compiles `text` against `schema` (Cedar schema text): the set, or every problem found.
 *
 * @example
 * ```ts
 * const out = compilePolicySet('@id("default") permit(principal, action, resource);', CEDAR_SCHEMA);
 * if ("problems" in out) console.log(out.problems);
 * ```
 */
export function compilePolicySet(
  text: string,
  schema: string,
): CompiledPolicySet | { problems: PolicyProblem[] } {
  const sizeBytes = new TextEncoder().encode(text).length;
  if (sizeBytes > POLICY_TEXT_BYTES_MAX) {
    return {
      problems: [{ message: `the set is ${sizeBytes} bytes; at most ${POLICY_TEXT_BYTES_MAX}` }],
    };
  }
  const parts = policySetTextToParts(text);
  if (parts.type === "failure") return { problems: parts.errors.map((e) => located(e, text)) };
  if (parts.policy_templates.length > 0) {
    return {
      problems: [
        { message: "templates (policies with ?principal or ?resource slots) are not supported" },
      ],
    };
  }
  if (parts.policies.length > POLICIES_MAX) {
    return {
      problems: [
        { message: `the set has ${parts.policies.length} policies; at most ${POLICIES_MAX}` },
      ],
    };
  }
  const named = nameParts(parts.policies);
  if ("problems" in named) return named;
  const cedarPolicies: PolicySet = { staticPolicies: named.policies };
  const checked = validate({
    schema,
    policies: cedarPolicies,
    validationSettings: { mode: "strict" },
  });
  if (checked.type === "failure") return { problems: checked.errors.map((e) => located(e, text)) };
  if (checked.validationErrors.length > 0) {
    return {
      problems: checked.validationErrors.map((e) => ({
        message: e.error.message,
        policy_id: e.policyId,
      })),
    };
  }
  return {
    text,
    sha256: createHash("sha256").update(text, "utf8").digest("hex"),
    ids: named.ids,
    policies: named.policies,
    cedarPolicies,
  };
}

/** Each part's id (its `@id`, else its positional name), in text order; problems on bad ids. */
function nameParts(
  parts: readonly string[],
): { ids: string[]; policies: Record<string, string> } | { problems: PolicyProblem[] } {
  const positional = positionalIds(parts.length);
  const named: { id: string; position: number; text: string }[] = [];
  const problems: PolicyProblem[] = [];
  parts.forEach((part, n) => {
    const name = positional[n] as string;
    const json = policyToJson(part);
    const annotated = json.type === "success" ? json.json.annotations?.id : undefined;
    const id = annotated ?? name;
    if (!POLICY_ID_PATTERN.test(id) || (RESERVED_REASONS as readonly string[]).includes(id)) {
      problems.push({
        message: `@id must match ${POLICY_ID_PATTERN.source} and not be ${RESERVED_REASONS.join(" or ")}`,
        policy_id: id.slice(0, 64),
      });
    }
    named.push({ id, position: Number(name.slice("policy".length)), text: part });
  });
  named.sort((a, b) => a.position - b.position);
  const policies: Record<string, string> = {};
  for (const { id, text } of named) {
    if (Object.hasOwn(policies, id))
      problems.push({ message: "duplicate policy id", policy_id: id });
    policies[id] = text;
  }
  if (problems.length > 0) return { problems };
  return { ids: named.map((p) => p.id), policies };
}

/** A Cedar error with its first source location as a line and column of `text`. */
function located(error: DetailedError, text: string): PolicyProblem {
  const problem: PolicyProblem = { message: error.message };
  const offset = error.sourceLocations?.[0]?.start;
  if (offset === undefined) return problem;
  const before = new TextDecoder().decode(new TextEncoder().encode(text).slice(0, offset));
  const lines = before.split("\n");
  problem.line = lines.length;
  problem.column = (lines.at(-1)?.length ?? 0) + 1;
  return problem;
}
