import { afterEach, describe, expect, test } from "bun:test";
import {
  createVectorIndex,
  loadVectorIndex,
  type VectorIndex,
  type VectorMetric,
} from "../../../src/search/mod.ts";
import { seededRandom } from "../../support/random.ts";

const open: VectorIndex[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});

/** The metric in float64, as USearch defines it. */
function reference(metric: VectorMetric, a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
    l2 += (x - y) * (x - y);
  }
  if (metric === "ip") return 1 - ab;
  if (metric === "l2sq") return l2;
  if (aa === 0 && bb === 0) return 0;
  if (aa === 0 || bb === 0) return 1;
  return 1 - ab / (Math.sqrt(aa) * Math.sqrt(bb));
}

describe("SIMD metric kernels (wasm/metric_simd.h)", () => {
  // Lengths around every unrolled step (16 and 8 floats), the 4-lane step and the scalar tail.
  const DIMENSIONS = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 384];
  const METRICS: VectorMetric[] = ["cos", "ip", "l2sq"];

  for (const metric of METRICS) {
    test(`${metric}: exact distances match a float64 reference at every length`, () => {
      const random = seededRandom(metric.length * 7919);
      for (const dims of DIMENSIONS) {
        const index = createVectorIndex({ dimensions: dims, metric });
        open.push(index);
        const count = 40;
        const data = Float32Array.from({ length: count * dims }, () => random() * 2 - 1);
        index.addBatch(
          Array.from({ length: count }, (_, i) => i),
          data,
        );
        const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
        const { keys, distances } = index.exactSearch(query, count);
        expect(keys.length).toBe(count);
        for (let i = 0; i < count; i++) {
          const key = Number(keys[i]);
          const row = data.subarray(key * dims, (key + 1) * dims);
          const expected = reference(metric, row, query);
          const tolerance = 1e-5 * Math.max(1, Math.abs(expected), dims / 16);
          expect(Math.abs((distances[i] as number) - expected)).toBeLessThan(tolerance);
        }
      }
    });
  }

  const f16round = (Math as unknown as { f16round: (value: number) => number }).f16round;

  for (const metric of ["cos", "ip"] as const) {
    test(`${metric} on f16 storage: distances match a float64 reference over the halves`, () => {
      const random = seededRandom(metric.length * 104_729);
      for (const dims of DIMENSIONS) {
        const index = createVectorIndex({ dimensions: dims, metric, quantization: "f16" });
        open.push(index);
        const count = 40;
        // Magnitudes from half subnormals (below 6.1e-5) up to 4: every conversion path.
        const value = (): number => (random() * 2 - 1) * 10 ** (Math.floor(random() * 7) - 6) * 4;
        const data = Float32Array.from({ length: count * dims }, value);
        index.addBatch(
          Array.from({ length: count }, (_, i) => i),
          data,
        );
        const query = Float32Array.from({ length: dims }, value);
        const halves = (row: Float32Array) => Float32Array.from(row, f16round);
        const { keys, distances } = index.exactSearch(query, count);
        for (let i = 0; i < count; i++) {
          const key = Number(keys[i]);
          const row = halves(data.subarray(key * dims, (key + 1) * dims));
          const expected = reference(metric, row, halves(query));
          const tolerance = 1e-4 * Math.max(1, Math.abs(expected), dims / 16);
          expect(Math.abs((distances[i] as number) - expected)).toBeLessThan(tolerance);
        }
      }
    });
  }

  test("cos on f16 storage converts half subnormals exactly (vectors made only of them)", () => {
    const random = seededRandom(31);
    for (const dims of [16, 17, 384]) {
      const index = createVectorIndex({ dimensions: dims, metric: "cos", quantization: "f16" });
      open.push(index);
      const count = 20;
      // |x| < 6.1e-5: every component is a half subnormal (or zero).
      const value = (): number => (random() * 2 - 1) * 6e-5;
      const data = Float32Array.from({ length: count * dims }, value);
      index.addBatch(
        Array.from({ length: count }, (_, i) => i),
        data,
      );
      const query = Float32Array.from({ length: dims }, value);
      const { keys, distances } = index.exactSearch(query, count);
      for (let i = 0; i < count; i++) {
        const key = Number(keys[i]);
        const row = Float32Array.from(data.subarray(key * dims, (key + 1) * dims), f16round);
        const expected = reference("cos", row, Float32Array.from(query, f16round));
        expect(Math.abs((distances[i] as number) - expected)).toBeLessThan(1e-4);
      }
    }
  });

  test("cos keeps USearch's zero-vector cases: 0 to a zero vector from a zero vector, else 1", () => {
    for (const dims of [5, 16, 384]) {
      const index = createVectorIndex({ dimensions: dims, metric: "cos" });
      open.push(index);
      index.add(1, new Float32Array(dims));
      index.add(2, new Float32Array(dims).fill(0.5));
      const fromZero = index.exactSearch(new Float32Array(dims), 2);
      expect(Array.from(fromZero.keys)).toEqual([1n, 2n]);
      expect(Array.from(fromZero.distances)).toEqual([0, 1]);
      const fromOnes = index.exactSearch(new Float32Array(dims).fill(1), 2);
      expect(Array.from(fromOnes.keys)).toEqual([2n, 1n]);
      expect(fromOnes.distances[0]).toBeCloseTo(0, 6);
      expect(fromOnes.distances[1]).toBe(1);
    }
  });
});

