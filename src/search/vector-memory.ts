/**
 * One vector index's place in its WebAssembly module instance: the USearch handle, the scratch
 * buffers every call reuses (one query vector, `kMax` result keys and distances), the C API's
 * error checks, capacity growth, and the insertion of a staged batch. The instance itself (its
 * memory, views and allocations) is usearch-instance.ts; this file is what one index keeps in it.
 *
 * Nothing here checks the index's lifecycle (disposed, joined, not inside a predicate): the
 * `VectorIndex` that owns this does that before it calls in.
 */
import { VltairError } from "../core/mod.ts";
import { UsearchInstance } from "./usearch-instance.ts";
import { copyVectorIn, toVectorKey, type VectorInput, type VectorKey } from "./vector-input.ts";
import {
  METRIC_KIND,
  type ResolvedVectorIndexOptions,
  SCALAR_KIND,
  VECTOR_LIMITS,
} from "./vector-options.ts";

/** Results of a search, best first: `keys[i]` is at `distances[i]`. */
export interface VectorMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}

/** A batch copied into module memory, waiting to be inserted (by this thread or the helper). */
export interface StagedBatch {
  keysPointer: number;
  vectorsPointer: number;
  count: number;
}

/** The scalar kind of the query and staged vectors: the binding always hands the module f32. */
export const F32_KIND = SCALAR_KIND.f32;

/**
 * USearch reports failures only as C strings. In 2.25.3 every allocation failure says
 * "memory" ("Out of memory!", "Failed to allocate memory for ..."), which becomes
 * `unavailable`; anything else the binding's own checks should have prevented is `internal`.
 */
export function moduleError(operation: string, message: string): VltairError {
  const code = /memory/i.test(message) ? "unavailable" : "internal";
  return new VltairError(code, `vector ${operation} failed: ${message}`, {
    details: { operation, reason: message },
  });
}

/** An index's handle and scratch buffers in its own module instance. */
export class VectorMemory {
  readonly wasm: UsearchInstance;
  readonly handle: number;
  readonly dimensions: number;
  /** Scratch for one query vector (dimensions × f32), reused by every call. */
  readonly queryPointer: number;
  /** Scratch for `kMax` result keys (u64) and distances (f32). */
  readonly keysPointer: number;
  readonly distancesPointer: number;
  /** True while a predicate runs: the scratch buffers are in use, so the index must not be. */
  filtering = false;
  /** Capacity reserved up front, and the least any growth reserves. */
  private readonly capacityMin: number;

  constructor(o: ResolvedVectorIndexOptions) {
    this.wasm = new UsearchInstance();
    const wasm = this.wasm;
    this.dimensions = o.dimensions;
    this.capacityMin = o.capacity;
    wasm.clearError();
    this.handle =
      wasm.exports.vltair_init(
        METRIC_KIND[o.metric],
        SCALAR_KIND[o.quantization],
        o.dimensions,
        o.connectivity,
        o.expansionAdd,
        o.expansionSearch,
        wasm.errorSlot,
      ) >>> 0;
    const error = wasm.takeError();
    if (error !== undefined || this.handle === 0) throw moduleError("init", error ?? "null index");
    this.queryPointer = wasm.alloc(o.dimensions * 4);
    this.keysPointer = wasm.alloc(VECTOR_LIMITS.kMax * 8);
    this.distancesPointer = wasm.alloc(VECTOR_LIMITS.kMax * 4);
    this.reserve(o.capacity);
  }

  /** Throws the module's error of the last call as `operation`'s failure, if there was one. */
  check(operation: string): void {
    const error = this.wasm.takeError();
    if (error !== undefined) throw moduleError(operation, error);
  }

  reserve(capacity: number): void {
    this.wasm.clearError();
    this.wasm.exports.usearch_reserve(this.handle, capacity, this.wasm.errorSlot);
    this.check("reserve");
  }

  /** Room for `extra` more vectors, doubling so that n adds cost O(log n) reallocations. */
  ensureCapacity(extra: number): void {
    const wasm = this.wasm;
    const size = wasm.exports.usearch_size(this.handle, wasm.errorSlot) >>> 0;
    const capacity = wasm.exports.usearch_capacity(this.handle, wasm.errorSlot) >>> 0;
    if (size + extra <= capacity) return;
    this.reserve(Math.max(size + extra, capacity * 2, this.capacityMin));
  }

  /** Number of vectors in the index. */
  size(): number {
    return this.wasm.exports.usearch_size(this.handle, this.wasm.errorSlot) >>> 0;
  }

