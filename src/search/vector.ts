/**
 * The dense half of the context engine: a USearch HNSW index running in the embedded
 * WebAssembly module. One index owns one module instance (see usearch-instance.ts).
 *
 * The binding is synchronous: each call runs to completion in the module, so no two calls
 * interleave on one index. A filter predicate must not call back into the index it filters.
 */
import { assert, VltairError } from "../core/mod.ts";
import { readSerializedHeader } from "./serialized-header.ts";
import { UsearchInstance } from "./usearch-instance.ts";
import {
  copyVectorIn,
  sortedKeySet,
  toVectorKey,
  type VectorInput,
  type VectorKey,
} from "./vector-input.ts";
import {
  checkInteger,
  METRIC_KIND,
  type ResolvedVectorIndexOptions,
  resolveVectorIndexOptions,
  SCALAR_KIND,
  VECTOR_LIMITS,
  type VectorIndexOptions,
  type VectorMetric,
  type VectorQuantization,
} from "./vector-options.ts";
import {
  attachToThread,
  detachFromThread,
  settle,
  type ThreadLink,
  tryPost,
} from "./vector-thread.ts";

/** Results of a search, best first: `keys[i]` is at `distances[i]`. */
export interface VectorMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}

/**
 * Admits keys during the graph walk, so a filtered search still returns `k` results when at
 * least `k` admitted vectors exist. `allowedKeys` is checked inside the module (binary search,
 * no JS call per node); `predicate` is called from the module for each visited node.
 */
export type VectorFilter =
  | { allowedKeys: Iterable<VectorKey> }
  | { predicate: (key: bigint) => boolean };

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
}

const F32_KIND = SCALAR_KIND.f32;
/**
 * An allowed-key set admitting at most this fraction of the index skips the graph walk: its
 * keys are measured one by one (exact). On 10k × 384-d (a loaded 2-core VM) a 1% set took
 * 7.6 ms per query through the walk and 0.4 ms through a filtered scan of all nodes. On 30k
 * hash-embedded code chunks with a set of neighbouring chunks (a filter that correlates with
 * the vectors, like a language or a path), measuring beat the walk up to ~20%: at 11%, 1.0 ms
 * p50 / 1.2 ms p95 against 5.1 / 9.1 ms; at 25%, 3.7 / 4.5 ms against 3.4 / 6.1 ms.
 */
const ALLOWED_DIRECT_FRACTION = 0.2;

/**
 * `serialize` copies the bytes out through a window in module memory of at least this size and
 * at least 1/SERIALIZE_PASSES_MAX of the serialized length. Each window walks the index from the
 * start, so the passes are bounded (a fixed 8 MiB window made 100k × 384-d, 161 MB, take 20
 * passes and 454 ms, and would grow quadratically), while the module grows by at most a quarter
 * of the serialized length instead of all of it.
 */
const SERIALIZE_WINDOW_BYTES_MIN = 8 * 1024 * 1024;
const SERIALIZE_PASSES_MAX = 4;

/**
 * USearch reports failures only as C strings. In 2.25.3 every allocation failure says
 * "memory" ("Out of memory!", "Failed to allocate memory for ..."), which becomes
 * `unavailable`; anything else the binding's own checks should have prevented is `internal`.
 */
function moduleError(operation: string, message: string): VltairError {
  const code = /memory/i.test(message) ? "unavailable" : "internal";
  return new VltairError(code, `vector ${operation} failed: ${message}`, {
    details: { operation, reason: message },
  });
}

/** A USearch HNSW index in its own WebAssembly instance. Create with `createVectorIndex`. */
export class VectorIndex {
  /** The options in force (`expansionSearch` follows `setExpansionSearch`). */
  options: ResolvedVectorIndexOptions;
  private readonly wasm: UsearchInstance;
  private readonly handle: number;
  /** Scratch for one query vector (dimensions × f32), reused by every call. */
  private readonly queryPointer: number;
  /** Scratch for `kMax` result keys (u64) and distances (f32). */
  private readonly keysPointer: number;
  private readonly distancesPointer: number;
  private disposed = false;
  /** The helper thread's instance over this index's memory: undefined until first needed. */
  private thread: ThreadLink | null | undefined = undefined;
  /** A batch the helper is inserting; every other call joins it first. */
  private pending: {
    sequence: number;
    keysPointer: number;
    vectorsPointer: number;
    count: number;
  } | null = null;
  /** The helper's job number of a background search not yet collected. */
  private searching: number | null = null;
  /** True while a predicate runs: the scratch buffers are in use, so the index must not be. */
  private filtering = false;