describe("VectorIndex windowed save", () => {
  test("serialize leaves the module's memory as it was and the bytes load back identically", () => {
    // 24 MiB of vectors: a buffer of the whole serialization would grow the module by as much.
    const dims = 1024;
    const count = 6000;
    const random = seededRandom(5);
    const index = createVectorIndex({ dimensions: dims, expansionAdd: 16 });
    open.push(index);
    index.addBatch(
      Array.from({ length: count }, (_, i) => i),
      Float32Array.from({ length: count * dims }, () => random() - 0.5),
    );
    const before = index.memoryUsage().wasmMemoryBytes;
    const bytes = index.serialize();
    expect(bytes.length).toBeGreaterThan(count * dims * 4);
    expect(index.memoryUsage().wasmMemoryBytes).toBe(before);
    expect(index.outstandingAllocations().count).toBe(4);
    const copy = loadVectorIndex(bytes);
    open.push(copy);
    expect(copy.serialize()).toEqual(bytes);
    const query = Float32Array.from({ length: dims }, () => random() - 0.5);
    expect(Array.from(copy.search(query, 10).keys)).toEqual(
      Array.from(index.search(query, 10).keys),
    );
  }, 60_000);

  test("an empty index serializes and loads", () => {
    const index = createVectorIndex({ dimensions: 8 });
    open.push(index);
    const bytes = index.serialize();
    const copy = loadVectorIndex(bytes);
    open.push(copy);
    expect(copy.size()).toBe(0);
    expect(copy.serialize()).toEqual(bytes);
  });
});

/**
 * 3,000 random 24-d vectors in an index built and searched narrowly (expansionAdd 8,
 * expansionSearch 4), and `queryCount` random queries, from `seed`.
 */
function narrowIndex(seed: number, queryCount: number) {
  const random = seededRandom(seed);
  const dims = 24;
  const count = 3000;
  const index = createVectorIndex({ dimensions: dims, expansionAdd: 8, expansionSearch: 4 });
  open.push(index);
  index.addBatch(
    Array.from({ length: count }, (_, i) => i),
    Float32Array.from({ length: count * dims }, () => random() - 0.5),
  );
  const queries = Array.from({ length: queryCount }, () =>
    Float32Array.from({ length: dims }, () => random() - 0.5),
  );
  return { index, queries, count };
}

describe("VectorIndex.setExpansionSearch", () => {
  test("widens later searches, is validated, and shows in options", () => {
    const { index, queries, count } = narrowIndex(9, 50);
    const recall = (): number => {
      let hits = 0;
      for (const query of queries) {
        const truth = new Set(index.exactSearch(query, 10).keys);
        for (const key of index.search(query, 10).keys) if (truth.has(key)) hits++;
      }
      return hits / (queries.length * 10);
    };
    const narrow = recall();
    index.setExpansionSearch(count);
    expect(index.options.expansionSearch).toBe(count);
    const wide = recall();
    expect(wide).toBeGreaterThan(narrow);
    expect(wide).toBeGreaterThanOrEqual(0.99);
    for (const bad of [0, 4097, 1.5]) {
      expect(() => index.setExpansionSearch(bad)).toThrow(/expansionSearch/);
    }
    expect(index.options.expansionSearch).toBe(count);
  });
});

describe("search option expansionSearch", () => {
  test("applies to that call only and equals setting it on the index", () => {
    const { index, queries } = narrowIndex(12, 30);
    const narrow = queries.map((query) => Array.from(index.search(query, 10).keys));
    const wideOnce = queries.map((query) =>
      Array.from(index.search(query, 10, { expansionSearch: 512 }).keys),
    );
    expect(index.options.expansionSearch).toBe(4);
    expect(queries.map((query) => Array.from(index.search(query, 10).keys))).toEqual(narrow);
    index.setExpansionSearch(512);
    const wide = queries.map((query) => Array.from(index.search(query, 10).keys));
    expect(wideOnce).toEqual(wide);
    expect(wide).not.toEqual(narrow);
    index.setExpansionSearch(4);
    expect(() => index.search(queries[0] as Float32Array, 10, { expansionSearch: 0 })).toThrow(
      /expansionSearch/,
    );
    expect(index.options.expansionSearch).toBe(4);
    const filtered = index.search(queries[0] as Float32Array, 5, {
      expansionSearch: 64,
      filter: { predicate: (key) => key % 2n === 0n },
    });
    expect(Array.from(filtered.keys).every((key) => key % 2n === 0n)).toBe(true);
    expect(index.options.expansionSearch).toBe(4);
  });
});

describe("loaded index capacity", () => {
  test("a load reserves no room ahead; adds after it grow on demand", () => {
    const random = seededRandom(21);
    const dims = 8;
    const count = 2000;
    const index = createVectorIndex({ dimensions: dims, expansionAdd: 16 });
    open.push(index);
    const vector = () => Float32Array.from({ length: dims }, () => random() - 0.5);
    index.addBatch(
      Array.from({ length: count }, (_, i) => i),
      Float32Array.from({ length: count * dims }, () => random() - 0.5),
    );
    const copy = loadVectorIndex(index.serialize());
    open.push(copy);
    copy.add(count, vector());
    copy.addBatch(
      Array.from({ length: 500 }, (_, i) => count + 1 + i),
      Array.from({ length: 500 }, vector),
    );
    expect(copy.size()).toBe(count + 501);
    const query = vector();
    expect(copy.exactSearch(query, 1).keys.length).toBe(1);
    expect(copy.search(query, 10).keys.length).toBe(10);
  });
});
