import { afterEach, describe, expect, test } from "bun:test";
import { AssertionError } from "../../../src/core/mod.ts";
import {
  createVectorIndex,
  loadVectorIndex,
  readSerializedHeader,
  VECTOR_LIMITS,
  type VectorIndex,
  type VectorIndexOptions,
} from "../../../src/search/mod.ts";
import { caught } from "../../support/errors.ts";
import { seededRandom } from "../../support/random.ts";
import { clusteredSpace } from "./clustered.ts";

const open: VectorIndex[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});

function make(options: VectorIndexOptions): VectorIndex {
  const index = createVectorIndex(options);
  open.push(index);
  return index;
}

/** n clustered 16-d vectors keyed 0..n-1. */
function filled(n: number, options: Partial<VectorIndexOptions> = {}) {
  const space = clusteredSpace({ dimensions: 16, seed: 7, clusters: 10, subspaceDimensions: 4 });
  const data = space.sample(n);
  const index = make({ dimensions: 16, ...options });
  index.addBatch(
    Array.from({ length: n }, (_, i) => i),
    data,
  );
  return { index, data, row: (i: number) => data.subarray(i * 16, (i + 1) * 16), space };
}

describe("VectorIndex basics", () => {
  test("add, contains, size, remove", () => {
    const index = make({ dimensions: 3 });
    expect(index.size()).toBe(0);
    index.add(1n, [1, 0, 0]);
    index.add(2, new Float32Array([0, 1, 0]));
    index.add(2n ** 64n - 2n, new Float64Array([0, 0, 1]));
    expect(index.size()).toBe(3);
    expect(index.contains(1)).toBe(true);
    expect(index.contains(2n ** 64n - 2n)).toBe(true);
    expect(index.contains(3)).toBe(false);
    expect(index.remove(1)).toBe(true);
    expect(index.remove(1)).toBe(false);
    expect(index.contains(1)).toBe(false);
    expect(index.size()).toBe(2);
  });

  test("search returns nearest first with distances of the metric", () => {
    const index = make({ dimensions: 2, metric: "l2sq" });
    index.addBatch(
      [10, 20, 30],
      [
        [0, 0],
        [3, 4],
        [6, 8],
      ],
    );
    const { keys, distances } = index.search([0, 0], 3);
    expect(Array.from(keys)).toEqual([10n, 20n, 30n]);
    expect(Array.from(distances)).toEqual([0, 25, 100]);
  });

  test("k larger than the index returns every vector; an empty index returns none", () => {
    const empty = make({ dimensions: 2 });
    expect(empty.search([1, 0], 5).keys.length).toBe(0);
    expect(empty.exactSearch([1, 0], 5).keys.length).toBe(0);
    const { index, row } = filled(7);
    expect(index.search(row(0), 10).keys.length).toBe(7);
  });

  test("removed vectors are never returned, and their key can be added again", () => {
    const { index, row } = filled(200);
    expect(index.search(row(5), 1).keys[0]).toBe(5n);
    index.remove(5);
    expect(Array.from(index.search(row(5), 50).keys)).not.toContain(5n);
    expect(Array.from(index.exactSearch(row(5), 200).keys)).not.toContain(5n);
    expect(index.size()).toBe(199);
    index.add(5, row(5));
    expect(index.search(row(5), 1).keys[0]).toBe(5n);
    expect(index.size()).toBe(200);
  });

  test("the index keeps its own copy: changing the caller's arrays afterwards changes nothing", () => {
    const index = make({ dimensions: 2, metric: "l2sq" });
    const vector = new Float32Array([3, 4]);
    index.add(1, vector);
    vector.fill(100);
    const query = new Float32Array([0, 0]);
    const first = index.search(query, 1);
    query.fill(100);
    expect(first.distances[0]).toBe(25);
    expect(index.search([0, 0], 1).distances[0]).toBe(25);
    index.search([9, 9], 1);
    expect(first.keys[0]).toBe(1n);
    expect(first.distances[0]).toBe(25);
  });

  test("grows past its initial capacity", () => {
    const { index } = filled(300, { capacity: 1 });
    expect(index.size()).toBe(300);
  });

  test("exactSearch equals a JS brute-force scan", () => {
    const { index, data, row } = filled(500, { metric: "l2sq" });
    const query = row(42);
    const expected = Array.from({ length: 500 }, (_, i) => {
      let d = 0;
      for (let j = 0; j < 16; j++) d += ((data[i * 16 + j] as number) - (query[j] as number)) ** 2;
      return { key: BigInt(i), d };
    })
      .sort((a, b) => a.d - b.d)
      .slice(0, 10);
    const { keys, distances } = index.exactSearch(query, 10);
    expect(Array.from(keys)).toEqual(expected.map((e) => e.key));
    for (let i = 0; i < 10; i++) expect(distances[i]).toBeCloseTo(expected[i]?.d ?? -1, 4);
  });

  test("f16 and i8 quantization find the vector itself", () => {
    for (const quantization of ["f16", "i8"] as const) {
      const { index, row } = filled(300, { quantization });
      expect(index.quantization).toBe(quantization);
      for (const i of [0, 99, 299]) expect(index.search(row(i), 1).keys[0]).toBe(BigInt(i));
    }
  });

  test("ip metric ranks by inner product", () => {
    const index = make({ dimensions: 2, metric: "ip" });
    index.addBatch(
      [1, 2],
      [
        [1, 0],
        [0.5, 0],
      ],
    );
    expect(Array.from(index.search([1, 0], 2).keys)).toEqual([1n, 2n]);
    expect(index.search([1, 0], 1).distances[0]).toBeCloseTo(0, 6);
  });
});

