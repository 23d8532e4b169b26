import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createTextIndex, loadTextIndex, type TextMatch } from "../../../../src/search/text/mod.ts";
import { ReferenceBm25 } from "./reference-bm25.ts";

const SEED = 20_261_125;
const RUNS = process.env.VLTAIR_SLOW === "1" ? 500 : 60;

/** A small vocabulary so that terms repeat across documents and IDFs vary. */
const WORDS = [
  "alpha",
  "beta",
  "gamma",
  "getUserName",
  "user_name",
  "user",
  "name",
  "HTTPServer",
  "http",
  "foo.bar",
  "foo",
  "bar",
  "kebab-case",
  "Été",
  "ÉTÉ",
  "v1.2.3",
  "42",
  "x",
];

const text = fc
  .array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 12 })
  .map((words) => words.join(" "));
const key = fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
const operation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key, text }),
  fc.record({ kind: fc.constant("remove" as const), key }),
);
const query = fc
  .array(fc.constantFrom(...WORDS, "use*", "ht*", "zzz"), { minLength: 1, maxLength: 3 })
  .map((words) => words.join(" "));

function expectSame(actual: TextMatch[], expected: TextMatch[]): void {
  expect(actual.map((match) => match.docKey)).toEqual(expected.map((match) => match.docKey));
  actual.forEach((match, i) => {
    expect(Math.abs(match.score - (expected[i]?.score ?? Number.NaN))).toBeLessThanOrEqual(1e-9);
  });
}

describe("TextIndex against a brute-force BM25", () => {
  for (const tokenizer of ["code", "unicode61"] as const) {
    test(`random add/update/remove sequences give the reference's top-k (${tokenizer})`, () => {
      fc.assert(
        fc.property(
          fc.array(operation, { maxLength: 40 }),
          fc.array(query, { minLength: 1, maxLength: 5 }),
          fc.integer({ min: 1, max: 12 }),
          (operations, queries, k) => {
            const index = createTextIndex({ tokenizer });
            const reference = new ReferenceBm25({ tokenizer });
            for (const op of operations) {
              if (op.kind === "remove") {
                const wasPresent = index.has(op.key);
                expect(index.remove(op.key)).toBe(wasPresent);
                reference.delete(op.key);
              } else if (index.has(op.key)) {
                index.update(op.key, op.text);
                reference.set(op.key, op.text);
              } else {
                index.add(op.key, op.text);
                reference.set(op.key, op.text);
              }
            }
            const restored = loadTextIndex(index.serialize());
            for (const q of queries) {
              const expected = reference.search(q, k);
              expectSame(index.search(q, k), expected);
              expectSame(restored.search(q, k), expected);
            }
          },
        ),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  test("scores after deletes equal a fresh index over the remaining documents", () => {
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        query,
        (texts, keep, q) => {
          const churned = createTextIndex();
          const fresh = createTextIndex();
          texts.forEach((t, i) => {
            churned.add(`d${String(i).padStart(2, "0")}`, t);
          });
          texts.forEach((t, i) => {
            const docKey = `d${String(i).padStart(2, "0")}`;
            if (keep[i]) fresh.add(docKey, t);
            else churned.remove(docKey);
          });
          expect(churned.size).toBe(fresh.size);
          expect(churned.search(q, 30)).toEqual(fresh.search(q, 30));
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
