/** The filter grammar of API.md as types. */

export const FILTER_OPS = [
  "eq",
  "ne",
  "lt",
  "lte",
  "gt",
  "gte",
  "in",
  "nin",
  "exists",
  "prefix",
  "contains",
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** A JSON scalar: what `eq`, `in` and friends compare against. */
export type Scalar = string | number | boolean | null;

/** A field a condition may name: a fixed document field or `metadata.<path>`. */
export type FieldRef =
  | { kind: "id" }
  | { kind: "version" }
  | { kind: "scope.kind" }
  | { kind: "scope.id" }
  | { kind: "metadata"; path: string[] }
  /** A path from the root of any JSON object (a field grammar other than documents', e.g. `when`). */
  | { kind: "path"; path: string[] };

/**
 * Which `field` strings a filter may name and what each refers to; the default is the document
 * fields above. Returns the reference, or the message of why the field is refused.
 */
export type FieldGrammar = (field: string) => FieldRef | string;

export interface Condition {
  field: string;
  op: FilterOp;
  value: unknown;
}

export type Filter = { and: Filter[] } | { or: Filter[] } | { not: Filter } | Condition;

/** The document fields a filter can see. */
export interface FilterTarget {
  id: string;
  version: number;
  scope: { kind: string; id?: string | undefined };
  metadata: Record<string, unknown> | undefined;
}
