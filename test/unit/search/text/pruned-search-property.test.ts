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
  test("block-max skips on long lists stay exact through searches, appends and removals", () => {
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 300, maxLength: 900 }),
        fc.array(text, { minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 899 }), { maxLength: 60 }),
        fc.constantFrom("the", "return", "value user", "user", "getUserName", "x"),
        fc.integer({ min: 1, max: 25 }),
        (first, more, removals, q, k) => {
          const index = createTextIndex();
          first.forEach((t, i) => {
            index.add(`a${i}`, t);
          });
          const check = (): void => {
            expectIdentical(index.search(q, k), index.search(q, k, { exhaustive: true }));
          };
          check(); // builds the blocks of the query's long lists
          more.forEach((t, i) => {
            index.add(`b${i}`, t); // appends update the last blocks
          });
          check();
          for (const i of removals) index.remove(`a${i}`); // removals drop the blocks
          check();
          index.add("c", "the the the the return return value user x");
          check();
          expectIdentical(
            loadTextIndex(index.serialize()).search(q, k),
            index.search(q, k, { exhaustive: true }),
          );
        },
      ),
      { seed: SEED, numRuns: Math.ceil(RUNS / 4) },
    );
  });
  test("block bounds follow appends into the last block and removals that shift blocks", () => {
    const low = "alpha x x x x x x x x x";
    const build = () => {
      const index = createTextIndex();
      // Positions 0..19 score high (they set the top-5 bar), 20..299 low, except 128.
      for (let i = 0; i < 300; i++) {
        const text = i < 20 ? "alpha alpha x" : i === 128 ? "alpha alpha alpha alpha alpha" : low;
        index.add(`d${String(i).padStart(3, "0")}`, text);
      }
      index.search("alpha", 5); // builds alpha's blocks (64 postings each)
      return index;
    };
    const appended = build();
    appended.add("late", "alpha alpha alpha alpha"); // position 300: the last, partial block
    const top = appended.search("alpha", 5);
    expect(top).toEqual(appended.search("alpha", 5, { exhaustive: true }));
    expect(top.map((match) => match.docKey).slice(0, 2)).toEqual(["d128", "late"]);
    const shifted = build();
    // d128 moves from the first posting of block 2 to the last of block 1 (all low before).
    shifted.remove("d000");
    const after = shifted.search("alpha", 5);
    expect(after).toEqual(shifted.search("alpha", 5, { exhaustive: true }));
    expect(after[0]?.docKey).toBe("d128");
  });
  test("common terms: the switch to term at a time mid-search stays exact", () => {
    // 6,000 documents all holding both terms: nothing prunes, so the search switches to term
    // at a time after its first candidates (see score-pruned.ts).
    let seed = 20_261_129;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    const index = createTextIndex();
    for (let i = 0; i < 6000; i++) {
      const words = ["x", "y", "z", "w"].slice(0, random(4));
      for (let t = random(3); t >= 0; t--) words.push("alpha");
      for (let t = random(3); t >= 0; t--) words.push("getBeta");
      index.add(`d${String(i).padStart(4, "0")}`, words.join(" "));
    }
    const allow = (docKey: string): boolean => Number(docKey.slice(1)) % 7 !== 3;
    for (const q of ["alpha getBeta", "beta alpha", "alpha beta x"]) {
      for (const k of [1, 10, 50]) {
        expectIdentical(index.search(q, k), index.search(q, k, { exhaustive: true }));
        expectIdentical(
          index.search(q, k, { allow }),
          index.search(q, k, { allow, exhaustive: true }),
        );
      }
    }
  });
});
