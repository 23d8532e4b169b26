/**
 * The shape of a request's `context`: what Cedar's validation of the request against vltair's
 * schema depends on. Under a set that reads no context (the shipped default permits every
 * valid request) two requests whose contexts have one shape get one answer, so the decision
 * cache can key them by shape: a batch of 500 `context.write` requests is one Cedar call.
 *
 * The shape keeps attribute names and nesting, the kind of each value (`s` string, `b`
 * boolean, arrays element by element) and numbers themselves (a `Long` must be an integer in
 * range). It is null, and the caller keys by value, for what Cedar might read beyond its kind:
 * an object key starting with `__` (Cedar's JSON escapes for entities and extension values),
 * a string that is not well-formed UTF-16 (a lone surrogate), `null` or anything not JSON.
 */

import { hasLoneSurrogate } from "../core/mod.ts";

/**
 * The shape of `value`, or null when it may not stand for the values.
 *
 * @example
 * ```ts
 * contextShape({ scope_kind: "repo", scope_id: "r1", id: "a.ts" }); // '{"scope_kind":s,"scope_id":s,"id":s}'
 * ```
 */
export function contextShape(value: unknown): string | null {
  switch (typeof value) {
    case "string":
      return hasLoneSurrogate(value) ? null : "s";
    case "boolean":
      return "b";
    case "number":
      return Number.isFinite(value) ? `n${value}` : null;
    case "object":
      return value === null ? null : objectShape(value);
    default:
      return null;
  }
}

function objectShape(value: object): string | null {
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (const element of value) {
      const shape = contextShape(element);
      if (shape === null) return null;
      parts.push(shape);
    }
    return `[${parts.join(",")}]`;
  }
  for (const [key, element] of Object.entries(value)) {
    if (key.startsWith("__") || hasLoneSurrogate(key)) return null;
    const shape = contextShape(element);
    if (shape === null) return null;
    parts.push(`${JSON.stringify(key)}:${shape}`);
  }
  return `{${parts.join(",")}}`;
}
