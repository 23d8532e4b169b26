/**
 * Reading request input at the edge: JSON bodies and query strings through valibot schemas.
 * A body that is not JSON is `bad_request`; one that does not fit the schema is
 * `validation_failed` with `details.field` and `details.path` (the same dot path) and
 * `details.issues`, each in plain language (issue-message.ts).
 */
import * as v from "valibot";
import { VltairError } from "../core/mod.ts";
import type { AppContext } from "./env.ts";
import { jsonTypeOf, plainIssueMessage } from "./issue-message.ts";

/** Issues listed in `details.issues`; the rest are counted, not listed. */
const ISSUES_LISTED_MAX = 20;

/** Parses and validates the JSON body of a request. */
export async function readJsonBody<S extends v.GenericSchema>(
  c: AppContext,
  schema: S,
): Promise<v.InferOutput<S>> {
  const text = await c.req.text();
  if (text.trim() === "") throw new VltairError("bad_request", "request body must be JSON");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new VltairError(
      "bad_request",
      `request body is not valid JSON: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  // Every body is a JSON object: say so, rather than what the first key check would say of an array.
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new VltairError(
      "validation_failed",
      `body: must be a JSON object, got ${jsonTypeOf(json)}`,
      {
        details: { in: "body", field: "", path: "", issues: [], issue_count: 1 },
      },
    );
  }
  return check(schema, json, "body");
}

/** Validates the query string (single values) of a request. */
export function readQuery<S extends v.GenericSchema>(c: AppContext, schema: S): v.InferOutput<S> {
  return check(schema, c.req.query(), "query");
}

function check<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  where: string,
): v.InferOutput<S> {
  const parsed = v.safeParse(schema, input);
  if (parsed.success) return parsed.output;
  const issues = parsed.issues.slice(0, ISSUES_LISTED_MAX).map((issue) => ({
    field: v.getDotPath(issue) ?? "",
    message: plainIssueMessage(issue),
  }));
  const first = issues[0] ?? { field: "", message: "is invalid" };
  const label = first.field === "" ? where : first.field;
  const details: Record<string, unknown> = {
    in: where,
    field: first.field,
    path: first.field,
    issues,
    issue_count: parsed.issues.length,
  };
  // A batch item's problem names the item (API.md: `details.index`).
  const item = /^items\.(\d+)(\.|$)/.exec(first.field);
  if (item !== null) details.index = Number(item[1]);
  throw new VltairError("validation_failed", `${label}: ${first.message}`, { details });
}
