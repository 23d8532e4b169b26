/**
 * A step's input checked by its kind's schema once its references are resolved: the output, or
 * the refusal naming the field (`with.k`, `on_cancel.with.k`, `with.step.with.k` …). By default
 * a `validation_failed` (not retried); a map item's is `map_item_invalid`.
 */
import * as v from "valibot";
import { VltairError } from "../core/mod.ts";

/** The refusal of a field, given its dot path and the schema's message. */
export type InputRefusal = (field: string, message: string) => Error;

const validationFailed: InputRefusal = (field, message) =>
  new VltairError("validation_failed", `${field}: ${message}`, { details: { field } });

/**
 * Parses `input` with `schema`; throws `refuse(field, message)` for its first issue, the field
 * being `prefix` plus the issue's dot path.
 */
export function parseStepInput<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  prefix: string,
  refuse: InputRefusal = validationFailed,
): v.InferOutput<S> {
  const parsed = v.safeParse(schema, input);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0] as v.BaseIssue<unknown>;
  const path = v.getDotPath(issue);
  throw refuse(path === null ? prefix : `${prefix}.${path}`, issue.message);
}
