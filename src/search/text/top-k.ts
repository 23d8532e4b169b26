/**
 * A bounded top-k selection: a binary min-heap of at most `k` entries whose root is the worst
 * kept entry, ordered by score descending then key ascending (UTF-16 code unit order), the
 * order of CE-7. Memory is O(k) whatever the number of candidates.
 */
import { assert } from "../../core/mod.ts";

/** One kept entry: an internal slot and its score. */
export interface TopKEntry {
  slot: number;
  score: number;
}

/** Top-k selection over (slot, score) candidates; `keyOf` breaks score ties. */
export class TopK {
  readonly #k: number;
  readonly #keyOf: (slot: number) => string;
  readonly #slots: Int32Array;
  readonly #scores: Float64Array;
  #size = 0;

  constructor(k: number, keyOf: (slot: number) => string) {
    assert(Number.isInteger(k) && k >= 1, "k must be a positive integer");
    this.#k = k;
    this.#keyOf = keyOf;
    this.#slots = new Int32Array(k);
    this.#scores = new Float64Array(k);
  }

  /** True when a candidate with this score and slot would be kept. */
  accepts(slot: number, score: number): boolean {
    if (this.#size < this.#k) return true;
    return this.#isBetter(slot, score, 0);
  }

  /**
   * The score a candidate must reach to be kept: the worst kept score when full (a tie is kept
   * only when its key ranks first), else −Infinity.
   */
  threshold(): number {
    return this.#size < this.#k ? Number.NEGATIVE_INFINITY : (this.#scores[0] as number);
  }

  /** Keeps the candidate, evicting the worst when full; call only when `accepts` said so. */
  offer(slot: number, score: number): void {
    if (this.#size < this.#k) {
      let at = this.#size++;
      this.#slots[at] = slot;
      this.#scores[at] = score;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!this.#isBetter(this.#slots[parent] ?? 0, this.#scores[parent] ?? 0, at)) break;
        this.#swap(at, parent);
        at = parent;
      }
      return;
    }
    this.#slots[0] = slot;
    this.#scores[0] = score;
    this.#siftDown(0);
  }

  /** The kept entries, best first. */
  drain(): TopKEntry[] {
    const entries: TopKEntry[] = [];
    for (let i = 0; i < this.#size; i++) {
      entries.push({ slot: this.#slots[i] ?? 0, score: this.#scores[i] ?? 0 });
    }
    entries.sort((left, right) => {
      if (left.score !== right.score) return right.score - left.score;
      const leftKey = this.#keyOf(left.slot);
      const rightKey = this.#keyOf(right.slot);
      return leftKey < rightKey ? -1 : leftKey > rightKey ? 1 : 0;
    });
    return entries;
  }

  /** True when (slot, score) ranks before the entry at heap index `at`. */
  #isBetter(slot: number, score: number, at: number): boolean {
    const other = this.#scores[at] ?? 0;
    if (score !== other) return score > other;
    return this.#keyOf(slot) < this.#keyOf(this.#slots[at] ?? 0);
  }

  #siftDown(start: number): void {
    let at = start;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.#size) return;
      const right = left + 1;
      let worst = left;
      if (
        right < this.#size &&
        this.#isBetter(this.#slots[left] ?? 0, this.#scores[left] ?? 0, right)
      ) {
        worst = right;
      }
      if (!this.#isBetter(this.#slots[at] ?? 0, this.#scores[at] ?? 0, worst)) return;
      this.#swap(at, worst);
      at = worst;
    }
  }

  #swap(a: number, b: number): void {
    const slot = this.#slots[a] ?? 0;
    const score = this.#scores[a] ?? 0;
    this.#slots[a] = this.#slots[b] ?? 0;
    this.#scores[a] = this.#scores[b] ?? 0;
    this.#slots[b] = slot;
    this.#scores[b] = score;
  }
}
