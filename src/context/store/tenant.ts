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
import type { EmbedderIdentity } from "../embed/mod.ts";
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
 */
export const TENANT_VECTOR_OPTIONS = {
  metric: "cos",
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

/** A tenant's store: documents by (scope, id) and by index key, and the two indexes. */
export class TenantStore {
  readonly docs = new DocMap();
  readonly byKey = new Map<number, StoredDoc>();
  text: TextIndex;
  vectors: VectorIndex | null = null;
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
    return this.vectors?.dimensions ?? null;
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
    this.vectors?.dispose();
    this.vectors = null;
  }

  /** A vector must match the tenant's dimension (or the batch's first vector, for a new index). */
  private acceptsVector(vector: Float32Array, pending: Map<number, Float32Array>): boolean {
    if (vector.length === 0) return false;
    const expected = this.vectors?.dimensions ?? pending.values().next().value?.length;
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
    this.vectors?.remove(doc.key);
  }

  private addVectors(pending: Map<number, Float32Array>): void {
    const first = pending.values().next().value as Float32Array;
    this.vectors ??= createVectorIndex({
      dimensions: first.length,
      ...TENANT_VECTOR_OPTIONS,
      helperThread: this.helperThread,
    });
    const dims = this.vectors.dimensions;
    const flat = new Float32Array(pending.size * dims);
    let i = 0;
    for (const vector of pending.values()) flat.set(vector, dims * i++);
    this.vectors.addBatch([...pending.keys()], flat, { background: true });
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
