/**
 * The hosts `http` steps may reach (config `http_allowed_hosts`): exact names
 * (`api.example.com`), `*.` suffix wildcards (`*.example.com`: subdomains only, not the bare
 * name) and IP literals (`127.0.0.1`, `::1`), which match only when listed exactly — a wildcard
 * never admits an address. Empty admits nothing: the step kind fails closed.
 */
import { isIP } from "node:net";
import { hostMatches, normalizeHost } from "../../sandbox/mod.ts";

/** `host` without the brackets of an IPv6 literal. */
function bare(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** An IP literal as a URL's `hostname` spells it (`[::1]`, `127.0.0.1`), or null for a name. */
function canonicalAddress(host: string): string | null {
  const address = bare(host);
  const family = isIP(address);
  if (family === 0) return null;
  return new URL(`http://${family === 6 ? `[${address}]` : address}/`).hostname;
}

/** The allowlist, canonical: names lower case without a trailing dot, addresses as URLs spell them. */
export class HttpHostAllowlist {
  readonly #names: readonly string[];
  readonly #addresses: ReadonlySet<string>;

  constructor(entries: readonly string[]) {
    const names: string[] = [];
    const addresses = new Set<string>();
    for (const entry of entries) {
      const address = canonicalAddress(entry.trim());
      if (address === null) names.push(normalizeHost(entry.trim()));
      else addresses.add(address);
    }
    this.#names = names;
    this.#addresses = addresses;
  }

  /** Whether a URL's `hostname` may be fetched. */
  allows(hostname: string): boolean {
    const address = canonicalAddress(hostname);
    if (address !== null) return this.#addresses.has(address);
    return this.#names.some((pattern) => hostMatches(hostname, pattern));
  }
}
