/**
 * One tenant's documents and indexes. Statistics (BM25's IDF, the vector graph) never mix
 * tenants. Each document version gets a fresh index key, so an update is remove + add in both
 * indexes and replay assigns the same keys.
 */
import {
  createTextIndex,
  createVectorIndex,
  type TextIndex,
  type TokenizerName,
  type VectorIndex,
} from "../../search/mod.ts";
import { type EmbedderIdentity, normaliseL2 } from "../embed/mod.ts";
import { type ScopeLike, scopeKey, scopeOfKey } from "../scope.ts";
import { AdmitViews } from "./admit-view.ts";
import { currentVersion, type StoredDoc } from "./doc.ts";
import { DocMap } from "./doc-map.ts";
import { decodeVector, type UpsertItemRecord } from "./record.ts";

/**
 * Every tenant's vector index: cosine over f32 (exact, fastest in WASM), connectivity 20 and
 * insertion width 64, searched at width 96 and widened to 512 when the 10th match is far
 * (ADR 0021, which replaced ADR 0007's 16/128 graph searched at 64). At 100k hash-v2 chunks
 * the 20/64 graph costs ~157 µs of CPU per insertion against ~340 µs for 16/128 (the helper
 * thread's insertions bounded the ingest) and gives recall@10 0.955 with this search depth
 * (16/128: 0.951), at a slightly deeper first walk (p50 ~420 against ~350 µs).
 *
 * The cosine is taken as `ip` over unit vectors (ADR 0026): the store scales every vector it
 * inserts and every query to unit length, and `1 − a·b` skips the two norms of USearch's `cos`
 * (~130 instead of ~152 µs per insertion at 100k). Indexes of older snapshots keep `cos` and
 * get their vectors as before; `unitVectors` tells which is which.
 */
export const TENANT_VECTOR_OPTIONS = {
  metric: "ip",
  quantization: "f32",
  connectivity: 20,
  expansionAdd: 64,
  expansionSearch: 96,
} as const;
/** The search-time knobs a loaded index needs again (serialized bytes do not carry them). */
export const TENANT_VECTOR_LOAD_OPTIONS = {
  expansionAdd: TENANT_VECTOR_OPTIONS.expansionAdd,
  expansionSearch: TENANT_VECTOR_OPTIONS.expansionSearch,
} as const;

/**
 * Most vectors a tenant holds back while the helper thread inserts an earlier batch (ADR 0025);
 * at this many the writer waits for the helper instead. 4,096 × 384-d f32 is 6 MiB.
 */
export const VECTOR_TAIL_MAX = 4_096;

/** A tenant's store: documents by (scope, id) and by index key, and the two indexes. */
export class TenantStore {
  readonly docs = new DocMap();
  readonly byKey = new Map<number, StoredDoc>();
  text: TextIndex;
  /** The vector graph; `vectorIndex()` hands it out with the tail posted. */
  #vectors: VectorIndex | null = null;
  /**
   * Vectors applied while the helper thread was still inserting an earlier batch, in key
   * order: posted as one batch once it is free, or before anything reads the index.
   */
  readonly #tail = new Map<number, Float32Array>();
  /** The embedder that made the tenant's server-embedded vectors (null: none recorded yet). */
  embedder: EmbedderIdentity | null = null;
  nextKey = 1;
  /** Admitted-key sets of recent (scope, filter) pairs, maintained by the fold. */
  readonly admitViews = new AdmitViews();
  /** Documents in (scope, id) order for listing; rebuilt on the first list after a write. */
  #sorted: StoredDoc[] | null = null;

  /** Whether this tenant's vector index may use the helper thread (config `vector_thread`). */
  readonly helperThread: boolean;

  constructor(
    readonly tenant: string,
    tokenizer: TokenizerName,
    options: { helperThread: boolean; text?: TextIndex },
  ) {
    this.text = options.text ?? createTextIndex({ tokenizer });
    this.helperThread = options.helperThread;
  }

  /** The current version of a document, if any. */
  get(scopeKeyText: string, id: string): StoredDoc | undefined {
    return this.docs.get(scopeKeyText, id);
  }

  /** Dimension of the tenant's vectors, or null before the first vector. */
  get vectorDimensions(): number | null {
    return this.#vectors?.dimensions ?? null;
  }

