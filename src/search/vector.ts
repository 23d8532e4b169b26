/**
 * The dense half of the context engine: a USearch HNSW index running in the embedded
 * WebAssembly module. One index owns one module instance (see usearch-instance.ts).
 *
 * `VectorIndex` composes the parts: its handle and scratch in module memory
 * (vector-memory.ts), its jobs on the helper thread (vector-background.ts), the searches
 * (vector-walk.ts) and the bytes (serialize-vectors.ts). It owns the lifecycle each part relies
 * on: every call checks the index is live, joins a batch the helper is inserting, and refuses
 * to run from inside its own filter predicate or while a background search is out.
 *
 * The binding is synchronous: each call runs to completion in the module, so no two calls
 * interleave on one index. A filter predicate must not call back into the index it filters.
 */
import { assert, VltairError } from "../core/mod.ts";
import { checkSerializedSize, loadVectors, serializeVectors } from "./serialize-vectors.ts";
import { readSerializedHeader } from "./serialized-header.ts";
import { VectorBackground } from "./vector-background.ts";
import { toVectorKey, type VectorInput, type VectorKey } from "./vector-input.ts";
import { F32_KIND, type VectorMatches, VectorMemory } from "./vector-memory.ts";
import {
  checkInteger,
  type ResolvedVectorIndexOptions,
  resolveVectorIndexOptions,
  VECTOR_LIMITS,
  type VectorIndexOptions,
  type VectorMetric,
  type VectorQuantization,
} from "./vector-options.ts";
import { type VectorFilter, vectorWalk } from "./vector-walk.ts";

/** Options of `search` and `exactSearch`. */
export interface VectorSearchOptions {
  filter?: VectorFilter;
  /**
   * HNSW `ef` for this call only (default: the index's `expansionSearch`), e.g. a wider list
   * when a caller asks for many candidates. Integer in [1, 4096]; ignored by `exactSearch`.
   */
  expansionSearch?: number;
}

/** Memory held by an index. */
export interface VectorMemoryUsage {
  /** USearch's own account of the graph and vectors. */
  indexBytes: number;
  /** The module instance's linear memory (what the process really holds for this index). */
  wasmMemoryBytes: number;
}

/** Options of `loadVectorIndex`: the search-time knobs, which serialized bytes do not carry. */
export interface LoadVectorIndexOptions {
  expansionAdd?: number;
  expansionSearch?: number;
  /** See {@link VectorIndexOptions.helperThread}. */
  helperThread?: boolean;
}

/** Smallest batch worth a trip to the helper thread (posting and joining cost ~20–50 µs). */
export const BACKGROUND_BATCH_MIN = 16;

/** A USearch HNSW index in its own WebAssembly instance. Create with `createVectorIndex`. */
export class VectorIndex {
  /** The options in force (`expansionSearch` follows `setExpansionSearch`). */
  options: ResolvedVectorIndexOptions;
  private readonly memory: VectorMemory;
  private readonly background: VectorBackground;
  private disposed = false;

  constructor(options: VectorIndexOptions) {
    this.options = resolveVectorIndexOptions(options);
    this.memory = new VectorMemory(this.options);
    this.background = new VectorBackground(this.memory, {
      helperThread: this.options.helperThread,
    });
  }

  get dimensions(): number {
    return this.options.dimensions;
  }

  get metric(): VectorMetric {
    return this.options.metric;
  }

  get quantization(): VectorQuantization {
    return this.options.quantization;
  }

  /**
   * True while the helper thread still inserts a batch `addBatch` handed it: the next call on
   * the index would wait for it. Never waits itself.
   */
  get inserting(): boolean {
    return this.background.inserting;
  }

  private live(): VectorMemory {
    assert(!this.disposed, "vector index used after dispose()");
    assert(!this.memory.filtering, "vector index called from its own filter predicate");
    assert(
      !this.background.searchOut,
      "a background search must be collected before the next call",
    );
    this.join();
    return this.memory;
  }

  /**
   * Waits for the batch the helper thread is inserting, if any, and frees its staging. Throws
   * like a synchronous `addBatch` would have when the insertion failed.
   */
  join(): void {
    this.background.join();
  }

