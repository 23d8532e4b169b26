import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createTextIndex, loadTextIndex, type TextMatch } from "../../../../src/search/text/mod.ts";

const SEED = 20_261_126;
const RUNS = process.env.VLTAIR_SLOW === "1" ? 400 : 40;

/**
 * A skewed vocabulary: the first words are drawn far more often (like `return` in code), so
 * bounds differ by term and MaxScore's non-essential set is non-empty once the top-k fills.
 */
const WORDS = [
  "the",
  "return",
  "value",
  "user",
  "getUserName",
  "user_name",
  "name",
  "HTTPServer",
  "http",
  "foo.bar",
  "foo",
  "bar",
  "kebab-case",
  "Été",
  "v1.2.3",
  "42",
  "rare",
  "zeta",
  "x",
];

/** Index into WORDS, skewed to the front (a square of a uniform draw). */
const skewedWord = fc
  .integer({ min: 0, max: 9999 })
  .map((n) => WORDS[Math.floor((n / 10_000) ** 2 * WORDS.length)] as string);
const text = fc.array(skewedWord, { minLength: 0, maxLength: 40 }).map((words) => words.join(" "));
const query = fc
  .array(fc.constantFrom(...WORDS, "getUserNames", "use*", "zzz"), { minLength: 1, maxLength: 5 })
  .map((words) => words.join(" "));

function expectIdentical(pruned: TextMatch[], exhaustive: TextMatch[]): void {
  // Keys, order and scores bit for bit (toEqual compares numbers with Object.is).
  expect(pruned).toEqual(exhaustive);
}

describe("pruned (MaxScore) search equals the exhaustive path", () => {
  for (const tokenizer of ["code", "unicode61"] as const) {
    test(`random corpora, queries, k and allow predicates (${tokenizer})`, () => {
      fc.assert(
        fc.property(
          fc.array(text, { minLength: 1, maxLength: 160 }),
          fc.array(fc.integer({ min: 0, max: 159 }), { maxLength: 40 }),
          fc.array(query, { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: 30 }),
          fc.integer({ min: 0, max: 4 }),
          (texts, removals, queries, k, allowModulus) => {
            const index = createTextIndex({ tokenizer });
            const keyOf = (i: number): string => `d${String(i).padStart(3, "0")}`;
            texts.forEach((t, i) => {
              index.add(keyOf(i), t);
            });
            for (const i of removals) index.remove(keyOf(i));
            // Updates after removals: postings of re-added documents land on new slots.
            for (const i of removals.slice(0, 5)) {
              if (i < texts.length && !index.has(keyOf(i))) index.add(keyOf(i), texts[0] ?? "");
            }
            const allow =
              allowModulus === 0
                ? undefined
                : (docKey: string): boolean => Number(docKey.slice(1)) % (allowModulus + 1) !== 0;
            const restored = loadTextIndex(index.serialize());
            for (const q of queries) {
              const options = allow === undefined ? {} : { allow };
              const exhaustive = index.search(q, k, { ...options, exhaustive: true });
              expectIdentical(index.search(q, k, options), exhaustive);
              expectIdentical(restored.search(q, k, options), exhaustive);
            }
          },
        ),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  test("ties at the cut keep the key tie-break (many identical documents)", () => {
    const index = createTextIndex();
    for (let i = 0; i < 200; i++) {
      index.add(`k${String(199 - i).padStart(3, "0")}`, i % 3 === 0 ? "alpha beta" : "alpha");
    }
    for (const k of [1, 5, 10, 67, 68, 200]) {
      const pruned = index.search("alpha beta", k);
      expect(pruned).toEqual(index.search("alpha beta", k, { exhaustive: true }));
      expect(pruned.length).toBe(k);
    }
    const top = index.search("beta alpha", 3);
    expect(top.map((match) => match.docKey)).toEqual(["k001", "k004", "k007"]);
  });

  test("appends after a load raise the lazily filled bounds", () => {
    const index = createTextIndex();
    const pad = " x x x x x x x x";
    for (let i = 0; i < 100; i++) {
      const text =
        i < 10 ? `alpha beta${pad}` : i < 20 ? `alpha x${pad}` : i < 30 ? `beta x${pad}` : "x";
      index.add(`a${String(i).padStart(3, "0")}`, text);
    }
    const restored = loadTextIndex(index.serialize());
    // Fills both terms' bounds (frequency 1, length 10): `beta` is non-essential once the
    // top-5 holds documents with both terms. `rare` holds `beta` ten times and must raise its
    // bound, or it would never become a candidate.
    restored.search("beta alpha", 5);
    restored.add("rare", "beta beta beta beta beta beta beta beta beta beta");
    for (const q of ["beta alpha", "alpha beta"]) {
      const exhaustive = restored.search(q, 5, { exhaustive: true });
      expect(restored.search(q, 5)).toEqual(exhaustive);
      expect(exhaustive[0]?.docKey).toBe("rare");
    }
  });
});
