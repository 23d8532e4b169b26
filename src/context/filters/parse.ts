/**
 * Parsing and validation of filters: a JSON string or an object, walked once with explicit
 * limits. Every rejection is `filters_invalid` with `details.path` naming the offending node as
 * a JSON path (`$.and[1].op`), so a client can point at it.
 */
import { VltairError } from "../../core/mod.ts";
import {
  type Condition,
  FILTER_OPS,
  type FieldGrammar,
  type FieldRef,
  type FilterOp,
} from "./ast.ts";
import { type FilterLimits, METADATA_PATH_SEGMENTS_MAX } from "./limits.ts";

/** A validated filter with its resolved field references. */
export type ParsedFilter =
  | { kind: "and"; children: ParsedFilter[] }
  | { kind: "or"; children: ParsedFilter[] }
  | { kind: "not"; child: ParsedFilter }
  | { kind: "cond"; field: FieldRef; op: FilterOp; value: unknown };

const OPS = new Set<string>(FILTER_OPS);

function invalid(path: string, message: string, extra: Record<string, unknown> = {}): VltairError {
  return new VltairError("filters_invalid", `${path}: ${message}`, { details: { path, ...extra } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/** Turns a JSON-string filter into a value; objects pass through. */
export function filterValue(input: unknown, limits: FilterLimits): unknown {
  if (typeof input !== "string") return input;
  if (input.length > limits.textCharsMax) {
    throw invalid("$", `a filter string may be at most ${limits.textCharsMax} characters`, {
      limit: limits.textCharsMax,
    });
  }
  try {
    return JSON.parse(input);
  } catch (cause) {
    throw invalid("$", `not valid JSON: ${(cause as Error).message}`);
  }
}

/**
 * Validates a filter (object or JSON string).
 *
 * @example
 * ```ts
 * parseFilter({ field: "metadata.lang", op: "eq", value: "ts" }, FILTER_LIMITS_DEFAULT);
 * ```
 */
export function parseFilter(
  input: unknown,
  limits: FilterLimits,
  fields: FieldGrammar = documentField,
): ParsedFilter {
  const state = { conditions: 0, fields };
  return walk(filterValue(input, limits), "$", 1, limits, state);
}

/** What a walk carries: the conditions counted so far and the field grammar. */
interface WalkState {
  conditions: number;
  fields: FieldGrammar;
}

function walk(
  node: unknown,
  path: string,
  depth: number,
  limits: FilterLimits,
  state: WalkState,
): ParsedFilter {
  if (depth > limits.depthMax) {
    throw invalid(path, `filters may nest at most ${limits.depthMax} levels`, {
      limit: limits.depthMax,
    });
  }
  if (!isObject(node)) throw invalid(path, "must be an object");
  const keys = Object.keys(node);
  if (keys.length === 1 && (keys[0] === "and" || keys[0] === "or")) {
    const kind = keys[0];
    const list = node[kind];
    if (!Array.isArray(list) || list.length === 0) {
      throw invalid(`${path}.${kind}`, "must be a non-empty array of filters");
    }
    const children = list.map((child, i) =>
      walk(child, `${path}.${kind}[${i}]`, depth + 1, limits, state),
    );
    return { kind, children };
  }
  if (keys.length === 1 && keys[0] === "not") {
    return { kind: "not", child: walk(node.not, `${path}.not`, depth + 1, limits, state) };
  }
  return condition(node, path, limits, state);
}

function condition(
  node: Record<string, unknown>,
  path: string,
  limits: FilterLimits,
  state: WalkState,
): ParsedFilter {
  for (const key of Object.keys(node)) {
    if (key !== "field" && key !== "op" && key !== "value") {
      throw invalid(
        `${path}.${key}`,
        "is not part of a condition (field, op, value) or of and/or/not",
      );
    }
  }
  state.conditions += 1;
  if (state.conditions > limits.conditionsMax) {
    throw invalid(path, `a filter may hold at most ${limits.conditionsMax} conditions`, {
      limit: limits.conditionsMax,
    });
  }
  const { field, op, value } = node as Partial<Condition>;
  if (typeof op !== "string" || !OPS.has(op)) {
    throw invalid(`${path}.op`, `must be one of ${FILTER_OPS.join(", ")}`);
  }
  if (typeof field !== "string") throw invalid(`${path}.field`, "must be a string");
  const ref = state.fields(field);
  if (typeof ref === "string") throw invalid(`${path}.field`, ref);
  checkValue(op as FilterOp, value, `${path}.value`, limits);
  return { kind: "cond", field: ref, op: op as FilterOp, value };
}

/** The document fields of API.md's grammar (the default {@link FieldGrammar}). */
export function documentField(field: string): FieldRef | string {
  if (field === "id" || field === "version" || field === "scope.kind" || field === "scope.id") {
    return { kind: field };
  }
  if (field.startsWith("metadata.")) {
    const segments = field.slice("metadata.".length).split(".");
    if (segments.some((s) => s.length === 0)) return "has an empty path segment";
    if (segments.length > METADATA_PATH_SEGMENTS_MAX) {
      return `a metadata path may have at most ${METADATA_PATH_SEGMENTS_MAX} segments`;
    }
    return { kind: "metadata", path: segments };
  }
  return "must be metadata.<path>, id, scope.kind, scope.id or version";
}

function checkValue(op: FilterOp, value: unknown, path: string, limits: FilterLimits): void {
  switch (op) {
    case "eq":
    case "ne":
    case "contains":
      if (!isScalar(value)) throw invalid(path, `${op} needs a string, number, boolean or null`);
      return;
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
        throw invalid(path, `${op} needs a number or a string`);
      }
      return;
    case "in":
    case "nin":
      if (!Array.isArray(value) || value.length === 0)
        throw invalid(path, `${op} needs a non-empty array`);
      if (value.length > limits.inValuesMax) {
        throw invalid(path, `${op} takes at most ${limits.inValuesMax} values`, {
          limit: limits.inValuesMax,
        });
      }
      value.forEach((item, i) => {
        if (!isScalar(item))
          throw invalid(`${path}[${i}]`, "must be a string, number, boolean or null");
      });
      return;
    case "exists":
      if (typeof value !== "boolean") throw invalid(path, "exists needs true or false");
      return;
    case "prefix":
      if (typeof value !== "string") throw invalid(path, "prefix needs a string");
      return;
  }
}
