/**
 * Compiles a parsed filter once per query into a predicate over documents (CE-14).
 * Semantics (API.md): no type coercion (`"5"` is not `5`); a condition on a missing field is
 * false, except `ne`, `nin` and `exists:false`, which are true; `contains` is membership on
 * arrays and substring on strings.
 */
import type { FieldRef, FilterTarget, Scalar } from "./ast.ts";
import type { ParsedFilter } from "./parse.ts";

/** A compiled filter. */
export type FilterPredicate = (doc: FilterTarget) => boolean;

/** What {@link valueAtPath} returns for a path that names nothing. */
export const MISSING: unique symbol = Symbol("missing");
type Resolved = unknown | typeof MISSING;

function resolver(field: FieldRef): (doc: FilterTarget) => Resolved {
  switch (field.kind) {
    case "id":
      return (doc) => doc.id;
    case "version":
      return (doc) => doc.version;
    case "scope.kind":
      return (doc) => doc.scope.kind;
    case "scope.id":
      return (doc) => doc.scope.id ?? MISSING;
    case "metadata": {
      const path = field.path;
      return (doc) => valueAtPath(doc.metadata, path);
    }
    case "path": {
      // A path grammar's target is any JSON object, not a document (see FieldGrammar).
      const path = field.path;
      return (doc) => valueAtPath(doc as unknown, path);
    }
  }
}

/**
 * The value at `path` below `root`, or {@link MISSING} (array indexes are numeric segments; an
 * inherited property is never a match).
 */
export function valueAtPath(root: unknown, path: readonly string[]): Resolved {
  let current: unknown = root;
  for (const segment of path) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (current !== null && typeof current === "object" && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else return MISSING;
    if (current === undefined) return MISSING;
  }
  return current;
}

/** Strict equality of JSON scalars: same type and value. */
function same(a: unknown, b: Scalar): boolean {
  return a === b;
}

function ordered(a: unknown, b: unknown): number | null {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

function conditionPredicate(field: FieldRef, op: string, value: unknown): FilterPredicate {
  const get = resolver(field);
  switch (op) {
    case "eq":
      return (doc) => same(get(doc), value as Scalar);
    case "ne":
      return (doc) => {
        const v = get(doc);
        return v === MISSING || !same(v, value as Scalar);
      };
    case "lt":
    case "lte":
    case "gt":
    case "gte": {
      const test =
        op === "lt"
          ? (c: number) => c < 0
          : op === "lte"
            ? (c: number) => c <= 0
            : op === "gt"
              ? (c: number) => c > 0
              : (c: number) => c >= 0;
      return (doc) => {
        const c = ordered(get(doc), value);
        return c !== null && test(c);
      };
    }
    case "in": {
      const set = new Set(value as Scalar[]);
      return (doc) => {
        const v = get(doc);
        return v !== MISSING && set.has(v as Scalar);
      };
    }
    case "nin": {
      const set = new Set(value as Scalar[]);
      return (doc) => {
        const v = get(doc);
        return v === MISSING || !set.has(v as Scalar);
      };
    }
    case "exists":
      return value === true ? (doc) => get(doc) !== MISSING : (doc) => get(doc) === MISSING;
    case "prefix":
      return (doc) => {
        const v = get(doc);
        return typeof v === "string" && v.startsWith(value as string);
      };
    case "contains":
      return (doc) => {
        const v = get(doc);
        if (Array.isArray(v)) return v.some((item) => same(item, value as Scalar));
        return typeof v === "string" && typeof value === "string" && v.includes(value);
      };
    default:
      throw new Error(`unknown op ${op}`);
  }
}

/**
 * Compiles a parsed filter.
 *
 * @example
 * ```ts
 * const keep = compileFilter(parseFilter(filter, FILTER_LIMITS_DEFAULT));
 * docs.filter(keep);
 * ```
 */
export function compileFilter(filter: ParsedFilter): FilterPredicate {
  switch (filter.kind) {
    case "and": {
      const parts = filter.children.map(compileFilter);
      return (doc) => parts.every((p) => p(doc));
    }
    case "or": {
      const parts = filter.children.map(compileFilter);
      return (doc) => parts.some((p) => p(doc));
    }
    case "not": {
      const inner = compileFilter(filter.child);
      return (doc) => !inner(doc);
    }
    case "cond":
      return conditionPredicate(filter.field, filter.op, filter.value);
  }
}