  constructor(options: VectorIndexOptions) {
    this.options = resolveVectorIndexOptions(options);
    const o = this.options;
    this.wasm = new UsearchInstance();
    const wasm = this.wasm;
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

  get dimensions(): number {
    return this.options.dimensions;
  }

  get metric(): VectorMetric {
    return this.options.metric;
  }

  get quantization(): VectorQuantization {
    return this.options.quantization;
  }

  private live(): UsearchInstance {
    assert(!this.disposed, "vector index used after dispose()");
    assert(!this.filtering, "vector index called from its own filter predicate");
    assert(this.searching === null, "a background search must be collected before the next call");
    this.join();
    return this.wasm;
  }

  /**
   * Waits for the batch the helper thread is inserting, if any, and frees its staging. Throws
   * like a synchronous `addBatch` would have when the insertion failed.
   */
  join(): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    const wasm = this.wasm;
    try {
      const outcome = settle(this.thread as ThreadLink, pending.sequence);
      // Not started yet (a busy machine): cheaper to insert here than to wait for the helper.
      const added = outcome.claimed
        ? this.insertStaged(pending.keysPointer, pending.vectorsPointer, pending.count)
        : outcome.result >>> 0;
      this.check("addBatch");
      if (!outcome.claimed && !outcome.ok) {
        throw moduleError("addBatch", "the helper thread failed");
      }
      assert(added === pending.count, "vltair_add_batch added fewer vectors without an error");
    } finally {
      wasm.free(pending.vectorsPointer);
      wasm.free(pending.keysPointer);
    }
  }

  /** The helper thread's link, attached on first use; null when inserts stay on this thread. */
  private threadLink(): ThreadLink | null {
    if (this.thread === undefined) {
      this.thread = attachToThread(this.wasm.memory);
      if (this.thread !== null) THREAD_LINKS.register(this, this.thread, this);
    }
    return this.thread;
  }

  private check(operation: string): void {
    const error = this.wasm.takeError();
    if (error !== undefined) throw moduleError(operation, error);
  }

  private reserve(capacity: number): void {
    this.wasm.clearError();
    this.wasm.exports.usearch_reserve(this.handle, capacity, this.wasm.errorSlot);
    this.check("reserve");
  }

  /** Room for `extra` more vectors, doubling so that n adds cost O(log n) reallocations. */
  private ensureCapacity(extra: number): void {
    const wasm = this.wasm;
    const size = wasm.exports.usearch_size(this.handle, wasm.errorSlot) >>> 0;
    const capacity = wasm.exports.usearch_capacity(this.handle, wasm.errorSlot) >>> 0;
    if (size + extra <= capacity) return;
    this.reserve(Math.max(size + extra, capacity * 2, this.options.capacity));
  }

  /**
   * Changes the candidate list width of later searches (HNSW `ef`, the `expansionSearch`
   * option): wider finds more of the true neighbours and costs more. Throws
   * `validation_failed` (field `expansionSearch`) outside [1, 4096].
   */
  setExpansionSearch(expansionSearch: number): void {
    const wasm = this.live();
    checkInteger("expansionSearch", expansionSearch, 1, VECTOR_LIMITS.expansionMax);
    wasm.clearError();
    wasm.exports.usearch_change_expansion_search(this.handle, expansionSearch, wasm.errorSlot);
    this.check("setExpansionSearch");
    this.options = { ...this.options, expansionSearch };
  }

  /** Number of vectors in the index. */
  size(): number {
    const wasm = this.live();
    return wasm.exports.usearch_size(this.handle, wasm.errorSlot) >>> 0;
  }

  /** True when a vector is stored under `key`. */
  contains(key: VectorKey): boolean {
    const wasm = this.live();
    const k = toVectorKey(key, "key");
    return wasm.exports.usearch_contains(this.handle, k, wasm.errorSlot) !== 0;
  }

