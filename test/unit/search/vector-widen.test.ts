import { afterAll, describe, expect, test } from "bun:test";
import {
  createVectorIndex,
  type VectorIndex,
  type VectorMatches,
  widenSearch,
} from "../../../src/search/mod.ts";
import { seededRandom } from "../../support/random.ts";

// Random 24-d vectors with a narrow graph (ef_add 8, ef 4): walks often stop far from the truth.
const random = seededRandom(41);
const dims = 24;
const count = 3000;
const index: VectorIndex = createVectorIndex({
  dimensions: dims,
  expansionAdd: 8,
  expansionSearch: 4,
});
index.addBatch(
  Array.from({ length: count }, (_, i) => i),
  Float32Array.from({ length: count * dims }, () => random() - 0.5),
);
const queries = Array.from({ length: 40 }, () =>
  Float32Array.from({ length: dims }, () => random() - 0.5),
);
afterAll(() => index.dispose());

const keys = (m: VectorMatches) => Array.from(m.keys);
const recall = (found: VectorMatches[]) => {
  let hits = 0;
  found.forEach((m, q) => {
    const truth = new Set(index.exactSearch(queries[q] as Float32Array, 10).keys);
    for (const key of m.keys) if (truth.has(key)) hits++;
  });
  return hits / (found.length * 10);
};

describe("widenSearch (adaptive search depth)", () => {
  test("a far k-th match repeats the walk wider; recall rises to the wide walk's", () => {
    const first = queries.map((q) => index.search(q, 10));
    const steps = [{ distanceOver: 0, expansionSearch: 512 }];
    const widened = queries.map((q, i) =>
      widenSearch(index, q, 10, 10, first[i] as VectorMatches, steps),
    );
    const wide = queries.map((q) => index.search(q, 10, { expansionSearch: 512 }));
    expect(widened.map(keys)).toEqual(wide.map(keys));
    expect(recall(widened)).toBeGreaterThan(recall(first));
    expect(index.options.expansionSearch).toBe(4);
  });

  test("a near k-th match, or a step no wider than the index, keeps the first answer", () => {
    const q = queries[0] as Float32Array;
    const first = index.search(q, 10);
    const far = (first.distances[9] as number) + 1;
    expect(
      widenSearch(index, q, 10, 10, first, [{ distanceOver: far, expansionSearch: 512 }]),
    ).toBe(first);
    expect(widenSearch(index, q, 10, 10, first, [{ distanceOver: 0, expansionSearch: 4 }])).toBe(
      first,
    );
    expect(widenSearch(index, q, 10, 10, first, [])).toBe(first);
  });

  test("steps go on only while the k-th match stays far; the check rank is capped by k", () => {
    const q = queries[1] as Float32Array;
    const first = index.search(q, 10);
    const mid = index.search(q, 10, { expansionSearch: 64 });
    const steps = [
      { distanceOver: 0, expansionSearch: 64 },
      { distanceOver: (mid.distances[2] as number) + 1, expansionSearch: 1024 },
    ];
    expect(keys(widenSearch(index, q, 10, 3, first, steps))).toEqual(keys(mid));
    expect(keys(widenSearch(index, q, 3, 10, index.search(q, 3), steps.slice(0, 1)))).toEqual(
      keys(index.search(q, 3, { expansionSearch: 64 })),
    );
  });
});
