/**
 * `http_allowed_hosts` (issue 16, `http` steps): exact names, `*.` wildcards for subdomains only,
 * IP literals only when listed exactly (whatever spelling the URL uses), nothing when empty.
 */
import { describe, expect, test } from "bun:test";
import { HttpHostAllowlist } from "../../../src/orchestrator/mod.ts";

const LIST = ["api.example.com", "*.svc.internal", "127.0.0.1", "[::1]", "Example.ORG."];

/** The allowlist's answer for a URL's hostname, as fetch would see it. */
const allows = (entries: readonly string[], url: string) =>
  new HttpHostAllowlist(entries).allows(new URL(url).hostname);

describe("HttpHostAllowlist", () => {
  test.each([
    ["http://api.example.com/x", true],
    ["http://API.Example.com:8443/x", true],
    ["http://other.example.com/", false],
    ["http://a.svc.internal/", true],
    ["http://b.a.svc.internal/", true],
    ["http://svc.internal/", false],
    ["http://example.org/", true],
    ["http://127.0.0.1:9/", true],
    // Other spellings of the listed address are the same address.
    ["http://127.1/", true],
    ["http://2130706433/", true],
    ["http://[::1]/", true],
    ["http://[0:0:0:0:0:0:0:1]/", true],
    // Another address, and an IPv4-mapped IPv6 spelling, are not listed.
    ["http://127.0.0.2/", false],
    ["http://[::ffff:127.0.0.1]/", false],
    ["http://localhost/", false],
  ])("%s -> %p", (url, expected) => {
    expect(allows(LIST, url)).toBe(expected);
  });

  test("a wildcard never admits an address", () => {
    expect(allows(["*.0.0.1", "*.1"], "http://127.0.0.1/")).toBe(false);
  });

  test("an empty list admits nothing", () => {
    expect(allows([], "http://127.0.0.1/")).toBe(false);
    expect(allows([], "http://api.example.com/")).toBe(false);
  });
});
