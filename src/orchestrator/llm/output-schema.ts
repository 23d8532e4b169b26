/**
 * `output_schema` of `llm` and `agent` steps: a JSON Schema the model's answer (parsed as JSON)
 * must satisfy. Checked with Ajv (the validator the MCP SDK uses too); compiled once per
 * distinct schema, at workflow validation, so a schema Ajv cannot compile is a
 * `workflow_invalid` before the run exists.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { StepFailure } from "../step-error.ts";

const ajv = new Ajv({ allErrors: false, strict: false });
/** Compiled schemas kept (by their JSON text): workflows reuse a handful. */
const COMPILED_MAX = 256;
const compiled = new Map<string, ValidateFunction>();

/** The validator of `schema`; throws Ajv's error for a schema it cannot compile. */
export function compileOutputSchema(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known !== undefined) return known;
  const validate = ajv.compile(schema);
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, validate);
  return validate;
}

/**
 * The model's text parsed as JSON and checked against `schema`, or an `llm_output_invalid`
 * failure (not retried: the same prompt tends to give the same shape).
 */
export function parseModelOutput(text: string | null, schema: object | undefined): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text ?? "");
  } catch {
    throw new StepFailure("llm_output_invalid", "the model's answer is not JSON", {
      retryable: false,
    });
  }
  if (schema === undefined) return value;
  const validate = compileOutputSchema(schema);
  if (!validate(value)) {
    const first = validate.errors?.[0];
    throw new StepFailure(
      "llm_output_invalid",
      `the model's answer does not fit output_schema: ${first?.instancePath || "/"} ${first?.message ?? ""}`.trim(),
      {
        retryable: false,
        details: { path: first?.instancePath ?? "", keyword: first?.keyword ?? "" },
      },
    );
  }
  return value;
}
