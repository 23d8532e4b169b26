/**
 * Valibot issues in plain language: `unknown field \`topk\``, `is required`, `must be a number,
 * got string`, `must be one of dense, sparse`, `must be at least 1, got 0`, `must have at most 3
 * characters, got 6`. Messages a schema wrote itself (`must be a JSON object`) are kept.
 */
import type * as v from "valibot";

type Issue = v.BaseIssue<unknown>;

/** Issue types whose message is generated here even when the schema wrote its own. */
const DESCRIBED: ReadonlySet<string> = new Set([
  "strict_object",
  "object",
  "loose_object",
  "min_value",
  "max_value",
  "integer",
  "safe_integer",
  "min_length",
  "max_length",
  "picklist",
  "literal",
  "number",
  "string",
  "boolean",
  "array",
]);

/** `string`, `number`, `array`, `null`, `object`, … for a JSON value. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

const WITH_ARTICLE: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  Object: "a JSON object",
  object: "a JSON object",
  Array: "an array",
  array: "an array",
  null: "null",
};

/** `("a" | "b")` → `a, b`; a single `"x"` → `x`. */
function alternatives(expected: string): string[] {
  return expected
    .replace(/^\((.*)\)$/s, "$1")
    .split(" | ")
    .map((part) => part.replace(/^"(.*)"$/s, "$1"));
}

function expectedPhrase(issue: Issue): string {
  const expected = issue.expected ?? "";
  if (issue.type === "picklist" || issue.type === "literal" || issue.type === "enum") {
    const options = alternatives(expected);
    return options.length === 1 ? `must be ${options[0]}` : `must be one of ${options.join(", ")}`;
  }
  const kinds = alternatives(expected).map((kind) => WITH_ARTICLE[kind] ?? kind);
  return `must be ${kinds.join(" or ")}`;
}

function lastKey(issue: Issue): string {
  const key = issue.path?.at(-1)?.key;
  return typeof key === "string" || typeof key === "number" ? String(key) : "";
}

function sized(input: unknown): string {
  return typeof input === "string" ? "characters" : "items";
}

function sizeOf(input: unknown): number | null {
  if (typeof input === "string" || Array.isArray(input)) return input.length;
  return null;
}

/** The plain-language message of one issue (without its field path). */
export function plainIssueMessage(issue: Issue): string {
  const message = issue.message;
  // Issues of these kinds are described from their data (the value seen, the bound), which
  // says more than a schema's own short message; others (patterns, checks) keep the schema's.
  if (!message.startsWith("Invalid ") && !DESCRIBED.has(issue.type)) return message;
  const got = JSON.stringify(issue.input) ?? String(issue.input);
  switch (issue.type) {
    case "strict_object":
    case "object":
    case "loose_object":
      if (issue.expected === "never") return `unknown field \`${lastKey(issue)}\``;
      if (issue.input === undefined && issue.received === "undefined") return "is required";
      break;
    case "min_value":
      return `must be at least ${String(issue.requirement)}, got ${got}`;
    case "max_value":
      return `must be at most ${String(issue.requirement)}, got ${got}`;
    case "integer":
      return `must be an integer, got ${got}`;
    case "safe_integer":
      return `must be a safe integer, got ${got}`;
    case "min_length": {
      const size = sizeOf(issue.input);
      return `must have at least ${String(issue.requirement)} ${sized(issue.input)}${size === null ? "" : `, got ${size}`}`;
    }
    case "max_length": {
      const size = sizeOf(issue.input);
      return `must have at most ${String(issue.requirement)} ${sized(issue.input)}${size === null ? "" : `, got ${size}`}`;
    }
    default:
      break;
  }
  if (issue.kind === "schema") {
    if (issue.input === undefined) return "is required";
    const choice = issue.type === "picklist" || issue.type === "literal" || issue.type === "enum";
    return `${expectedPhrase(issue)}, got ${choice ? got : jsonTypeOf(issue.input)}`;
  }
  return message;
}
