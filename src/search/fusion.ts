/**
 * Fusion of the dense and sparse halves of a hybrid search (ARCHITECTURE.md decision 4).
 *
 * - `rrf`: reciprocal rank fusion, `fused = Σ 1 / (rrf_k + rank)` over the halves a hit
 *   appears in (rank from 1). Scale-free, so cosine similarities and BM25 scores mix safely.
 * - `weighted` (the default, {@link FUSION_DEFAULT}): each half's scores min-max normalised
 *   to [0, 1] (all equal -> 1), then `fused = dense_weight × dense_norm + sparse_weight ×
 *   sparse_norm`; absent from a half -> 0.
 *
 * Output order is `fused` descending, then `id` ascending (CE-7), identical across runs.
 */
import { assert } from "../core/mod.ts";

/** One hit of one half; higher `score` is better. */
export interface HalfHit {
  id: string;
  score: number;
}

/** A fused hit with the per-half raw scores it came from. */
export interface FusedHit {
  id: string;
  fused: number;
  dense?: number;
  sparse?: number;
}

export type FusionOptions =
  | { method: "rrf"; rrfK: number }
  | { method: "weighted"; denseWeight: number; sparseWeight: number };

/**
 * RRF's k when a request names none. The original paper and most engines use 60; on the labeled
 * code-search set of bench/relevance.ts (chosen on its tune half) 5 ranked better: MRR@10
 * 0.305 vs 0.297 with 20 candidates per half (docs/benchmarks.md, "Relevance").
 */
export const RRF_K_DEFAULT = 5;

/**
 * The fusion of a hybrid search that names none: weighted, dense 0.6 / sparse 0.4, the best
 * setting on the tune half of bench/relevance.ts's set (MRR@10 0.311; RRF at its best k 0.305,
 * RRF k = 60 0.297, the sparse half alone 0.232). See ADR 0007.
 */
export const FUSION_DEFAULT = { method: "weighted", denseWeight: 0.6, sparseWeight: 0.4 } as const;

/** Orders hits by score descending, then id ascending. */
export function byScoreThenId<T extends { id: string }>(score: (hit: T) => number) {
  return (a: T, b: T): number => {
    const d = score(b) - score(a);
    if (d !== 0) return d;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

function ranked(hits: readonly HalfHit[]): HalfHit[] {
  return [...hits].sort(byScoreThenId((h) => h.score));
}

function normalise(hits: readonly HalfHit[]): Map<string, number> {
  const out = new Map<string, number>();
  if (hits.length === 0) return out;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const h of hits) {
    min = Math.min(min, h.score);
    max = Math.max(max, h.score);
  }
  const span = max - min;
  for (const h of hits) out.set(h.id, span === 0 ? 1 : (h.score - min) / span);
  return out;
}

/**
 * Fuses the two halves and returns the top `k`.
 *
 * @example
 * ```ts
 * fuse(denseHits, sparseHits, { method: "rrf", rrfK: 60 }, 10);
 * ```
 */
export function fuse(
  dense: readonly HalfHit[],
  sparse: readonly HalfHit[],
  options: FusionOptions,
  k: number,
): FusedHit[] {
  assert(Number.isInteger(k) && k > 0, "k is a positive integer");
  const hits = new Map<string, FusedHit>();
  const entry = (id: string): FusedHit => {
    let hit = hits.get(id);
    if (hit === undefined) {
      hit = { id, fused: 0 };
      hits.set(id, hit);
    }
    return hit;
  };
  if (options.method === "rrf") {
    assert(options.rrfK > 0, "rrf_k is positive");
    ranked(dense).forEach((h, i) => {
      const hit = entry(h.id);
      hit.dense = h.score;
      hit.fused += 1 / (options.rrfK + i + 1);
    });
    ranked(sparse).forEach((h, i) => {
      const hit = entry(h.id);
      hit.sparse = h.score;
      hit.fused += 1 / (options.rrfK + i + 1);
    });
  } else {
    const denseNorm = normalise(dense);
    const sparseNorm = normalise(sparse);
    for (const h of dense) {
      const hit = entry(h.id);
      hit.dense = h.score;
      hit.fused += options.denseWeight * (denseNorm.get(h.id) ?? 0);
    }
    for (const h of sparse) {
      const hit = entry(h.id);
      hit.sparse = h.score;
      hit.fused += options.sparseWeight * (sparseNorm.get(h.id) ?? 0);
    }
  }
  return [...hits.values()].sort(byScoreThenId((h) => h.fused)).slice(0, k);
}
