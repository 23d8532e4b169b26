/**
 * Admission views: the keys of a tenant's documents that one (scope, filter) admits, kept up to
 * date by the fold, so a repeated filtered search knows its admitted set and its size without
 * evaluating the filter per candidate. The dense half then measures a small set key by key
 * (exact) instead of walking the graph past refused nodes; the sparse half checks a `Set`.
 * Views are caches of a function of the current documents (never snapshotted), at most
 * {@link ADMIT_VIEWS_MAX} per tenant, least recently used out.
 */
import type { StoredDoc } from "./doc.ts";

/** Views kept per tenant; each costs a `Set` of its admitted keys. */
export const ADMIT_VIEWS_MAX = 8;

export class AdmitView {
  readonly keys = new Set<number>();
  #sorted: BigUint64Array | null = null;

  constructor(readonly admit: (doc: StoredDoc) => boolean) {}

  /** Offers a new document version; kept when admitted. */
  offer(doc: StoredDoc): void {
    if (!this.admit(doc)) return;
    this.keys.add(doc.key);
    this.#sorted = null;
  }

  /** Forgets a key (a version replaced or deleted). */
  forget(key: number): void {
    if (this.keys.delete(key)) this.#sorted = null;
  }

  /** The admitted keys, ascending, as the vector index takes them. */
  sorted(): BigUint64Array {
    if (this.#sorted === null) {
      const out = new BigUint64Array(this.keys.size);
      let i = 0;
      for (const key of this.keys) out[i++] = BigInt(key);
      this.#sorted = out.sort();
    }
    return this.#sorted;
  }
}

/** A tenant's views by cache key (scope and canonical filter). */
export class AdmitViews {
  readonly #views = new Map<string, AdmitView>();

  /** The view of `cacheKey`, built by one pass over `docs` when absent. */
  get(cacheKey: string, admit: (doc: StoredDoc) => boolean, docs: Iterable<StoredDoc>): AdmitView {
    const hit = this.#views.get(cacheKey);
    if (hit !== undefined) {
      this.#views.delete(cacheKey);
      this.#views.set(cacheKey, hit);
      return hit;
    }
    const view = new AdmitView(admit);
    for (const doc of docs) view.offer(doc);
    this.#views.set(cacheKey, view);
    if (this.#views.size > ADMIT_VIEWS_MAX) {
      this.#views.delete(this.#views.keys().next().value as string);
    }
    return view;
  }

  offer(doc: StoredDoc): void {
    for (const view of this.#views.values()) view.offer(doc);
  }

  forget(key: number): void {
    for (const view of this.#views.values()) view.forget(key);
  }
}