  /**
   * Changes the candidate list width of later searches (HNSW `ef`, the `expansionSearch`
   * option): wider finds more of the true neighbours and costs more. Throws
   * `validation_failed` (field `expansionSearch`) outside [1, 4096].
   */
  setExpansionSearch(expansionSearch: number): void {
    const memory = this.live();
    const wasm = memory.wasm;
    checkInteger("expansionSearch", expansionSearch, 1, VECTOR_LIMITS.expansionMax);
    wasm.clearError();
    wasm.exports.usearch_change_expansion_search(memory.handle, expansionSearch, wasm.errorSlot);
    memory.check("setExpansionSearch");
    this.options = { ...this.options, expansionSearch };
  }

  /** Number of vectors in the index. */
  size(): number {
    return this.live().size();
  }

  /** True when a vector is stored under `key`. */
  contains(key: VectorKey): boolean {
    const memory = this.live();
    const k = toVectorKey(key, "key");
    return memory.wasm.exports.usearch_contains(memory.handle, k, memory.wasm.errorSlot) !== 0;
  }

  /**
   * Adds one vector. Throws `validation_failed` (field `key` or `vector`) on a bad key, wrong
   * dimension, NaN or ±Infinity, and `conflict` when `key` is already present.
   */
  add(key: VectorKey, vector: VectorInput): void {
    const memory = this.live();
    const wasm = memory.wasm;
    const k = toVectorKey(key, "key");
    memory.setQuery(vector, "vector");
    if (wasm.exports.usearch_contains(memory.handle, k, wasm.errorSlot) !== 0) {
      throw new VltairError("conflict", "a vector with this key already exists", {
        details: { field: "key", key: k.toString() },
      });
    }
    memory.ensureCapacity(1);
    wasm.clearError();
    wasm.exports.usearch_add(memory.handle, k, memory.queryPointer, F32_KIND, wasm.errorSlot);
    memory.check("add");
  }

  /**
   * Adds `keys.length` vectors, given as an array of vectors or one flat `Float32Array` of
   * `keys.length × dimensions` values. Every key and vector is checked before any is added,
   * so a validation error leaves the index unchanged.
   *
   * With `background`, a batch of at least {@link BACKGROUND_BATCH_MIN} vectors is inserted by
   * the helper thread (vector-thread.ts) and this call returns once it is staged; the next call
   * on the index waits for it, so callers see the same index either way. Without a helper
   * thread (config `vector_threads` 0, or a runtime that cannot start one) it inserts here.
   */
  addBatch(
    keys: readonly VectorKey[],
    vectors: Float32Array | readonly VectorInput[],
    options: { background?: boolean } = {},
  ): void {
    const memory = this.live();
    const batch = memory.stage(keys, vectors);
    let posted = false;
    try {
      memory.ensureCapacity(batch.count);
      memory.wasm.clearError();
      const background = options.background === true && batch.count >= BACKGROUND_BATCH_MIN;
      posted = background && this.background.postBatch(batch);
      if (posted) return;
      const added = memory.insertStaged(batch);
      memory.check("addBatch");
      assert(added === batch.count, "vltair_add_batch added fewer vectors without an error");
    } finally {
      if (!posted) memory.freeStaged(batch);
    }
  }

  /** Removes the vector under `key`; returns false when there was none. */
  remove(key: VectorKey): boolean {
    const memory = this.live();
    const wasm = memory.wasm;
    const k = toVectorKey(key, "key");
    wasm.clearError();
    const removed = wasm.exports.usearch_remove(memory.handle, k, wasm.errorSlot) >>> 0;
    memory.check("remove");
    return removed > 0;
  }

  /**
   * Approximate k nearest neighbours (HNSW walk). With `options.filter`, only admitted keys
   * are returned and the walk continues past rejected nodes; when the walk finds fewer than
   * `k` admitted vectors and more may exist, an exact filtered scan completes the answer, so
   * `min(k, admitted vectors)` results always come back.
   */
  search(query: VectorInput, k: number, options: VectorSearchOptions = {}): VectorMatches {
    const expansion = options.expansionSearch;
    const standing = this.options.expansionSearch;
    if (expansion === undefined || expansion === standing) {
      return this.run(query, k, options.filter, false);
    }
    this.setExpansionSearch(expansion);
    try {
      return this.run(query, k, options.filter, false);
    } finally {
      this.setExpansionSearch(standing);
    }
  }

