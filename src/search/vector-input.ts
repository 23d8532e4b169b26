/**
 * Keys and vectors crossing into WASM memory: checked while copied, in one pass.
 *
 * Copy contract (CE-5): a vector given to `add`, `addBatch` or `search` is copied exactly once,
 * from the caller's array straight into the module's memory; nothing is copied in JS first.
 * A `Float32Array` is copied with `TypedArray.set` and then scanned in place; a
 * `Float64Array` or `number[]` is converted element by element during the copy. Results are
 * copied out once (`k` keys and distances) so they stay valid after the next call.
 */
import { VltairError } from "../core/mod.ts";

/**
 * A vector key: a `bigint` in [0, 2^64 − 2], or a non-negative safe-integer `number`
 * (0..2^53 − 1), which maps to the same `bigint`. 2^64 − 1 is reserved by USearch for free
 * slots. Results always carry keys as `bigint`.
 */
export type VectorKey = bigint | number;

/** A vector as given by callers: any array of finite numbers of the index's dimension. */
export type VectorInput = Float32Array | Float64Array | readonly number[];

/** Largest valid key: 2^64 − 2. */
export const VECTOR_KEY_MAX = 0xffff_ffff_ffff_fffen;

/** Converts a key to `bigint`; throws `validation_failed` naming `field` when out of range. */
export function toVectorKey(key: VectorKey, field: string): bigint {
  if (typeof key === "bigint") {
    if (key >= 0n && key <= VECTOR_KEY_MAX) return key;
  } else if (Number.isSafeInteger(key) && key >= 0) {
    return BigInt(key);
  }
  throw new VltairError("validation_failed", `${field} must be an integer in [0, 2^64 - 2]`, {
    details: { field, actual: String(key) },
  });
}

function wrongLength(field: string, expected: number, actual: number): VltairError {
  return new VltairError(
    "validation_failed",
    `${field} has ${actual} dimensions, expected ${expected}`,
    {
      details: { field, reason: "dimension_mismatch", expected, actual },
    },
  );
}

function notFinite(field: string, index: number): VltairError {
  return new VltairError("validation_failed", `${field}[${index}] is NaN or infinite`, {
    details: { field, reason: "not_finite", index },
  });
}

/** Throws `validation_failed` unless `vector` is an array type the binding accepts. */
function checkArray(vector: unknown, field: string): void {
  if (
    vector instanceof Float32Array ||
    vector instanceof Float64Array ||
    Array.isArray(vector) === true
  ) {
    return;
  }
  throw new VltairError(
    "validation_failed",
    `${field} must be a Float32Array, Float64Array or number[]`,
    {
      details: { field, reason: "wrong_type" },
    },
  );
}

/**
 * Copies `vector` into `heap` at element `offset` (f32 units), checking its length against
 * `dimensions` and every component for NaN and ±Infinity (also after narrowing to f32, so
 * 1e39 is rejected). Throws `validation_failed` with `details.field` = `field`.
 */
export function copyVectorIn(
  heap: Float32Array,
  offset: number,
  vector: VectorInput,
  dimensions: number,
  field: string,
): void {
  checkArray(vector, field);
  if (vector.length !== dimensions) throw wrongLength(field, dimensions, vector.length);
  if (vector instanceof Float32Array) {
    heap.set(vector, offset);
  } else {
    for (let i = 0; i < dimensions; i++) heap[offset + i] = vector[i] as number;
  }
  for (let i = 0; i < dimensions; i++) {
    const value = heap[offset + i] as number;
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity.
    if (value - value !== 0) throw notFinite(field, i);
  }
}

/**
 * The keys of an allowed-key filter as a sorted, duplicate-free `BigUint64Array` (what the
 * module's binary search and key-by-key pass expect). Throws `validation_failed` on a bad key
 * and `payload_too_large` past `keyCountMax` keys (field `filter.allowedKeys`).
 */
export function sortedKeySet(keys: Iterable<VectorKey>, keyCountMax: number): BigUint64Array {
  if (keys instanceof BigUint64Array) return sortedUnique(keys, keyCountMax);
  const converted: bigint[] = [];
  for (const key of keys) {
    if (converted.length >= keyCountMax) {
      throw new VltairError("payload_too_large", "too many allowed keys", {
        details: { field: "filter.allowedKeys", limit: keyCountMax },
      });
    }
    converted.push(toVectorKey(key, "filter.allowedKeys"));
  }
  const sorted = BigUint64Array.from(converted).sort();
  let unique = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[unique - 1]) sorted[unique++] = sorted[i] as bigint;
  }
  return sorted.subarray(0, unique);
}

/**
 * The fast path of {@link sortedKeySet} for keys already in a `BigUint64Array` (every value is
 * a valid key by its type): a native sort of a copy, no per-key BigInt conversion in JS. An
 * already sorted, duplicate-free array is returned as it is.
 */
function sortedUnique(keys: BigUint64Array, keyCountMax: number): BigUint64Array {
  if (keys.length > keyCountMax) {
    throw new VltairError("payload_too_large", "too many allowed keys", {
      details: { field: "filter.allowedKeys", limit: keyCountMax },
    });
  }
  // Read as 32-bit halves (little-endian: low word first), so no BigInt is made per key.
  const words = new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2);
  let strictlyAscending = true;
  for (let i = 0; i < keys.length; i++) {
    const lo = words[2 * i] as number;
    const hi = words[2 * i + 1] as number;
    if (hi === 0xffff_ffff && lo === 0xffff_ffff) {
      throw new VltairError(
        "validation_failed",
        "filter.allowedKeys must be integers in [0, 2^64 - 2]",
        {
          details: { field: "filter.allowedKeys", actual: "18446744073709551615" },
        },
      );
    }
    if (i > 0 && strictlyAscending) {
      const prevLo = words[2 * i - 2] as number;
      const prevHi = words[2 * i - 1] as number;
      strictlyAscending = prevHi < hi || (prevHi === hi && prevLo < lo);
    }
  }
  if (strictlyAscending) return keys;
  const sorted = keys.slice().sort();
  let unique = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[unique - 1]) sorted[unique++] = sorted[i] as bigint;
  }
  return sorted.subarray(0, unique);
}
