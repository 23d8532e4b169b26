/**
 * Rankings against SQLite FTS5 over real text: 3,000 40-line chunks of node_modules files
 * (20,000 with VLTAIR_SLOW=1, as many as there are when fewer),
 * 200 identifier queries sampled with a fixed seed, OR between the query's tokens.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  createTextIndex,
  type TextIndex,
  tokenizeCode,
  tokenizeUnicode61,
} from "../../../../src/search/text/mod.ts";
import { Fts5Reference, loadCorpus, overlap, sampleQueries } from "./corpus.ts";

const CHUNK_COUNT_MIN = 3_000;
const CHUNK_COUNT = process.env.VLTAIR_SLOW === "1" ? 20_000 : CHUNK_COUNT_MIN;
const QUERY_COUNT = 200;
const SEED = 20_261_125;
const K = 10;

const chunks = loadCorpus({
  // The system's node_modules (when present) only adds chunks past the repository's own.
  roots: [`${import.meta.dir}/../../../../node_modules`, "/usr/lib/node_modules"],
  chunkLines: 40,
  strideLines: 40,
  chunksMax: CHUNK_COUNT,
});
const queries = sampleQueries(chunks, QUERY_COUNT, SEED);
const fts5 = new Fts5Reference(chunks);
const unicode61 = createTextIndex({ tokenizer: "unicode61" });
const code = createTextIndex({ tokenizer: "code" });
for (const chunk of chunks) {
  unicode61.add(chunk.docKey, chunk.text);
  code.add(chunk.docKey, chunk.text);
}
afterAll(() => fts5.close());

const keyOf = (rowid: number): string => String(rowid).padStart(8, "0");

function compare(index: TextIndex, query: string): { overlap: number; scoreDiffMax: number } {
  const expected = fts5.search(query, K);
  const actual = index.search(query, K);
  let scoreDiffMax = 0;
  expected.forEach((row, i) => {
    const match = actual[i];
    if (match?.docKey === keyOf(row.rowid)) {
      scoreDiffMax = Math.max(scoreDiffMax, Math.abs(match.score - row.score));
    }
  });
  const actualKeys = actual.map((match) => match.docKey);
  return {
    overlap: overlap(
      actualKeys,
      expected.map((row) => keyOf(row.rowid)),
    ),
    scoreDiffMax,
  };
}

function meanOverlap(index: TextIndex, list: readonly string[]): number {
  return list.reduce((sum, query) => sum + compare(index, query).overlap, 0) / list.length;
}

describe("BM25 parity with SQLite FTS5", () => {
  test("the corpus is real and large enough", () => {
    expect(chunks.length).toBeGreaterThanOrEqual(CHUNK_COUNT_MIN);
    expect(new Set(queries).size).toBeGreaterThan(150);
  });

  test("on ASCII text, code tokens (aliases aside) are exactly unicode61's", () => {
    const limits = { tokenCharsMax: 256, tokensMax: 1_000_000 };
    const asciiChunks = chunks.filter((chunk) => !/[\u0080-\uffff]/.test(chunk.text));
    expect(asciiChunks.length).toBeGreaterThan(CHUNK_COUNT_MIN / 2);
    for (const chunk of asciiChunks) {
      expect(tokenizeCode(chunk.text, limits).tokens).toEqual(
        tokenizeUnicode61(chunk.text, limits).tokens,
      );
    }
  });

  test("unicode61: top-10 overlap ≥ 0.99 and scores equal within 1e-9", () => {
    let scoreDiffMax = 0;
    let sum = 0;
    for (const query of queries) {
      const result = compare(unicode61, query);
      sum += result.overlap;
      scoreDiffMax = Math.max(scoreDiffMax, result.scoreDiffMax);
    }
    const mean = sum / queries.length;
    console.log(
      `unicode61 top-${K} overlap with FTS5: ${mean.toFixed(4)}; max |Δscore| ${scoreDiffMax}`,
    );
    expect(mean).toBeGreaterThanOrEqual(0.99);
    expect(scoreDiffMax).toBeLessThanOrEqual(1e-9);
  });

  test("code (default): top-10 overlap ≥ 0.85", () => {
    const mean = meanOverlap(code, queries);
    console.log(`code top-${K} overlap with FTS5: ${mean.toFixed(4)}`);
    expect(mean).toBeGreaterThanOrEqual(0.85);
  });

  test('unicode61 prefix queries rank as FTS5\'s "foo"*', () => {
    const prefixQueries = queries
      .filter((query) => /^[A-Za-z]{4,}/.test(query))
      .slice(0, 40)
      .map((query) => `${query.slice(0, 3)}*`);
    expect(prefixQueries.length).toBeGreaterThan(10);
    let sum = 0;
    for (const query of prefixQueries) {
      const expected = fts5.searchMatch(`"${query.slice(0, -1).toLowerCase()}"*`, K);
      const actual = unicode61.search(query, K).map((match) => match.docKey);
      sum += overlap(
        actual,
        expected.map((row) => keyOf(row.rowid)),
      );
    }
    expect(sum / prefixQueries.length).toBeGreaterThanOrEqual(0.99);
  });

  test("after deleting a tenth of the rows, rankings still equal FTS5's", () => {
    for (const chunk of chunks) {
      if (chunk.rowid % 10 === 3) {
        fts5.remove(chunk.rowid);
        unicode61.remove(chunk.docKey);
      }
    }
    expect(meanOverlap(unicode61, queries.slice(0, 100))).toBeGreaterThanOrEqual(0.99);
  });
});
