/**
 * Document URIs: `vltair://docs/{scope}/{id}` with `?version=N` for one version. `scope` is
 * `global`, `session:ID` or `task:ID`; both parts are percent-encoded (ids from `vltair ingest`
 * hold `/` and `#`).
 */

/** The scope parameter of a scope object (`{kind:"session",id:"s1"}` → `session:s1`). */
function scopeParam(scope: unknown): string {
  if (typeof scope === "string") return scope;
  const s = (scope ?? {}) as { kind?: string; id?: string };
  if (s.kind === undefined || s.kind === "global") return "global";
  return `${s.kind}:${s.id ?? ""}`;
}

/** The URI of a document. */
export function docUri(scope: unknown, id: string): string {
  return `vltair://docs/${encodeURIComponent(scopeParam(scope))}/${encodeURIComponent(id)}`;
}

/** The scope, id and version of a document URI, or null when it is not one. */
export function parseDocUri(
  uri: string,
): { scope: string; id: string; version: number | null } | null {
  const match = /^vltair:\/\/docs\/([^/?#]+)\/([^/?#]+)(?:\?version=([1-9][0-9]{0,15}))?$/.exec(
    uri,
  );
  if (match === null) return null;
  try {
    return {
      scope: decodeURIComponent(match[1] as string),
      id: decodeURIComponent(match[2] as string),
      version: match[3] === undefined ? null : Number(match[3]),
    };
  } catch {
    return null;
  }
}
