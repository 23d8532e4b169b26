/**
 * Union counts of word/alias pairs (documents holding either term: FTS5's document count of a
 * query term matching both), kept between writes: a pair's count needs a merge of two lists,
 * and the same words recur across queries. Bounded: cleared when full.
 */

/** Entries kept before the cache is cleared. */
const ENTRIES_MAX = 65_536;

/** The cache of one index; valid for one value of the index's write count. */
export class PairUnionCache {
  readonly #counts = new Map<string, number>();
  #writeCount = -1;

  /** The count of the pair, from the cache or from `compute`. */
  get(termIdA: number, termIdB: number, writeCount: number, compute: () => number): number {
    if (this.#writeCount !== writeCount || this.#counts.size >= ENTRIES_MAX) {
      this.#counts.clear();
      this.#writeCount = writeCount;
    }
    const key = `${termIdA},${termIdB}`;
    const kept = this.#counts.get(key);
    if (kept !== undefined) return kept;
    const count = compute();
    this.#counts.set(key, count);
    return count;
  }
}
