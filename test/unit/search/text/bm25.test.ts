import { describe, expect, test } from "bun:test";
import {
  BM25_DEFAULTS,
  BM25_IDF_FLOOR,
  bm25Idf,
  bm25Term,
  createTextIndex,
} from "../../../../src/search/text/mod.ts";

describe("bm25Idf", () => {
  test("is log((N - n + 0.5) / (n + 0.5)) for a rare term", () => {
    expect(bm25Idf(4, 1)).toBe(Math.log(3.5 / 1.5));
    expect(bm25Idf(4, 1)).toBeCloseTo(0.8472978603872037, 15);
  });

  test("floors a zero or negative IDF at FTS5's 1e-6", () => {
    expect(bm25Idf(4, 2)).toBe(BM25_IDF_FLOOR);
    expect(bm25Idf(4, 3)).toBe(1e-6);
    expect(bm25Idf(4, 4)).toBe(1e-6);
  });
});

describe("bm25Term", () => {
  test("is FTS5's expression", () => {
    const stats = { idf: bm25Idf(4, 1), termFrequency: 2, docLength: 3, avgDocLength: 2.5 };
    // 0.8473 × (2 × 2.2) / (2 + 1.2 × (0.25 + 0.75 × 3 / 2.5)) = 0.8473 × 4.4 / 3.38
    expect(bm25Term(stats, BM25_DEFAULTS)).toBeCloseTo(1.1029912975454723, 14);
  });

  test("with b = 0 ignores the document length", () => {
    const short = { idf: 1, termFrequency: 1, docLength: 1, avgDocLength: 10 };
    const long = { ...short, docLength: 100 };
    expect(bm25Term(short, { k1: 1.2, b: 0 })).toBe(bm25Term(long, { k1: 1.2, b: 0 }));
  });
});

describe("TextIndex BM25 on a hand-computed corpus", () => {
  // N = 4, lengths 2, 3, 1, 4: total 10, avgdl 2.5.
  const index = createTextIndex({ tokenizer: "unicode61" });
  index.add("d1", "a b");
  index.add("d2", "a c c");
  index.add("d3", "d");
  index.add("d4", "b b b b");

  test("a rare term scores by tf and length", () => {
    expect(index.search("c", 10)).toEqual([{ docKey: "d2", score: 1.1029912975454723 }]);
  });

  test("a term in half the documents gets the 1e-6 IDF floor", () => {
    const results = index.search("b", 10);
    expect(results.map((match) => match.docKey)).toEqual(["d4", "d1"]);
    // d4: 1e-6 × (4 × 2.2) / (4 + 1.2 × (0.25 + 0.75 × 4 / 2.5)); d1: f = 1, D = 2.
    expect(results[0]?.score).toBeCloseTo(0.0000015331010452961673, 20);
    expect(results[1]?.score).toBeCloseTo(0.0000010891089108910893, 20);
  });

  test("OR semantics: a document matching any term scores, summing contributions", () => {
    const results = index.search("c b", 10);
    expect(results.map((match) => match.docKey)).toEqual(["d2", "d4", "d1"]);
    expect(results[0]?.score).toBe(1.1029912975454723);
  });

  test("a repeated query term does not weigh more", () => {
    expect(index.search("c c C", 10)).toEqual(index.search("c", 10));
  });

  test("k1 and b are configurable", () => {
    const flat = createTextIndex({ tokenizer: "unicode61", k1: 2, b: 0 });
    flat.add("d1", "x y");
    flat.add("d2", "x x x y y y y y y");
    flat.add("d3", "z");
    const idf = 1e-6; // log((3 - 2 + 0.5) / (2 + 0.5)) < 0, so FTS5's floor
    // Two of three documents hold x: IDF floored; with b = 0 the length plays no part.
    expect(flat.search("x", 1)[0]?.score).toBeCloseTo((idf * 3 * 3) / (3 + 2), 20);
  });
});