  /**
   * Starts the same search as `search(query, k)` (unfiltered, approximate) on the helper thread
   * and returns the function that waits for and returns its matches, so the caller can do other
   * work meanwhile (the sparse half of a hybrid search). Nothing else may be called on the
   * index until the matches are collected. Returns null without a helper thread: the caller
   * then searches synchronously.
   */
  searchInBackground(query: VectorInput, k: number): (() => VectorMatches) | null {
    this.live();
    checkInteger("k", k, 1, VECTOR_LIMITS.kMax);
    return this.background.postSearch(query, k);
  }

  /** Exact k nearest neighbours by a full scan of the index (the recall reference). */
  exactSearch(query: VectorInput, k: number, options: VectorSearchOptions = {}): VectorMatches {
    return this.run(query, k, options.filter, true);
  }

  private run(
    query: VectorInput,
    k: number,
    filter: VectorFilter | undefined,
    exact: boolean,
  ): VectorMatches {
    const memory = this.live();
    checkInteger("k", k, 1, VECTOR_LIMITS.kMax);
    memory.setQuery(query, "query");
    return memory.matches(vectorWalk(memory, k, filter, exact));
  }

  /**
   * The index as bytes (USearch's own format, header included). Deterministic: the same
   * inserts in the same order give the same bytes on every runtime.
   */
  serialize(): Uint8Array {
    return serializeVectors(this.live());
  }

  /**
   * Replaces the contents with a serialized index of the same dimensions, metric and
   * quantization; throws `validation_failed` (field `bytes`) otherwise.
   */
  load(bytes: Uint8Array): void {
    loadVectors(this.live(), this.options, bytes);
  }

  /** Memory held by this index. */
  memoryUsage(): VectorMemoryUsage {
    const memory = this.live();
    const wasm = memory.wasm;
    return {
      indexBytes: wasm.exports.usearch_memory_usage(memory.handle, wasm.errorSlot) >>> 0,
      wasmMemoryBytes: wasm.memoryBytes(),
    };
  }

  /** Allocations the binding made in WASM memory and has not freed (for leak checks). */
  outstandingAllocations(): { count: number; sizeBytes: number } {
    return this.live().wasm.outstanding();
  }

  /** Frees the index; its module instance and memory become garbage. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.background.close();
    this.memory.free();
    this.disposed = true;
  }
}

/**
 * Creates an empty index.
 *
 * @example
 * ```ts
 * const index = createVectorIndex({ dimensions: 384, metric: "cos" });
 * index.add(1n, embedding);
 * const { keys, distances } = index.search(query, 10);
 * index.dispose();
 * ```
 */
export function createVectorIndex(options: VectorIndexOptions): VectorIndex {
  return new VectorIndex(options);
}

/**
 * Creates an index from `serialize()` bytes; dimensions, metric and quantization come from
 * the bytes' header.
 *
 * @example
 * ```ts
 * const copy = loadVectorIndex(index.serialize(), { expansionSearch: 64 });
 * ```
 */
export function loadVectorIndex(
  bytes: Uint8Array,
  options: LoadVectorIndexOptions = {},
): VectorIndex {
  checkSerializedSize(bytes);
  const header = readSerializedHeader(bytes);
  if (header.metric === "unsupported" || header.quantization === "unsupported") {
    throw new VltairError("validation_failed", "serialized index uses an unsupported kind", {
      details: { field: "bytes", actual: header },
    });
  }
  const index = new VectorIndex({
    dimensions: header.dimensions,
    metric: header.metric,
    quantization: header.quantization,
    capacity: Math.max(header.count, 1),
    ...options,
  });
  try {
    index.load(bytes);
  } catch (error) {
    index.dispose();
    throw error;
  }
  return index;
}
