/**
 * Adaptive search depth for the HNSW walk: a walk whose k-th match is far from the query is
 * likely to have stopped in a poor region of the graph, so it is repeated with a wider
 * candidate list (`expansionSearch`), step by step, while the k-th match stays far.
 *
 * Measured (docs/benchmarks.md, "Dense recall"): on 100k hash-embedded code chunks with
 * one-line queries, the queries whose 10th match at ef 64 is within cosine distance 0.5 already
 * have recall@10 ≈ 0.99, while those beyond 0.6 have 0.18–0.60; widening only the far ones
 * buys most of the recall of a uniformly wide search at a fraction of its mean cost.
 */
import type { VectorIndex } from "./vector.ts";
import type { VectorMatches } from "./vector-memory.ts";
import { VECTOR_LIMITS } from "./vector-options.ts";

/** One widening step: when the k-th distance exceeds `distanceOver`, search again this wide. */
export interface WidenStep {
  /** Cosine (or the index's metric) distance of the k-th match that triggers the step. */
  distanceOver: number;
  /** The wider `expansionSearch` of the repeated walk, in [1, 4096]. */
  expansionSearch: number;
}

/**
 * The engine's steps: far k-th matches (distance > 0.6) are searched again at ef 512 (ADR
 * 0021: on the tenants' 20/64 graph first walked at 96; 384 left recall at 0.948).
 */
export const WIDEN_STEPS_DEFAULT: readonly WidenStep[] = [
  { distanceOver: 0.6, expansionSearch: 512 },
];

/** The distance of the `rank`-th match (1-based), or Infinity when fewer came back. */
function distanceAt(matches: VectorMatches, rank: number): number {
  return matches.distances[rank - 1] ?? Number.POSITIVE_INFINITY;
}

/**
 * Repeats an unfiltered search of `k` wider while its `checkRank`-th match is farther than a
 * step's threshold. `first` is the answer of the first walk (at the index's own width). A
 * result set smaller than `checkRank` counts as far only when the index holds more vectors.
 *
 * @example
 * ```ts
 * const first = index.search(query, 20);
 * const matches = widenSearch(index, query, 20, 10, first, WIDEN_STEPS_DEFAULT);
 * ```
 */
export function widenSearch(
  index: VectorIndex,
  query: Float32Array,
  k: number,
  checkRank: number,
  first: VectorMatches,
  steps: readonly WidenStep[],
): VectorMatches {
  let matches = first;
  const rank = Math.min(checkRank, k, index.size());
  let width = index.options.expansionSearch;
  for (const step of steps) {
    if (step.expansionSearch <= width || step.expansionSearch > VECTOR_LIMITS.expansionMax) {
      continue;
    }
    if (distanceAt(matches, rank) <= step.distanceOver) break;
    matches = index.search(query, k, { expansionSearch: step.expansionSearch });
    width = step.expansionSearch;
  }
  return matches;
}
