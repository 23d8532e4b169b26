/**
 * References in step inputs (API.md, "Orchestrator"): `${input.…}`, `${steps.ID.output.…}` and
 * `${run.id|workflow|created_at}`, nothing else (no code). A string that is exactly one
 * reference keeps the referenced JSON value and its type; inside a longer string, strings are
 * inserted as they are and other values as JSON. `$${` writes a literal `${`.
 */
import { MISSING, valueAtPath } from "../context/mod.ts";
import { StepFailure } from "./step-error.ts";

/**
 * Where a reference starts: the run's input, a step's output, a field of the run — and, inside
 * a `map` step's template only, the list item and its index.
 */
export type ReferenceRoot = "input" | "steps" | "run" | "item" | "index";

/** Roots every step's input may reference. */
export const STEP_ROOTS: readonly ReferenceRoot[] = ["input", "steps", "run"];
/** Roots a `map` step's template may reference besides. */
export const MAP_ROOTS: readonly ReferenceRoot[] = [...STEP_ROOTS, "item", "index"];

/** A parsed reference: `steps.a.output.n` is root `steps`, path `["a", "output", "n"]`. */
export interface Reference {
  root: ReferenceRoot;
  path: string[];
  /** The text between `${` and `}`. */
  text: string;
}

/** One piece of a template. */
export type TemplatePart = { literal: string } | { ref: Reference };

/** Fields `${run.…}` may name. */
export const RUN_FIELDS = ["id", "workflow", "created_at"] as const;

/** Segments of one reference path (bounds parsing and resolution). */
export const REFERENCE_SEGMENTS_MAX = 32;

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Parses a dotted reference (`steps.a.output.n`), or says why it is not one. Also the grammar of
 * `when` fields, which name the same paths.
 */
export function parseReference(
  text: string,
  roots: readonly ReferenceRoot[] = STEP_ROOTS,
): Reference | string {
  const path = text.split(".");
  const root = path.shift() as ReferenceRoot;
  if (!roots.includes(root)) {
    const inMap = roots.includes("item") ? ", item or index" : "";
    return `\`${text}\` must start with input, steps.ID.output or run${inMap}`;
  }
  if (root === "index" && path.length > 0) return `\`${text}\`: index has no fields`;
  if (path.length > REFERENCE_SEGMENTS_MAX) {
    return `\`${text}\` has more than ${REFERENCE_SEGMENTS_MAX} segments`;
  }
  if (path.some((segment) => !SEGMENT.test(segment))) {
    return `\`${text}\` has an empty segment or one with other characters than letters, digits, _ and -`;
  }
  if (root === "steps" && path[1] !== "output") {
    return `\`${text}\` must be steps.ID.output or a path below it`;
  }
  if (
    root === "run" &&
    (path.length !== 1 || !(RUN_FIELDS as readonly string[]).includes(path[0] as string))
  ) {
    return `\`${text}\` must be one of ${RUN_FIELDS.map((f) => `run.${f}`).join(", ")}`;
  }
  return { root, path, text };
}

/** Splits a string into literals and references, or says what is wrong with it. */
export function parseTemplate(
  text: string,
  roots: readonly ReferenceRoot[] = STEP_ROOTS,
): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      literal += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    const end = text.indexOf("}", i + 2);
    if (end === -1) return `an unclosed \`\${\` at character ${i}`;
    const ref = parseReference(text.slice(i + 2, end), roots);
    if (typeof ref === "string") return ref;
    if (literal !== "") parts.push({ literal });
    literal = "";
    parts.push({ ref });
    i = end + 1;
  }
  if (literal !== "" || parts.length === 0) parts.push({ literal });
  return parts;
}

/** Every string below `value` with its dot path from `path` (`with.items.0.text`). */
export function* stringsIn(
  value: unknown,
  path: string,
): Generator<{ text: string; path: string }> {
  if (typeof value === "string") yield { text: value, path };
  else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* stringsIn(value[i], `${path}.${i}`);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) yield* stringsIn(item, `${path}.${key}`);
  }
}

/**
 * What references resolve against: `{input, steps: {ID: {output}}, run: {id, workflow,
 * created_at}}`, plus `item` and `index` inside a `map` template.
 */
export type ReferenceScope = Record<"input" | "steps" | "run", unknown> &
  Partial<Record<"item" | "index", unknown>>;

function lookup(ref: Reference, scope: ReferenceScope): unknown {
  const value = valueAtPath(scope[ref.root], ref.path);
  if (value === MISSING) {
    throw new StepFailure("reference_unresolved", `\${${ref.text}} names nothing`, {
      retryable: false,
      details: { reference: ref.text },
    });
  }
  return value;
}

function resolveString(text: string, scope: ReferenceScope): unknown {
  const parts = parseTemplate(text, "item" in scope ? MAP_ROOTS : STEP_ROOTS);
  // Validation refused every bad template before the run was created.
  if (typeof parts === "string") return text;
  const [first] = parts;
  if (parts.length === 1 && first !== undefined && "ref" in first) return lookup(first.ref, scope);
  let out = "";
  for (const part of parts) {
    if ("literal" in part) out += part.literal;
    else {
      const value = lookup(part.ref, scope);
      out += typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return out;
}

/**
 * `value` with every reference resolved (deep); throws `reference_unresolved` (not retryable)
 * when a path names nothing.
 *
 * @example
 * ```ts
 * resolveReferences({ n: "${input.n}", s: "n=${input.n}" }, { input: { n: 2 }, steps: {}, run: {} });
 * // { n: 2, s: "n=2" }
 * ```
 */
export function resolveReferences(value: unknown, scope: ReferenceScope): unknown {
  if (typeof value === "string") return value.includes("${") ? resolveString(value, scope) : value;
  if (Array.isArray(value)) return value.map((item) => resolveReferences(item, scope));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a JSON key `__proto__` stays a key instead of replacing the prototype.
      Object.defineProperty(out, key, {
        value: resolveReferences(item, scope),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
