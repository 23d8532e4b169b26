/**
 * The scoring loop: term at a time, each query term's BM25 contribution is added into a dense
 * per-slot score array, in query-term order (the order FTS5 sums its phrases in, so sums are
 * bit-identical). Every document containing any term is scored: no candidate cut-off. The
 * arrays are owned by the index and reused by every query; only touched slots are visited
 * and reset.
 */
import { BM25_IDF_FLOOR, type Bm25Params } from "./bm25.ts";
import { POSTING_UNITS } from "./postings-pool.ts";
import { gallop } from "./term-cursor.ts";

/** What one query's scoring reads and writes. */
export interface ScoringState {
  /** Postings pool and its per-term offsets and counts (see `PostingsPool`). */
  pool: Uint32Array;
  offsets: Uint32Array;
  counts: Uint32Array;
  /** Tokens per slot. */
  docLengths: Uint32Array;
  /** Live documents (FTS5's row count) and their mean length. */
  docCount: number;
  avgDocLength: number;
  params: Bm25Params;
  /** Per slot: score so far; zero for untouched slots, and zero again after the query. */
  scores: Float64Array;
  /** Slots with a non-zero score, first `touchedCount` entries. */
  touched: Uint32Array;
  touchedCount: number;
  /** Scratch of a prefix term: summed term frequency per slot, and the slots touched. */
  frequencies: Float64Array;
  frequencyTouched: Uint32Array;
}

function idfOf(docCount: number, hitCount: number): number {
  const idf = Math.log((docCount - hitCount + 0.5) / (hitCount + 0.5));
  return idf <= 0 ? BM25_IDF_FLOOR : idf;
}

/** Adds one exact term's contributions (of the documents from `fromSlot` on). */
export function scoreExactTerm(state: ScoringState, termId: number, fromSlot = 0): void {
  const { pool, docLengths, scores, touched, avgDocLength } = state;
  const { k1, b } = state.params;
  // `as number`: indexes below are in bounds by construction (offsets/counts describe the pool).
  const count = state.counts[termId] as number;
  const offset = state.offsets[termId] as number;
  const idf = idfOf(state.docCount, count);
  const k1Plus1 = k1 + 1.0;
  const oneMinusB = 1 - b;
  let touchedCount = state.touchedCount;
  const end = offset + count * POSTING_UNITS;
  for (let at = gallop(pool, offset, end, fromSlot); at < end; at += POSTING_UNITS) {
    const slot = pool[at] as number;
    const f = pool[at + 1] as number;
    const length = docLengths[slot] as number;
    const contribution =
      idf * ((f * k1Plus1) / (f + k1 * (oneMinusB + (b * length) / avgDocLength)));
    const score = scores[slot] as number;
    if (score === 0) touched[touchedCount++] = slot;
    scores[slot] = score + contribution;
  }
  state.touchedCount = touchedCount;
}

/**
 * Adds the contributions of one query term that matches several index terms: a prefix term's
 * expansions, or a word and its aliases. As FTS5 does for a phrase found in several columns,
 * the term's document count is the number of documents holding any of them, and its frequency
 * in a document is the weighted sum of their frequencies (`weights[i]` for `termIds[i]`).
 * With `fromSlot`, only the documents from that slot on are scored, and the IDF (which counts
 * every document) must be given.
 */
export function scoreTermGroup(
  state: ScoringState,
  group: { termIds: readonly number[]; weights: readonly number[] },
  from: { slot: number; idf: number } | null = null,
): void {
  const { pool, frequencies, frequencyTouched } = state;
  let hitCount = 0;
  for (let i = 0; i < group.termIds.length; i++) {
    const termId = group.termIds[i] as number;
    const weight = group.weights[i] as number;
    const offset = state.offsets[termId] as number;
    const end = offset + (state.counts[termId] as number) * POSTING_UNITS;
    const start = from === null ? offset : gallop(pool, offset, end, from.slot);
    for (let at = start; at < end; at += POSTING_UNITS) {
      const slot = pool[at] as number;
      if (frequencies[slot] === 0) frequencyTouched[hitCount++] = slot;
      frequencies[slot] = (frequencies[slot] as number) + weight * (pool[at + 1] as number);
    }
  }
  const { docLengths, scores, touched, avgDocLength } = state;
  const { k1, b } = state.params;
  const idf = from === null ? idfOf(state.docCount, hitCount) : from.idf;
  let touchedCount = state.touchedCount;
  for (let i = 0; i < hitCount; i++) {
    const slot = frequencyTouched[i] as number;
    const f = frequencies[slot] as number;
    frequencies[slot] = 0;
    const length = docLengths[slot] as number;
    const contribution =
      idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + (b * length) / avgDocLength)));
    const score = scores[slot] as number;
    if (score === 0) touched[touchedCount++] = slot;
    scores[slot] = score + contribution;
  }
  state.touchedCount = touchedCount;
}