  /**
   * Whether the index takes unit vectors (`ip` standing for cosine, ADR 0026): then inserts and
   * queries are scaled to unit length. False for a `cos` index of an older snapshot.
   */
  get unitVectors(): boolean {
    return (this.#vectors?.metric ?? TENANT_VECTOR_OPTIONS.metric) === "ip";
  }

  /** `query` as the index compares it: a unit-length copy when it takes unit vectors. */
  vectorQuery(query: Float32Array): Float32Array {
    return this.unitVectors ? normaliseL2(query.slice()) : query;
  }

  /** Whether the tenant has a vector index (any vector ever applied); never waits. */
  get hasVectorIndex(): boolean {
    return this.#vectors !== null;
  }

  /**
   * The vector index with every applied vector in it or posted to it (the index's next call
   * waits for the helper thread), or null before the first vector.
   */
  vectorIndex(): VectorIndex | null {
    this.#postTail();
    return this.#vectors;
  }

  /** Installs a loaded vector index on a store that has none yet (snapshot load). */
  attachVectorIndex(index: VectorIndex): void {
    if (this.#vectors !== null) throw new Error("tenant store already has a vector index");
    this.#vectors = index;
  }

  /** Every document in (scope, id) order (cached until the next write). */
  sortedDocs(): readonly StoredDoc[] {
    this.#sorted ??= [...this.docs.values()].sort(compareDocs);
    return this.#sorted;
  }

  /**
   * Applies one upsert batch written at `walIndex`/`wallMs`. Deterministic and total.
   * The batch's vectors go to the vector index first, in the background (its helper thread
   * inserts them while this thread indexes the texts; the index's next call waits for them).
   */
  applyUpsert(items: readonly UpsertItemRecord[], walIndex: number, wallMs: number): void {
    this.#sorted = null;
    const pendingVectors = new Map<number, Float32Array>();
    /** Documents of this batch still to add to the text index, in order. */
    const pendingTexts = new Map<number, StoredDoc>();
    for (const item of items) {
      const sk = scopeKey(item.scope);
      const old = this.docs.get(sk, item.id);
      if (old !== undefined && old.contentHash === item.hash) continue;
      const key = this.nextKey++;
      let vector: Float32Array | null =
        item.vector === undefined ? null : decodeVector(item.vector);
      if (vector !== null && !this.acceptsVector(vector, pendingVectors)) vector = null;
      const doc: StoredDoc = {
        key,
        id: item.id,
        scope: scopeOfKey(sk),
        scopeKey: sk,
        text: item.text,
        metadata: item.metadata,
        hasVector: vector !== null,
        version: old === undefined ? 1 : old.version + 1,
        contentHash: item.hash,
        createdAtMs: old?.createdAtMs ?? wallMs,
        updatedAtMs: wallMs,
        walIndex,
        past: undefined,
      };
      if (old !== undefined) {
        this.unindex(old, pendingVectors, pendingTexts);
        doc.past = old.past ?? [];
        doc.past.push(currentVersion(old));
        old.past = undefined;
      }
      this.docs.set(doc);
      this.byKey.set(key, doc);
      this.admitViews.offer(doc);
      pendingTexts.set(key, doc);
      if (vector !== null) pendingVectors.set(key, vector);
    }
    if (pendingVectors.size > 0) this.addVectors(pendingVectors);
    for (const [key, doc] of pendingTexts) this.text.add(String(key), doc.text);
    // The helper may have finished meanwhile: hand it what waited, rather than leave it idle.
    if (this.#tail.size > 0 && this.#vectors?.inserting === false) this.#postTail();
  }

  /** Applies one delete batch; unknown documents are ignored. */
  applyDelete(items: readonly { id: string; scope: ScopeLike }[]): void {
    this.#sorted = null;
    for (const item of items) {
      const sk = scopeKey(item.scope);
      const old = this.docs.get(sk, item.id);
      if (old === undefined) continue;
      this.unindex(old, null, null);
      this.docs.delete(sk, item.id);
    }
  }

  /** Frees the vector index's WASM memory; the store must not be used afterwards. */
  dispose(): void {
    this.#tail.clear();
    this.#vectors?.dispose();
    this.#vectors = null;
  }

  /** A vector must match the tenant's dimension (or the batch's first vector, for a new index). */
  private acceptsVector(vector: Float32Array, pending: Map<number, Float32Array>): boolean {
    if (vector.length === 0) return false;
    const expected = this.#vectors?.dimensions ?? pending.values().next().value?.length;
    return expected === undefined || expected === vector.length;
  }

  private unindex(
    doc: StoredDoc,
    pending: Map<number, Float32Array> | null,
    pendingTexts: Map<number, StoredDoc> | null,
  ): void {
    this.byKey.delete(doc.key);
    this.admitViews.forget(doc.key);
    if (pendingTexts?.delete(doc.key) !== true) this.text.remove(String(doc.key));
    if (!doc.hasVector) return;
    if (pending?.delete(doc.key)) return;
    // The tail goes in first even when it holds this key: the graph then gets the same
    // insertions and removals in the same order however busy the helper was.
    this.vectorIndex()?.remove(doc.key);
  }

  /**
   * Adds a batch's vectors behind those already held back. While the helper thread still
   * inserts an earlier batch they wait in the tail (up to {@link VECTOR_TAIL_MAX}), so a writer
   * does not wait for the graph; otherwise the tail goes to the helper as one batch.
   */
  private addVectors(pending: Map<number, Float32Array>): void {
    const first = pending.values().next().value as Float32Array;
    this.#vectors ??= createVectorIndex({
      dimensions: first.length,
      ...TENANT_VECTOR_OPTIONS,
      helperThread: this.helperThread,
    });
    const index = this.#vectors;
    for (const [key, vector] of pending) this.#tail.set(key, vector);
    if (index.inserting && this.#tail.size < VECTOR_TAIL_MAX) return;
    this.#postTail();
  }

  /** Hands the tail to the index as one batch (the helper inserts it when it can). */
  #postTail(): void {
    const index = this.#vectors;
    const tail = this.#tail;
    if (index === null || tail.size === 0) return;
    const dims = index.dimensions;
    const flat = new Float32Array(tail.size * dims);
    const unit = this.unitVectors;
    let i = 0;
    for (const vector of tail.values()) {
      flat.set(vector, dims * i);
      if (unit) normaliseL2(flat.subarray(dims * i, dims * (i + 1)));
      i += 1;
    }
    const keys = [...tail.keys()];
    tail.clear();
    index.addBatch(keys, flat, { background: true });
  }
}

/** (scope, id) order, by UTF-16 code units. */
export function compareDocs(a: StoredDoc, b: StoredDoc): number {
  return compareRefs(a.scopeKey, a.id, b.scopeKey, b.id);
}

/** (scope, id) order of two references. */
export function compareRefs(scopeA: string, idA: string, scopeB: string, idB: string): number {
  if (scopeA !== scopeB) return scopeA < scopeB ? -1 : 1;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}