  /**
   * Adds one vector. Throws `validation_failed` (field `key` or `vector`) on a bad key, wrong
   * dimension, NaN or ±Infinity, and `conflict` when `key` is already present.
   */
  add(key: VectorKey, vector: VectorInput): void {
    const wasm = this.live();
    const k = toVectorKey(key, "key");
    copyVectorIn(wasm.f32(), this.queryPointer >>> 2, vector, this.dimensions, "vector");
    if (wasm.exports.usearch_contains(this.handle, k, wasm.errorSlot) !== 0) {
      throw new VltairError("conflict", "a vector with this key already exists", {
        details: { field: "key", key: k.toString() },
      });
    }
    this.ensureCapacity(1);
    wasm.clearError();
    wasm.exports.usearch_add(this.handle, k, this.queryPointer, F32_KIND, wasm.errorSlot);
    this.check("add");
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
    const wasm = this.live();
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
    const vectorsPointer = wasm.alloc(count * dims * 4);
    let posted = false;
    try {
      this.stageBatch(keys, vectors, keysPointer, vectorsPointer);
      this.ensureCapacity(count);
      wasm.clearError();
      const thread =
        options.background === true && count >= BACKGROUND_BATCH_MIN ? this.threadLink() : null;
      const sequence =
        thread === null
          ? null
          : tryPost(thread, {
              type: "add",
              handle: this.handle,
              keys: keysPointer,
              vectors: vectorsPointer,
              count,
              dimensions: dims,
              errorSlot: wasm.errorSlot,
            });
      if (sequence !== null) {
        this.pending = { sequence, keysPointer, vectorsPointer, count };
        posted = true;
        return;
      }
      const added = this.insertStaged(keysPointer, vectorsPointer, count);
      this.check("addBatch");
      assert(added === count, "vltair_add_batch added fewer vectors without an error");
    } finally {
      if (!posted) {
        wasm.free(vectorsPointer);
        wasm.free(keysPointer);
      }
    }
  }

  /** Inserts a staged batch on this thread; returns how many were added. */
  private insertStaged(keysPointer: number, vectorsPointer: number, count: number): number {
    const wasm = this.wasm;
    wasm.clearError();
    return (
      wasm.exports.vltair_add_batch(
        this.handle,
        keysPointer,
        vectorsPointer,
        count,
        this.dimensions,
        wasm.errorSlot,
      ) >>> 0
    );
  }

