/**
 * Metadata filters (API.md, "Filters grammar"): parse once with limits, canonicalize,
 * compile to a predicate.
 *
 * @example
 * ```ts
 * import { prepareFilter, FILTER_LIMITS_DEFAULT } from "./filters/mod.ts";
 * const { canonical, predicate } = prepareFilter('{"field":"id","op":"prefix","value":"src/"}', FILTER_LIMITS_DEFAULT);
 * ```
 */
import type { FilterTarget } from "./ast.ts";
import { canonicalJson, canonicalValue } from "./canonical.ts";
import { compileFilter, type FilterPredicate } from "./compile.ts";
import type { FilterLimits } from "./limits.ts";
import { filterValue, parseFilter } from "./parse.ts";

export type { Condition, FieldRef, Filter, FilterOp, FilterTarget, Scalar } from "./ast.ts";
export { FILTER_OPS } from "./ast.ts";
export { canonicalJson, canonicalValue } from "./canonical.ts";
export type { FilterPredicate } from "./compile.ts";
export { compileFilter } from "./compile.ts";
export type { FilterLimits } from "./limits.ts";
export { FILTER_LIMITS_CEILING, FILTER_LIMITS_DEFAULT } from "./limits.ts";
export type { ParsedFilter } from "./parse.ts";
export { parseFilter } from "./parse.ts";
export { FilterInputSchema, FilterSchema } from "./schema.ts";

/** A filter ready for a query: its canonical JSON and its compiled predicate. */
export interface PreparedFilter {
  canonical: string;
  predicate: (doc: FilterTarget) => boolean;
}

/** Validates, canonicalizes and compiles a filter given as a JSON string or an object. */
export function prepareFilter(input: unknown, limits: FilterLimits): PreparedFilter {
  const value = canonicalValue(filterValue(input, limits));
  const predicate: FilterPredicate = compileFilter(parseFilter(value, limits));
  return { canonical: canonicalJson(value), predicate };
}
