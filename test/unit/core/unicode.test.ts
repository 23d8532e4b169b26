/** Lone surrogates: the native check and the regular expression agree on every string. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { hasLoneSurrogate } from "../../../src/core/mod.ts";
import { hasLoneSurrogateByPattern } from "../../../src/core/unicode.ts";

/** Code units biased towards surrogates, so lone and paired ones both occur often. */
const unit = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdfff }),
  fc.integer({ min: 0, max: 0xffff }),
  fc.constantFrom(0x61, 0xe9),
);
const codeUnits = fc.array(unit, { maxLength: 12 }).map((units) => String.fromCharCode(...units));

describe("hasLoneSurrogate", () => {
  test("examples: lone high, lone low, reversed pair, a proper pair, none", () => {
    expect(hasLoneSurrogate("a\ud800")).toBe(true);
    expect(hasLoneSurrogate("\udc00a")).toBe(true);
    expect(hasLoneSurrogate("\udc00\ud800")).toBe(true);
    expect(hasLoneSurrogate("😀 é")).toBe(false);
    expect(hasLoneSurrogate("")).toBe(false);
  });

  test("property: the runtime's check gives what the pattern gives", () => {
    fc.assert(
      fc.property(codeUnits, (text) => {
        expect(hasLoneSurrogate(text)).toBe(hasLoneSurrogateByPattern(text));
      }),
      { seed: 5, numRuns: 2_000 },
    );
  });
});