  /** Copies and checks a batch into WASM memory; rejects duplicates within it and in the index. */
  private stageBatch(
    keys: readonly VectorKey[],
    vectors: Float32Array | readonly VectorInput[],
    keysPointer: number,
    vectorsPointer: number,
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
      u64[(keysPointer >>> 3) + i] = k;
      const vector =
        vectors instanceof Float32Array
          ? vectors.subarray(i * dims, (i + 1) * dims)
          : (vectors[i] as VectorInput);
      copyVectorIn(f32, (vectorsPointer >>> 2) + i * dims, vector, dims, `vectors[${i}]`);
    }
  }

  /** Removes the vector under `key`; returns false when there was none. */
  remove(key: VectorKey): boolean {
    const wasm = this.live();
    const k = toVectorKey(key, "key");
    wasm.clearError();
    const removed = wasm.exports.usearch_remove(this.handle, k, wasm.errorSlot) >>> 0;
    this.check("remove");
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
    const wasm = this.live();
    checkInteger("k", k, 1, VECTOR_LIMITS.kMax);
    const thread = this.threadLink();
    if (thread === null) return null;
    copyVectorIn(wasm.f32(), this.queryPointer >>> 2, query, this.dimensions, "query");
    wasm.clearError();
    const sequence = tryPost(thread, {
      type: "search",
      handle: this.handle,
      query: this.queryPointer,
      scalarKind: F32_KIND,
      count: k,
      keys: this.keysPointer,
      distances: this.distancesPointer,
      errorSlot: wasm.errorSlot,
    });
    if (sequence === null) return null;
    this.searching = sequence;
    return () => {
      assert(this.searching === sequence, "a background search is collected once");
      this.searching = null;
      const outcome = settle(thread, sequence);
      // Not started yet (a busy machine): search here rather than wait for the helper.
      if (outcome.claimed) return this.matches(this.walkUnfiltered(k, false));
      this.check("search");
      if (!outcome.ok) throw moduleError("search", "the helper thread failed");
      return this.matches(outcome.result >>> 0);
    };
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
    const wasm = this.live();
    checkInteger("k", k, 1, VECTOR_LIMITS.kMax);
    copyVectorIn(wasm.f32(), this.queryPointer >>> 2, query, this.dimensions, "query");
    let found: number;
    if (filter === undefined) {
      found = this.walkUnfiltered(k, exact);
    } else if ("allowedKeys" in filter) {
      found = this.walkAllowed(k, filter.allowedKeys, exact);
    } else {
      found = this.walkPredicate(k, filter.predicate, exact);
    }
    return this.matches(found);
  }

  /** The first `found` results of the last search, copied out of the module's memory. */
  private matches(found: number): VectorMatches {
    const wasm = this.wasm;
    const keysStart = this.keysPointer >>> 3;
    const distancesStart = this.distancesPointer >>> 2;
    return {
      keys: wasm.u64().slice(keysStart, keysStart + found),
      distances: wasm.f32().slice(distancesStart, distancesStart + found),
    };
  }

  private walkUnfiltered(k: number, exact: boolean): number {
    const wasm = this.wasm;
    const e = wasm.exports;
    wasm.clearError();
    const found = exact
      ? e.vltair_search_exact(
          this.handle,
          this.queryPointer,
          k,
          this.keysPointer,
          this.distancesPointer,
          wasm.errorSlot,
        )
      : e.usearch_search(
          this.handle,
          this.queryPointer,
          F32_KIND,
          k,
          this.keysPointer,
          this.distancesPointer,
          wasm.errorSlot,
        );
    this.check("search");
    return found >>> 0;
  }

  private walkAllowed(k: number, allowedKeys: Iterable<VectorKey>, exact: boolean): number {
    const wasm = this.wasm;
    const sorted = sortedKeySet(allowedKeys, VECTOR_LIMITS.allowedKeysMax);
    const allowedPointer = wasm.alloc(sorted.length * 8);
    try {
      wasm.u64().set(sorted, allowedPointer >>> 3);
      const size = this.size();
      // A selective set makes the graph walk visit most of the graph to fill k; measuring each
      // admitted key directly costs one lookup and one distance per key instead.
      if (exact || sorted.length <= size * ALLOWED_DIRECT_FRACTION) {
        return this.measureKeys(k, allowedPointer, sorted.length);
      }
      wasm.clearError();
      const found =
        wasm.exports.vltair_search_allowed(
          this.handle,
          this.queryPointer,
          k,
          allowedPointer,
          sorted.length,
          0,
          this.keysPointer,
          this.distancesPointer,
          wasm.errorSlot,
        ) >>> 0;
      this.check("search");
      const admittedMax = Math.min(sorted.length, size);
      return found < k && found < admittedMax
        ? this.measureKeys(k, allowedPointer, sorted.length)
        : found;
    } finally {
      wasm.free(allowedPointer);
    }
  }

  /** Exact top k among the keys at `candidatesPointer` (sorted), by lookup, not by scan. */
  private measureKeys(k: number, candidatesPointer: number, candidatesCount: number): number {
    const wasm = this.wasm;
    wasm.clearError();
    const found = wasm.exports.vltair_search_keys(
      this.handle,
      this.queryPointer,
      k,
      candidatesPointer,
      candidatesCount,
      this.keysPointer,
      this.distancesPointer,
      wasm.errorSlot,
    );
    this.check("search");
    return found >>> 0;
  }

  private walkPredicate(k: number, predicate: (key: bigint) => boolean, exact: boolean): number {
    const wasm = this.wasm;
    const guarded = (key: bigint): boolean => {
      this.filtering = true;
      try {
        return predicate(key);
      } finally {
        this.filtering = false;
      }
    };
    const walk = (exactWalk: boolean): number =>
      wasm.withFilter(guarded, () => {
        wasm.clearError();
        const found = wasm.exports.vltair_search_predicate(
          this.handle,
          this.queryPointer,
          k,
          0,
          exactWalk ? 1 : 0,
          this.keysPointer,
          this.distancesPointer,
          wasm.errorSlot,
        );
        this.check("search");
        return found >>> 0;
      });
    const found = walk(exact);
    return !exact && found < k && found < this.size() ? walk(true) : found;
  }

  /**
   * The index as bytes (USearch's own format, header included). Deterministic: the same
   * inserts in the same order give the same bytes on every runtime.
   */
  serialize(): Uint8Array {
    const wasm = this.live();
    wasm.clearError();
    const lengthBytes = wasm.exports.usearch_serialized_length(this.handle, wasm.errorSlot) >>> 0;
    this.check("serialize");
    // Window by window through one buffer of at most a quarter of the length (or 8 MiB): a
    // buffer of the whole serialized length would grow the module's memory by that much for
    // good (it never shrinks).
    const bytes = new Uint8Array(lengthBytes);
    const windowBytes = Math.min(
      lengthBytes,
      Math.max(SERIALIZE_WINDOW_BYTES_MIN, Math.ceil(lengthBytes / SERIALIZE_PASSES_MAX)),
    );
    const pointer = wasm.alloc(windowBytes);
    try {
      for (let offset = 0; offset < lengthBytes; offset += windowBytes) {
        const length = Math.min(windowBytes, lengthBytes - offset);
        wasm.clearError();
        wasm.exports.vltair_save_window(this.handle, offset, pointer, length, wasm.errorSlot);
        this.check("serialize");
        bytes.set(wasm.u8().subarray(pointer, pointer + length), offset);
      }
      return bytes;
    } finally {
      wasm.free(pointer);
    }
  }

  /**
   * Replaces the contents with a serialized index of the same dimensions, metric and
   * quantization; throws `validation_failed` (field `bytes`) otherwise.
   */
  load(bytes: Uint8Array): void {
    const wasm = this.live();
    checkSerializedSize(bytes);
    const header = readSerializedHeader(bytes);
    const o = this.options;
    if (
      header.dimensions !== o.dimensions ||
      header.metric !== o.metric ||
      header.quantization !== o.quantization
    ) {
      throw new VltairError("validation_failed", "serialized index does not match this index", {
        details: {
          field: "bytes",
          expected: { dimensions: o.dimensions, metric: o.metric, quantization: o.quantization },
          actual: header,
        },
      });
    }
    // Streamed: the module pulls the bytes piece by piece into the index's own allocations, so
    // no copy of the whole serialized index ever sits in its memory (which never shrinks).
    wasm.clearError();
    const { result: unusedBytes, readBytes: takenBytes } = wasm.withSource(
      bytes,
      () => wasm.exports.vltair_load_stream(this.handle, wasm.errorSlot) >>> 0,
    );
    this.check("load");
    const readBytes = takenBytes - unusedBytes;
    if (readBytes !== bytes.length) {
      throw new VltairError("validation_failed", "serialized index has trailing bytes", {
        details: { field: "bytes", read_bytes: readBytes, size_bytes: bytes.length },
      });
    }
    // No reserve ahead here: `add` and `addBatch` grow on demand, so a restart does not pay
    // for room it may never use (100k × 384-d: 8 MB of module memory and a rehash).
  }

  /** Memory held by this index. */
  memoryUsage(): VectorMemoryUsage {
    const wasm = this.live();
    return {
      indexBytes: wasm.exports.usearch_memory_usage(this.handle, wasm.errorSlot) >>> 0,
      wasmMemoryBytes: wasm.memoryBytes(),
    };
  }

  /** Allocations the binding made in WASM memory and has not freed (for leak checks). */
  outstandingAllocations(): { count: number; sizeBytes: number } {
    return this.live().outstanding();
  }

  /** Frees the index; its module instance and memory become garbage. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    try {
      if (this.searching !== null) {
        // The helper may still be walking this index: end that before freeing anything.
        const sequence = this.searching;
        this.searching = null;
        settle(this.thread as ThreadLink, sequence);
      }
      this.join();
    } catch {
      // The index is going away: a failed last batch changes nothing of that.
    }
    if (this.thread) {
      THREAD_LINKS.unregister(this);
      detachFromThread(this.thread);
      this.thread = null;
    }
    const wasm = this.wasm;
    wasm.exports.usearch_free(this.handle, wasm.errorSlot);
    wasm.free(this.distancesPointer);
    wasm.free(this.keysPointer);
    wasm.free(this.queryPointer);
    this.disposed = true;
  }
}

/** Smallest batch worth a trip to the helper thread (posting and joining cost ~20–50 µs). */
export const BACKGROUND_BATCH_MIN = 16;

/** Detaches the helper's instance of an index that was collected without `dispose()`. */
const THREAD_LINKS = new FinalizationRegistry<ThreadLink>((link) => detachFromThread(link));

function checkSerializedSize(bytes: Uint8Array): void {
  if (bytes.length > VECTOR_LIMITS.serializedBytesMax) {
    throw new VltairError("payload_too_large", "serialized index exceeds its limit", {
      details: {
        field: "bytes",
        size_bytes: bytes.length,
        limit_bytes: VECTOR_LIMITS.serializedBytesMax,
      },
    });
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