describe("VectorIndex validation", () => {
  test("wrong dimension, NaN and Infinity are rejected with field names", () => {
    const index = make({ dimensions: 3 });
    expect(caught(() => index.add(1, [1, 2])).details).toMatchObject({
      field: "vector",
      reason: "dimension_mismatch",
    });
    expect(caught(() => index.add(1, [1, Number.NaN, 2])).details).toMatchObject({
      field: "vector",
      reason: "not_finite",
      index: 1,
    });
    expect(caught(() => index.search([1, 2, Number.POSITIVE_INFINITY], 1)).details).toMatchObject({
      field: "query",
      reason: "not_finite",
    });
    expect(caught(() => index.search([1, 2, 3, 4], 1)).details.field).toBe("query");
    expect(index.size()).toBe(0);
  });

  test("k outside [1, kMax] is rejected", () => {
    const index = make({ dimensions: 2 });
    for (const k of [0, -1, 1.5, VECTOR_LIMITS.kMax + 1]) {
      const error = caught(() => index.search([1, 0], k));
      expect(error.code).toBe("validation_failed");
      expect(error.details.field).toBe("k");
    }
    expect(index.search([1, 0], VECTOR_LIMITS.kMax).keys.length).toBe(0);
  });

  test("a duplicate key is a conflict", () => {
    const index = make({ dimensions: 2 });
    index.add(1, [1, 0]);
    expect(caught(() => index.add(1, [0, 1])).code).toBe("conflict");
    expect(
      caught(() =>
        index.addBatch(
          [2, 2],
          [
            [1, 0],
            [0, 1],
          ],
        ),
      ).details.field,
    ).toBe("keys[1]");
    expect(
      caught(() =>
        index.addBatch(
          [3, 1],
          [
            [1, 0],
            [0, 1],
          ],
        ),
      ).code,
    ).toBe("conflict");
    expect(index.size()).toBe(1);
  });

  test("a bad batch adds nothing", () => {
    const index = make({ dimensions: 2 });
    const error = caught(() =>
      index.addBatch(
        [1, 2, 3],
        [
          [1, 0],
          [0, 1],
          [Number.NaN, 0],
        ],
      ),
    );
    expect(error.details).toMatchObject({ field: "vectors[2]", reason: "not_finite" });
    expect(caught(() => index.addBatch([1, 2], [[1, 0]])).details.field).toBe("vectors");
    expect(caught(() => index.addBatch([1, 2], new Float32Array(3))).details.field).toBe("vectors");
    expect(
      caught(() =>
        index.addBatch(
          [1, -2],
          [
            [1, 0],
            [0, 1],
          ],
        ),
      ).details.field,
    ).toBe("keys[1]");
    expect(index.size()).toBe(0);
  });

  test("a batch over the staging limit is payload_too_large", () => {
    const index = make({ dimensions: VECTOR_LIMITS.dimensionsMax });
    const count = Math.ceil(VECTOR_LIMITS.batchBytesMax / (VECTOR_LIMITS.dimensionsMax * 4)) + 1;
    const keys = Array.from({ length: count }, (_, i) => i);
    expect(caught(() => index.addBatch(keys, new Float32Array(0))).code).toBe("payload_too_large");
  });

  test("use after dispose is an assertion, dispose is idempotent", () => {
    const index = createVectorIndex({ dimensions: 2 });
    index.dispose();
    index.dispose();
    expect(() => index.size()).toThrow(AssertionError);
  });
});

