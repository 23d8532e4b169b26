/**
 * Host name patterns of a run's network allowlist (`"network": {"allow": [...]}`): an exact
 * name (`registry.npmjs.org`) or a `*.` suffix wildcard (`*.pythonhosted.org`, subdomains only,
 * not the bare name). The operator's ceiling (`sandbox_network_allow_domains`) bounds what a
 * request may list. IP literals are never names: the last label must hold a letter.
 */
import { VltairError } from "../core/mod.ts";

/** Longest host name (RFC 1035). */
export const HOST_CHARS_MAX = 253;
/** Most patterns of one allowlist (a request's or the operator's ceiling). */
export const ALLOW_PATTERNS_MAX = 256;

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const LAST_LABEL = "(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
/** A host name pattern, lower case; the wire schema checks it case-insensitively. */
export const HOST_PATTERN = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LAST_LABEL}$`, "i");

/** A pattern in its canonical form (lower case, no trailing dot). */
export function normalizeHost(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** Whether `host` (a name from a request line, any case) matches `pattern`. */
export function hostMatches(host: string, pattern: string): boolean {
  const name = normalizeHost(host);
  if (!pattern.startsWith("*.")) return name === pattern;
  return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
}

/** Whether `host` matches any of `patterns`. */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => hostMatches(host, pattern));
}

/** Whether every name `pattern` admits is admitted by some pattern of `ceiling`. */
export function patternWithin(pattern: string, ceiling: readonly string[]): boolean {
  return ceiling.some((c) => {
    if (c === pattern) return true;
    if (!c.startsWith("*.")) return false;
    // `*.a.org` covers `x.a.org` and `*.x.a.org` (every name below `x.a.org` is below `a.org`),
    // never the bare `a.org`.
    const names = pattern.startsWith("*.") ? pattern.slice(2) : pattern;
    return names.endsWith(c.slice(1));
  });
}

/**
 * The request's patterns, canonical and deduplicated, after checking each against the
 * operator's ceiling; one outside it is `403 forbidden` with `details.issue: "not_permitted"`
 * naming the field, and nothing runs.
 *
 * @example
 * ```ts
 * checkAllowlist(["Registry.npmjs.org"], ["registry.npmjs.org", "*.pythonhosted.org"]);
 * // ["registry.npmjs.org"]
 * ```
 */
export function checkAllowlist(requested: readonly string[], ceiling: readonly string[]): string[] {
  const permitted = ceiling.map(normalizeHost);
  const out: string[] = [];
  for (const [index, raw] of requested.entries()) {
    const pattern = normalizeHost(raw);
    if (!patternWithin(pattern, permitted)) {
      const field = `network.allow.${index}`;
      throw new VltairError(
        "forbidden",
        `${field}: ${pattern} is outside the server's sandbox_network_allow_domains`,
        { details: { field, domain: pattern, issue: "not_permitted", permitted } },
      );
    }
    if (!out.includes(pattern)) out.push(pattern);
  }
  return out;
}