  /** Checks `vector` (named `field` in errors) and copies it into the query scratch. */
  setQuery(vector: VectorInput, field: string): void {
    copyVectorIn(this.wasm.f32(), this.queryPointer >>> 2, vector, this.dimensions, field);
  }

  /** The first `found` results of the last search, copied out of the module's memory. */
  matches(found: number): VectorMatches {
    const wasm = this.wasm;
    const keysStart = this.keysPointer >>> 3;
    const distancesStart = this.distancesPointer >>> 2;
    return {
      keys: wasm.u64().slice(keysStart, keysStart + found),
      distances: wasm.f32().slice(distancesStart, distancesStart + found),
    };
  }

  /**
   * Checks a batch and copies it into module memory. Throws `payload_too_large` past the staging
   * limit, `validation_failed` (field `vectors`, `keys[i]` or `vectors[i]`) on a bad length, key
   * or vector, and `conflict` on a key repeated or already present; the staging is freed then.
   */
  stage(keys: readonly VectorKey[], vectors: Float32Array | readonly VectorInput[]): StagedBatch {
    const wasm = this.wasm;
    const count = keys.length;
    const dims = this.dimensions;
    const stagingBytes = count * (dims * 4 + 8);
    if (stagingBytes > VECTOR_LIMITS.batchBytesMax) {
      throw new VltairError("payload_too_large", "batch exceeds the staging limit", {
        details: {
          field: "vectors",
          size_bytes: stagingBytes,
          limit_bytes: VECTOR_LIMITS.batchBytesMax,
        },
      });
    }
    const flat = vectors instanceof Float32Array;
    const expectedLength = flat ? count * dims : count;
    if (vectors.length !== expectedLength) {
      throw new VltairError("validation_failed", "vectors and keys differ in length", {
        details: { field: "vectors", expected: expectedLength, actual: vectors.length },
      });
    }
    const keysPointer = wasm.alloc(count * 8);
    let vectorsPointer: number;
    try {
      vectorsPointer = wasm.alloc(count * dims * 4);
    } catch (error) {
      // Out of module memory for the vectors: the keys' block is not kept.
      wasm.free(keysPointer);
      throw error;
    }
    const batch = { keysPointer, vectorsPointer, count };
    try {
      this.copyBatch(keys, vectors, batch);
    } catch (error) {
      this.freeStaged(batch);
      throw error;
    }
    return batch;
  }

  /** Copies and checks a batch into WASM memory; rejects duplicates within it and in the index. */
  private copyBatch(
    keys: readonly VectorKey[],
    vectors: Float32Array | readonly VectorInput[],
    batch: StagedBatch,
  ): void {
    const wasm = this.wasm;
    const dims = this.dimensions;
    const seen = new Set<bigint>();
    // Nothing below allocates in the module, so its memory cannot grow: one pair of views
    // serves the whole batch instead of a lookup of the memory's buffer per vector.
    const u64 = wasm.u64();
    const f32 = wasm.f32();
    for (let i = 0; i < keys.length; i++) {
      const k = toVectorKey(keys[i] as VectorKey, `keys[${i}]`);
      if (seen.has(k) || wasm.exports.usearch_contains(this.handle, k, wasm.errorSlot) !== 0) {
        throw new VltairError("conflict", "a vector with this key already exists", {
          details: { field: `keys[${i}]`, key: k.toString() },
        });
      }
      seen.add(k);
      u64[(batch.keysPointer >>> 3) + i] = k;
      const vector =
        vectors instanceof Float32Array
          ? vectors.subarray(i * dims, (i + 1) * dims)
          : (vectors[i] as VectorInput);
      copyVectorIn(f32, (batch.vectorsPointer >>> 2) + i * dims, vector, dims, `vectors[${i}]`);
    }
  }

  /** Inserts a staged batch on this thread; returns how many were added. */
  insertStaged(batch: StagedBatch): number {
    const wasm = this.wasm;
    wasm.clearError();
    return (
      wasm.exports.vltair_add_batch(
        this.handle,
        batch.keysPointer,
        batch.vectorsPointer,
        batch.count,
        this.dimensions,
        wasm.errorSlot,
      ) >>> 0
    );
  }

  /** Frees a batch's staging once it is inserted (or refused). */
  freeStaged(batch: StagedBatch): void {
    this.wasm.free(batch.vectorsPointer);
    this.wasm.free(batch.keysPointer);
  }

  /** Frees the index and its scratch; the instance and its memory become garbage. */
  free(): void {
    const wasm = this.wasm;
    wasm.exports.usearch_free(this.handle, wasm.errorSlot);
    wasm.free(this.distancesPointer);
    wasm.free(this.keysPointer);
    wasm.free(this.queryPointer);
  }
}