describe("VectorIndex filtered search", () => {
  test("allowedKeys: k results come back when k admitted vectors exist", () => {
    const { index, row } = filled(3000);
    // 1 key in 100 admitted: searched by the exact filtered scan (ALLOWED_EXACT_FRACTION).
    const allowed = Array.from({ length: 30 }, (_, i) => i * 100 + 7);
    const query = row(1);
    const result = index.search(query, 10, { filter: { allowedKeys: allowed } });
    expect(result.keys.length).toBe(10);
    for (const key of result.keys) expect(allowed).toContain(Number(key));
    const exact = index.exactSearch(query, 10, { filter: { allowedKeys: allowed } });
    expect(Array.from(result.keys)).toEqual(Array.from(exact.keys));
  });

  test("allowedKeys admitting 20% go through the walk and agree with the exact scan", () => {
    const { index, row } = filled(3000);
    const allowed = Array.from({ length: 600 }, (_, i) => i * 5 + 3);
    for (const q of [0, 1, 2, 500, 2999]) {
      const result = index.search(row(q), 10, { filter: { allowedKeys: allowed } });
      expect(result.keys.length).toBe(10);
      for (const key of result.keys) expect(key % 5n).toBe(3n);
      const exact = index.exactSearch(row(q), 10, { filter: { allowedKeys: allowed } });
      expect(Array.from(result.keys)).toEqual(Array.from(exact.keys));
    }
  });

  test("allowedKeys: fewer admitted than k returns exactly the admitted ones present", () => {
    const { index, row } = filled(500);
    index.remove(3);
    const result = index.search(row(0), 10, { filter: { allowedKeys: [3, 4, 4, 5, 10_000] } });
    expect(Array.from(result.keys).sort()).toEqual([4n, 5n]);
    expect(index.search(row(0), 10, { filter: { allowedKeys: [] } }).keys.length).toBe(0);
  });

  test("predicate: only admitted keys, k of them, same as the exact filtered scan", () => {
    const { index, row } = filled(3000);
    const calls: bigint[] = [];
    const predicate = (key: bigint) => {
      calls.push(key);
      return key % 97n === 0n;
    };
    const result = index.search(row(2), 10, { filter: { predicate } });
    expect(result.keys.length).toBe(10);
    for (const key of result.keys) expect(key % 97n).toBe(0n);
    expect(calls.length).toBeGreaterThan(0);
    const exact = index.exactSearch(row(2), 10, { filter: { predicate } });
    expect(Array.from(result.keys)).toEqual(Array.from(exact.keys));
  });

  test("measuring allowed keys directly gives the scan's keys and distances, for every quantization", () => {
    for (const quantization of ["f32", "f16", "i8"] as const) {
      const { index, row } = filled(1500, { quantization });
      index.remove(30);
      const allowed = new Set(Array.from({ length: 40 }, (_, i) => BigInt(i * 15)));
      for (const q of [0, 31, 777]) {
        const direct = index.search(row(q), 10, { filter: { allowedKeys: allowed } });
        const scanned = index.exactSearch(row(q), 10, {
          filter: { predicate: (key) => allowed.has(key) },
        });
        expect(Array.from(direct.keys)).toEqual(Array.from(scanned.keys));
        expect(Array.from(direct.distances)).toEqual(Array.from(scanned.distances));
        expect(Array.from(direct.keys)).not.toContain(30n);
      }
    }
  });

  test("a narrow walk (expansionSearch 1, connectivity 2) still returns k admitted keys", () => {
    const { index, row } = filled(2000, { expansionSearch: 1, connectivity: 2 });
    const predicate = (key: bigint) => key % 50n === 1n;
    const allowedKeys = Array.from({ length: 400 }, (_, i) => i * 5);
    for (const q of [0, 7, 1999]) {
      const byPredicate = index.search(row(q), 10, { filter: { predicate } });
      expect(byPredicate.keys.length).toBe(10);
      for (const key of byPredicate.keys) expect(key % 50n).toBe(1n);
      const bySet = index.search(row(q), 10, { filter: { allowedKeys } });
      expect(bySet.keys.length).toBe(10);
      for (const key of bySet.keys) expect(key % 5n).toBe(0n);
    }
  });

  test("a throwing predicate surfaces its error and leaves the index usable", () => {
    const { index, row } = filled(200);
    const boom = new Error("predicate failed");
    expect(() =>
      index.search(row(0), 5, {
        filter: {
          predicate: () => {
            throw boom;
          },
        },
      }),
    ).toThrow(boom);
    expect(index.search(row(0), 1).keys[0]).toBe(0n);
  });

  test("a predicate that calls back into its index is stopped by an assertion", () => {
    const { index, row } = filled(50);
    expect(() =>
      index.search(row(0), 5, { filter: { predicate: () => index.contains(1) } }),
    ).toThrow(AssertionError);
    expect(index.search(row(0), 1).keys[0]).toBe(0n);
  });

  test("allowed keys out of range are rejected", () => {
    const { index, row } = filled(10);
    const error = caught(() => index.search(row(0), 1, { filter: { allowedKeys: [-1] } }));
    expect(error.details.field).toBe("filter.allowedKeys");
  });
});

