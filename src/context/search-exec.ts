/**
 * Executes a planned search over one tenant's store, synchronously, so it sees exactly one
 * applied WAL index (a batch is applied in one synchronous step: no half batch is visible).
 *
 * Scope and filter are one admission set (the tenant's admission view of that pair, kept up to
 * date by the fold) used inside both halves, so each returns its true top candidates among
 * admitted documents: the text index checks each candidate against the set; the vector index
 * measures a set of at most a fifth of the index key by key (exact) and walks the graph
 * admitting only its keys otherwise. Order: score descending, then document id ascending, then
 * scope ascending (CE-7).
 */
import {
  type FusionOptions,
  fuse,
  type HalfHit,
  type VectorMatches,
  WIDEN_STEPS_DEFAULT,
  widenSearch,
} from "../search/mod.ts";
import type { FilterTarget } from "./filters/mod.ts";
import type { AdmitView } from "./store/admit-view.ts";
import type { StoredDoc } from "./store/doc.ts";
import type { TenantStore } from "./store/tenant.ts";

/** What the service decided: which halves run, with what inputs. */
export interface SearchPlan {
  k: number;
  strategy: "dense" | "sparse" | "hybrid";
  queryText: string;
  queryVector: Float32Array | null;
  scopeKey: string | null;
  predicate: ((doc: FilterTarget) => boolean) | null;
  /** Names the (scope, canonical filter) pair of the admission view; null when neither is set. */
  admitKey: string | null;
  fusion: FusionOptions;
}

/** One result before rendering. */
export interface ExecutedHit {
  doc: StoredDoc;
  score: number;
  dense?: number;
  sparse?: number;
  fused: number;
}

/** Candidates each half returns before fusion or the final cut: ties at the cut stay exact. */
export function candidatesFor(k: number): number {
  return Math.min(1024, Math.max(2 * k, 20));
}

function compareHits(a: ExecutedHit, b: ExecutedHit): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.doc.id !== b.doc.id) return a.doc.id < b.doc.id ? -1 : 1;
  return a.doc.scopeKey < b.doc.scopeKey ? -1 : a.doc.scopeKey > b.doc.scopeKey ? 1 : 0;
}

function admission(store: TenantStore, plan: SearchPlan): AdmitView | null {
  const { scopeKey, predicate, admitKey } = plan;
  if (admitKey === null) return null;
  const admit = (doc: StoredDoc): boolean =>
    (scopeKey === null || doc.scopeKey === scopeKey) && (predicate === null || predicate(doc));
  return store.admitViews.get(admitKey, admit, store.docs.values());
}

/**
 * The id a hit carries into fusion: document id, then scope, so fusion's own tie-break (id
 * ascending) is the engine's (CE-7). Ids hold no control characters, so U+0000 sorts first.
 */
function hitId(doc: StoredDoc): string {
  return `${doc.id}\u0000${doc.scopeKey}`;
}

type Found = Map<string, StoredDoc>;

function sparseHalf(
  store: TenantStore,
  plan: SearchPlan,
  admit: AdmitView | null,
  n: number,
  found: Found,
): HalfHit[] {
  if (plan.queryText.trim() === "" || admit?.keys.size === 0) return [];
  const keys = admit?.keys;
  const options = keys === undefined ? {} : { allow: (docKey: string) => keys.has(Number(docKey)) };
  return store.text.search(plan.queryText, n, options).map((m) => {
    const doc = store.byKey.get(Number(m.docKey)) as StoredDoc;
    found.set(hitId(doc), doc);
    return { id: hitId(doc), score: m.score };
  });
}

/** The dense half's matches, or a function that collects them from the helper thread. */
type DenseMatches = VectorMatches | (() => VectorMatches);

/**
 * Starts the dense half: the unfiltered one of a hybrid search goes to the vector index's
 * helper thread (so the sparse half runs meanwhile on this thread); any other runs here.
 */
function startDense(
  store: TenantStore,
  plan: SearchPlan,
  admit: AdmitView | null,
  n: number,
): DenseMatches | null {
  const index = store.vectorIndex();
  const query = plan.queryVector;
  const size = index?.size() ?? 0;
  if (index === null || query === null || size === 0) return null;
  if (query.length !== index.dimensions) return null;
  if (admit?.keys.size === 0) return null;
  const k = Math.min(n, size);
  if (admit !== null) return index.search(query, k, { filter: { allowedKeys: admit.sorted() } });
  // Only a hybrid search has other work (the sparse half) to do meanwhile.
  const collect = plan.strategy === "hybrid" ? index.searchInBackground(query, k) : null;
  return collect ?? index.search(query, k);
}

/**
 * An unfiltered walk whose `plan.k`-th match is far is repeated wider (adaptive depth, see
 * src/search/vector-widen.ts); filtered searches are exact or already walk past refusals.
 */
function widened(
  store: TenantStore,
  plan: SearchPlan,
  admit: AdmitView | null,
  matches: VectorMatches | null,
): VectorMatches | null {
  const index = store.vectorIndex();
  if (matches === null || admit !== null || index === null || plan.queryVector === null) {
    return matches;
  }
  const k = matches.keys.length;
  if (k === 0) return matches;
  return widenSearch(index, plan.queryVector, k, plan.k, matches, WIDEN_STEPS_DEFAULT);
}

function denseHits(store: TenantStore, matches: VectorMatches | null, found: Found): HalfHit[] {
  if (matches === null) return [];
  const { keys, distances } = matches;
  const out: HalfHit[] = [];
  for (let i = 0; i < keys.length; i++) {
    const doc = store.byKey.get(Number(keys[i])) as StoredDoc;
    found.set(hitId(doc), doc);
    out.push({ id: hitId(doc), score: 1 - (distances[i] as number) });
  }
  return out;
}

/** Runs the plan; returns at most `k` hits in the stable order. */
export function executeSearch(store: TenantStore | undefined, planned: SearchPlan): ExecutedHit[] {
  if (store === undefined) return [];
  // The index compares the query as it stores vectors (unit length for an `ip` index).
  const plan =
    planned.queryVector === null
      ? planned
      : { ...planned, queryVector: store.vectorQuery(planned.queryVector) };
  const admit = admission(store, plan);
  const n = candidatesFor(plan.k);
  const found: Found = new Map();
  let started = plan.strategy === "sparse" ? null : startDense(store, plan, admit, n);
  let sparse: HalfHit[];
  try {
    sparse = plan.strategy === "dense" ? [] : sparseHalf(store, plan, admit, n, found);
  } finally {
    // Collected even when the sparse half threw: the index refuses calls until it is.
    if (typeof started === "function") started = started();
  }
  const dense = denseHits(store, widened(store, plan, admit, started), found);
  const hits: ExecutedHit[] = [];
  const docOf = (id: string) => found.get(id) as StoredDoc;
  if (plan.strategy === "hybrid") {
    for (const f of fuse(dense, sparse, plan.fusion, Math.max(1, dense.length + sparse.length))) {
      const hit: ExecutedHit = { doc: docOf(f.id), score: f.fused, fused: f.fused };
      if (f.dense !== undefined) hit.dense = f.dense;
      if (f.sparse !== undefined) hit.sparse = f.sparse;
      hits.push(hit);
    }
  } else {
    const half = plan.strategy === "dense" ? dense : sparse;
    for (const h of half) {
      const hit: ExecutedHit = { doc: docOf(h.id), score: h.score, fused: h.score };
      hit[plan.strategy] = h.score;
      hits.push(hit);
    }
  }
  hits.sort(compareHits);
  return hits.slice(0, plan.k);
}
