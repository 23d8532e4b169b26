import { describe, expect, test } from "bun:test";
import {
  copyVectorIn,
  sortedKeySet,
  toVectorKey,
  VECTOR_KEY_MAX,
  type VectorInput,
  type VectorKey,
} from "../../../src/search/vector-input.ts";
import { caught } from "../../support/errors.ts";

describe("toVectorKey", () => {
  test("maps bigints and safe integers to the same bigint", () => {
    expect(toVectorKey(0, "key")).toBe(0n);
    expect(toVectorKey(42, "key")).toBe(42n);
    expect(toVectorKey(42n, "key")).toBe(42n);
    expect(toVectorKey(Number.MAX_SAFE_INTEGER, "key")).toBe(2n ** 53n - 1n);
    expect(toVectorKey(VECTOR_KEY_MAX, "key")).toBe(2n ** 64n - 2n);
  });

  const bad: VectorKey[] = [-1, -1n, 1.5, Number.NaN, 2 ** 53, 2n ** 64n - 1n, 2n ** 64n];
  for (const key of bad) {
    test(`rejects ${String(key)} naming the field`, () => {
      const error = caught(() => toVectorKey(key, "keys[3]"));
      expect(error.code).toBe("validation_failed");
      expect(error.details.field).toBe("keys[3]");
    });
  }
});

describe("copyVectorIn", () => {
  test("copies Float32Array, Float64Array and number[] at the offset", () => {
    const heap = new Float32Array(12);
    copyVectorIn(heap, 0, new Float32Array([1, 2, 3]), 3, "vector");
    copyVectorIn(heap, 3, new Float64Array([4, 5, 6]), 3, "vector");
    copyVectorIn(heap, 6, [7, 8, 9], 3, "vector");
    expect(Array.from(heap.subarray(0, 9))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(heap[9]).toBe(0);
  });

  const nonFinite: [string, VectorInput][] = [
    ["NaN in Float32Array", new Float32Array([1, Number.NaN, 0])],
    ["Infinity in number[]", [1, 0, Number.POSITIVE_INFINITY]],
    ["-Infinity in Float64Array", new Float64Array([Number.NEGATIVE_INFINITY, 0, 0])],
    ["1e39 (overflows f32)", [0, 1e39, 0]],
  ];
  for (const [name, vector] of nonFinite) {
    test(`rejects ${name} as not_finite`, () => {
      const error = caught(() => copyVectorIn(new Float32Array(3), 0, vector, 3, "query"));
      expect(error.code).toBe("validation_failed");
      expect(error.details).toMatchObject({ field: "query", reason: "not_finite" });
    });
  }

  test("rejects a wrong dimension, one short and one long", () => {
    for (const vector of [
      [1, 2],
      [1, 2, 3, 4],
    ]) {
      const error = caught(() => copyVectorIn(new Float32Array(8), 0, vector, 3, "vector"));
      expect(error.details).toMatchObject({
        field: "vector",
        reason: "dimension_mismatch",
        expected: 3,
        actual: vector.length,
      });
    }
  });

  test("rejects values that are not arrays of numbers", () => {
    for (const vector of ["abc", new Int32Array(3), { length: 3 }, null]) {
      const error = caught(() =>
        copyVectorIn(new Float32Array(3), 0, vector as unknown as VectorInput, 3, "vector"),
      );
      expect(error.details).toMatchObject({ field: "vector", reason: "wrong_type" });
    }
  });
});

describe("sortedKeySet", () => {
  test("sorts numerically, removes duplicates, mixes bigint and number", () => {
    const set = sortedKeySet([10, 2n, 2, 2n ** 63n, 0, 10n], 10);
    expect(Array.from(set)).toEqual([0n, 2n, 10n, 2n ** 63n]);
    expect(sortedKeySet([], 10).length).toBe(0);
  });

  test("accepts exactly the limit, rejects one past it", () => {
    expect(sortedKeySet([1, 2, 3], 3).length).toBe(3);
    const error = caught(() => sortedKeySet([1, 2, 3, 4], 3));
    expect(error.code).toBe("payload_too_large");
    expect(error.details.field).toBe("filter.allowedKeys");
  });

  test("a BigUint64Array takes the native path with the same result and checks", () => {
    const keys = BigUint64Array.from([10n, 2n, 2n ** 63n, 0n, 10n, 2n]);
    expect(Array.from(sortedKeySet(keys, 10))).toEqual([0n, 2n, 10n, 2n ** 63n]);
    const ascending = BigUint64Array.from([1n, 5n, 2n ** 40n + 3n, 2n ** 40n + 4n]);
    expect(sortedKeySet(ascending, 10)).toBe(ascending);
    expect(
      Array.from(sortedKeySet(BigUint64Array.from([2n ** 40n + 4n, 2n ** 40n + 3n]), 10)),
    ).toEqual([2n ** 40n + 3n, 2n ** 40n + 4n]);
    expect(caught(() => sortedKeySet(BigUint64Array.from([1n, 2n ** 64n - 1n]), 10)).code).toBe(
      "validation_failed",
    );
    expect(caught(() => sortedKeySet(new BigUint64Array(4), 3)).code).toBe("payload_too_large");
  });

  test("rejects a bad key naming the field", () => {
    const error = caught(() => sortedKeySet([1, -1], 10));
    expect(error.code).toBe("validation_failed");
    expect(error.details.field).toBe("filter.allowedKeys");
  });
});