describe("VectorIndex serialization and determinism", () => {
  test("serialize → load gives identical search results", () => {
    const { index, row } = filled(1000, { metric: "cos", quantization: "f16", connectivity: 12 });
    index.remove(17);
    const bytes = index.serialize();
    const header = readSerializedHeader(bytes);
    expect(header).toEqual({ metric: "cos", quantization: "f16", dimensions: 16, count: 999 });
    const copy = loadVectorIndex(bytes);
    open.push(copy);
    expect(copy.size()).toBe(999);
    expect(copy.contains(17)).toBe(false);
    for (let q = 0; q < 50; q++) {
      const a = index.search(row(q), 10);
      const b = copy.search(row(q), 10);
      expect(Array.from(b.keys)).toEqual(Array.from(a.keys));
      expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
    }
    expect(copy.serialize()).toEqual(bytes);
    copy.add(100_000, row(3));
    expect(copy.size()).toBe(1000);
  });

  test("a load streams: no copy of the serialized bytes stays in the module's memory; trailing bytes are refused", () => {
    // 24 MiB of vectors: past the module's initial memory, so a second copy would show.
    const dims = 1024;
    const count = 6000;
    const random = seededRandom(3);
    const index = make({ dimensions: dims, expansionAdd: 16 });
    const data = Float32Array.from({ length: count * dims }, () => random() - 0.5);
    index.addBatch(
      Array.from({ length: count }, (_, i) => i),
      data,
    );
    const bytes = index.serialize();
    const built = index.memoryUsage().wasmMemoryBytes;
    const copy = loadVectorIndex(bytes);
    open.push(copy);
    // Loading through one buffer held the whole serialization in the module as well (~1.7x).
    expect(copy.memoryUsage().wasmMemoryBytes).toBeLessThan(built + bytes.length / 2);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(caught(() => loadVectorIndex(longer)).details).toMatchObject({
      field: "bytes",
      read_bytes: bytes.length,
    });
  }, 60_000);

  test("load into an existing index replaces its contents; mismatches are rejected", () => {
    const { index } = filled(100);
    const bytes = index.serialize();
    const target = make({ dimensions: 16 });
    target.add(999, new Float32Array(16).fill(1));
    target.load(bytes);
    expect(target.size()).toBe(100);
    expect(target.contains(999)).toBe(false);
    const other = make({ dimensions: 8 });
    expect(caught(() => other.load(bytes)).details.field).toBe("bytes");
    const l2 = make({ dimensions: 16, metric: "l2sq" });
    expect(caught(() => l2.load(bytes)).details.field).toBe("bytes");
  });

  test("garbage, truncated and empty bytes are rejected without a crash", () => {
    const { index } = filled(50);
    const bytes = index.serialize();
    for (const bad of [new Uint8Array(0), new Uint8Array(100).fill(7), bytes.subarray(0, 40)]) {
      expect(caught(() => loadVectorIndex(bad)).code).toBe("validation_failed");
    }
    expect(index.size()).toBe(50);
  });

  test("the same inserts in the same order give identical bytes and results", () => {
    const a = filled(800, { quantization: "i8" });
    const b = filled(800, { quantization: "i8" });
    a.index.remove(10);
    b.index.remove(10);
    expect(b.index.serialize()).toEqual(a.index.serialize());
    for (let q = 0; q < 20; q++) {
      const query = a.row(q * 7);
      expect(Array.from(b.index.search(query, 10).keys)).toEqual(
        Array.from(a.index.search(query, 10).keys),
      );
    }
  });
});
