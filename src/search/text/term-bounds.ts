/**
 * Per-term bounds for dynamic pruning: the largest term frequency and the shortest document
 * length among a term's postings. A term's BM25 contribution grows with the frequency and
 * shrinks with the length, so these two give an upper bound of every contribution whatever the
 * average length. Kept as bounds, not exact values: a removal never lowers them (they stay
 * valid, only looser), an append raises them when needed. A load leaves them unknown and the
 * first query that needs a term fills them from its postings, so a restart does not pay.
 */
import { POSTING_UNITS } from "./postings-pool.ts";

function grow(array: Uint32Array, lengthMin: number): Uint32Array {
  if (array.length >= lengthMin) return array;
  const grown = new Uint32Array(Math.max(lengthMin, array.length * 2));
  grown.set(array);
  return grown;
}

/** The postings a bound is filled from. */
export interface BoundSource {
  pool: Uint32Array;
  offsets: Uint32Array;
  counts: Uint32Array;
  docLengths: Uint32Array;
}

/** Frequency and length bounds of every term id; 0 frequency means unknown. */
export class TermBounds {
  #tfMax: Uint32Array = new Uint32Array(64);
  #lengthMin: Uint32Array = new Uint32Array(64);

  /**
   * Records a posting just appended; `isFirst` when it is the term's only posting (a new or
   * reused term id starts its bounds afresh).
   */
  note(termId: number, termFrequency: number, docLength: number, isFirst: boolean): void {
    if (termId >= this.#tfMax.length) {
      this.#tfMax = grow(this.#tfMax, termId + 1);
      this.#lengthMin = grow(this.#lengthMin, termId + 1);
    }
    const tfMax = this.#tfMax[termId] as number;
    if (isFirst) {
      this.#tfMax[termId] = termFrequency;
      this.#lengthMin[termId] = docLength;
    } else if (tfMax !== 0) {
      if (termFrequency > tfMax) this.#tfMax[termId] = termFrequency;
      if (docLength < (this.#lengthMin[termId] as number)) this.#lengthMin[termId] = docLength;
    }
  }

  /** Forgets every bound (after a load: filled lazily by `tfMaxOf`/`lengthMinOf`). */
  clear(): void {
    this.#tfMax = new Uint32Array(64);
    this.#lengthMin = new Uint32Array(64);
  }

  /** Largest frequency of the term (fills the bounds from `source` when unknown). */
  tfMaxOf(termId: number, source: BoundSource): number {
    this.#ensure(termId, source);
    return this.#tfMax[termId] as number;
  }

  /** Shortest document holding the term (fills the bounds when unknown). */
  lengthMinOf(termId: number, source: BoundSource): number {
    this.#ensure(termId, source);
    return this.#lengthMin[termId] as number;
  }

  #ensure(termId: number, source: BoundSource): void {
    if (termId < this.#tfMax.length && this.#tfMax[termId] !== 0) return;
    if (termId >= this.#tfMax.length) {
      this.#tfMax = grow(this.#tfMax, termId + 1);
      this.#lengthMin = grow(this.#lengthMin, termId + 1);
    }
    const { pool, docLengths } = source;
    const offset = source.offsets[termId] as number;
    const end = offset + (source.counts[termId] as number) * POSTING_UNITS;
    let tfMax = 0;
    let lengthMin = 0xffffffff;
    for (let at = offset; at < end; at += POSTING_UNITS) {
      const tf = pool[at + 1] as number;
      const length = docLengths[pool[at] as number] as number;
      if (tf > tfMax) tfMax = tf;
      if (length < lengthMin) lengthMin = length;
    }
    this.#tfMax[termId] = tfMax;
    this.#lengthMin[termId] = tfMax === 0 ? 0 : lengthMin;
  }
}
