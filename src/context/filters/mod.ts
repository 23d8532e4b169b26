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
import type { FieldGrammar, FilterTarget } from "./ast.ts";
import { canonicalJson, canonicalValue } from "./canonical.ts";
import { compileFilter, type FilterPredicate } from "./compile.ts";
import type { FilterLimits } from "./limits.ts";
import { filterValue, parseFilter } from "./parse.ts";

export type {
  Condition,
  FieldGrammar,
  FieldRef,
  Filter,
  FilterOp,
  FilterTarget,
  Scalar,
} from "./ast.ts";
export { FILTER_OPS } from "./ast.ts";
export { canonicalJson, canonicalValue } from "./canonical.ts";
export type { FilterPredicate } from "./compile.ts";
export { compileFilter, MISSING, valueAtPath } from "./compile.ts";
export type { FilterLimits } from "./limits.ts";
export { FILTER_LIMITS_CEILING, FILTER_LIMITS_DEFAULT } from "./limits.ts";
export type { ParsedFilter } from "./parse.ts";
export { documentField, parseFilter } from "./parse.ts";
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

/**
 * {@link prepareFilter} over another field grammar than documents' (the orchestrator's `when`
 * names `input.…`, `steps.ID.output.…`, `run.…`): the predicate takes the object those paths
 * start from.
 *
 * @example
 * ```ts
 * const when = prepareFilterOver(filter, FILTER_LIMITS_DEFAULT, (f) => ({ kind: "path", path: f.split(".") }));
 * when.predicate({ input: { n: 1 } });
 * ```
 */
export function prepareFilterOver(
  input: unknown,
  limits: FilterLimits,
  fields: FieldGrammar,
): { canonical: string; predicate: (target: unknown) => boolean } {
  const value = canonicalValue(filterValue(input, limits));
  const predicate = compileFilter(parseFilter(value, limits, fields));
  // Path references (the only kind a non-document grammar makes) read any object.
  return {
    canonical: canonicalJson(value),
    predicate: (target) => predicate(target as FilterTarget),
  };
}
