/**
 * Canonical form of a filter (CE-9): the same filter as a JSON string or as an object, with keys
 * in any order, becomes one value with sorted keys and one text. Array order is meaning
 * (and/or order is evaluation order, `in` lists are as given), so arrays are kept as they are.
 */

/** The value with object keys sorted at every depth. */
export function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    out[key] = canonicalValue((value as Record<string, unknown>)[key]);
  }
  return out;
}

/** The canonical JSON text (sorted keys, no spaces). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value));
}
