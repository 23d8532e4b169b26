import { expect, test } from "bun:test";
import { createVectorIndex } from "../../../src/search/mod.ts";
import { clusteredSpace } from "./clustered.ts";

const DIMENSIONS = 384;
const K = 10;
/** 4k by default (a graph several layers deep); VLTAIR_SLOW=1 checks 10k and 50k. */
const SIZES = process.env.VLTAIR_SLOW === "1" ? [10_000, 50_000] : [4_000];
const QUERY_COUNT = 200;

for (const count of SIZES) {
  test(`VectorIndex.search recall@10 >= 0.98 against exactSearch on ${count} clustered 384-d vectors`, () => {
    const space = clusteredSpace({ dimensions: DIMENSIONS, seed: 4242 });
    const data = space.sample(count);
    const queries = space.sample(QUERY_COUNT);
    const index = createVectorIndex({
      dimensions: DIMENSIONS,
      metric: "cos",
      connectivity: 16,
      expansionAdd: 128,
      expansionSearch: 64,
      capacity: count,
    });
    try {
      index.addBatch(
        Array.from({ length: count }, (_, i) => i),
        data,
      );
      let hits = 0;
      for (let q = 0; q < QUERY_COUNT; q++) {
        const query = queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS);
        const truth = new Set(index.exactSearch(query, K).keys);
        expect(truth.size).toBe(K);
        for (const key of index.search(query, K).keys) if (truth.has(key)) hits++;
      }
      const recall = hits / (QUERY_COUNT * K);
      expect(recall).toBeGreaterThanOrEqual(0.98);
    } finally {
      index.dispose();
    }
  }, 120_000);
}
