/**
 * Scopes (API.md, "Context engine"): `global`, `session:<id>`, `task:<id>`. A document is
 * identified by (tenant, scope, id); routes name a scope as `?scope=global|session:s1|task:t1`.
 */
import * as v from "valibot";
import { hasLoneSurrogate, VltairError } from "../core/mod.ts";

/** The kinds of scope. */
export const SCOPE_KINDS = ["global", "session", "task"] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/** A scope as it appears in bodies and documents. */
export type Scope =
  | { kind: "global" }
  | { kind: "session"; id: string }
  | { kind: "task"; id: string };

/** A scope as a WAL record carries it (validated loosely on read). */
export interface ScopeLike {
  kind: string;
  id?: string | undefined;
}

/** Characters of a session or task id. */
export const SCOPE_ID_CHARS_MAX = 256;
/** Characters of a document id. */
export const DOC_ID_CHARS_MAX = 256;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** True for an id of 1..max characters without control characters or lone surrogates. */
export function isValidId(value: string, charsMax: number): boolean {
  return (
    value.length >= 1 &&
    value.length <= charsMax &&
    !CONTROL.test(value) &&
    !hasLoneSurrogate(value)
  );
}

/** A document id: 1-256 characters, no control characters. */
export const DocIdSchema = v.pipe(
  v.string("must be a string"),
  v.check(
    (s) => isValidId(s, DOC_ID_CHARS_MAX),
    `must be 1-${DOC_ID_CHARS_MAX} characters without control characters`,
  ),
);

const ScopeIdSchema = v.pipe(
  v.string("must be a string"),
  v.check(
    (s) => isValidId(s, SCOPE_ID_CHARS_MAX),
    `must be 1-${SCOPE_ID_CHARS_MAX} characters without control characters`,
  ),
);

/** A scope object: global has no id; session and task need one. */
export const ScopeSchema = v.variant(
  "kind",
  [
    v.strictObject({ kind: v.literal("global") }),
    v.strictObject({ kind: v.literal("session"), id: ScopeIdSchema }),
    v.strictObject({ kind: v.literal("task"), id: ScopeIdSchema }),
  ],
  'must be {"kind":"global"}, {"kind":"session","id":…} or {"kind":"task","id":…}',
);

/** The canonical string of a scope: `global`, `session:<id>`, `task:<id>`. */
export function scopeKey(scope: ScopeLike): string {
  return scope.kind === "global" ? "global" : `${scope.kind}:${scope.id ?? ""}`;
}

/** Parses `global`, `session:<id>` or `task:<id>` (a route's `?scope=`); throws `validation_failed`. */
export function parseScopeParam(text: string | undefined, field = "scope"): Scope {
  if (text === undefined || text === "global") return { kind: "global" };
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const id = colon < 0 ? "" : text.slice(colon + 1);
  if ((kind === "session" || kind === "task") && isValidId(id, SCOPE_ID_CHARS_MAX)) {
    return { kind, id };
  }
  throw new VltairError("validation_failed", `${field} must be global, session:<id> or task:<id>`, {
    details: { field, value: text.slice(0, 300) },
  });
}

/** The scope of a canonical key (inverse of {@link scopeKey}). */
export function scopeOfKey(key: string): Scope {
  if (key === "global") return { kind: "global" };
  const colon = key.indexOf(":");
  return { kind: key.slice(0, colon) as "session" | "task", id: key.slice(colon + 1) };
}
