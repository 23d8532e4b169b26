/**
 * The valibot schema of the filter grammar: the shape published in OpenAPI and used where a
 * filter is part of a larger body. It is the structural superset; `parseFilter` is the
 * validator (op/value pairing, limits, and a precise `details.path`, which a recursive valibot
 * union cannot give for the offending node of an and/or/not tree). A property test checks that
 * every filter `parseFilter` accepts, this schema accepts too.
 */
import * as v from "valibot";
import { FILTER_OPS, type Filter } from "./ast.ts";

const ScalarSchema = v.union([v.string(), v.pipe(v.number(), v.finite()), v.boolean(), v.null()]);

const FieldSchema = v.union([
  v.picklist(["id", "version", "scope.kind", "scope.id"]),
  v.pipe(v.string(), v.regex(/^metadata(\.[^.]+){1,16}$/)),
]);

const ConditionSchema = v.strictObject({
  field: FieldSchema,
  op: v.picklist(FILTER_OPS),
  value: v.union([ScalarSchema, v.pipe(v.array(ScalarSchema), v.minLength(1))]),
});

/** A filter: and / or / not of filters, or a condition. */
export const FilterSchema: v.GenericSchema<Filter> = v.union([
  v.strictObject({ and: v.pipe(v.array(v.lazy(() => FilterSchema)), v.minLength(1)) }),
  v.strictObject({ or: v.pipe(v.array(v.lazy(() => FilterSchema)), v.minLength(1)) }),
  v.strictObject({ not: v.lazy(() => FilterSchema) }),
  ConditionSchema,
]) as v.GenericSchema<Filter>;

/** A filter as an object or as its JSON text (both canonicalize to the same value). */
export const FilterInputSchema = v.union([v.string(), FilterSchema]);
