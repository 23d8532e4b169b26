/**
 * A document-at-a-time cursor over one query term's postings: one index term, or a pair (a word
 * and its alias), merged by slot. Its contribution for the current document is the same
 * floating-point expression, evaluated in the same order, as the term-at-a-time loops of
 * score-terms.ts, so pruned and exhaustive searches give bit-identical scores.
 */
import { POSTING_UNITS } from "./postings-pool.ts";

/** Past every slot: the position of an exhausted cursor. */
export const SLOT_END = 0xffffffff;

/** First unit in [at, end) (stepping by a posting) whose slot is at least `target`. */
function gallop(pool: Uint32Array, at: number, end: number, target: number): number {
  if (at >= end || (pool[at] as number) >= target) return at;
  // Exponential probe, then a binary search in the last step's range.
  let low = at;
  let step = POSTING_UNITS;
  let high = at + step;
  while (high < end && (pool[high] as number) < target) {
    low = high;
    step *= 2;
    high = at + step;
  }
  if (high > end) high = end;
  // Invariant: pool[low] < target; the answer is in (low, high], counted in postings from `at`.
  let lowPosting = (low - at) / POSTING_UNITS + 1;
  let highPosting = (high - at) / POSTING_UNITS;
  while (lowPosting < highPosting) {
    const middle = (lowPosting + highPosting) >>> 1;
    if ((pool[at + middle * POSTING_UNITS] as number) < target) lowPosting = middle + 1;
    else highPosting = middle;
  }
  return at + lowPosting * POSTING_UNITS;
}

/** What a contribution depends on besides the postings. */
export interface CursorScoring {
  docLengths: Uint32Array;
  avgDocLength: number;
  k1: number;
  b: number;
}

/** One member of a cursor: its postings range and weight. */
export interface CursorMember {
  offset: number;
  count: number;
  weight: number;
}

/** The cursor; `slot` is the current document (or `SLOT_END`). */
export class TermCursor {
  slot = SLOT_END;
  /** Upper bound of `contribution()` over every document (set by the caller). */
  bound = 0;
  readonly idf: number;
  readonly #pool: Uint32Array;
  readonly #scoring: CursorScoring;
  /** True for one member of weight 1 (score-terms.ts's `scoreExactTerm`). */
  readonly #isExact: boolean;
  #aAt: number;
  readonly #aEnd: number;
  readonly #aWeight: number;
  #bAt: number;
  readonly #bEnd: number;
  readonly #bWeight: number;

  constructor(
    pool: Uint32Array,
    scoring: CursorScoring,
    members: readonly CursorMember[],
    idf: number,
  ) {
    const a = members[0] as CursorMember;
    const b = members[1];
    this.#pool = pool;
    this.#scoring = scoring;
    this.idf = idf;
    this.#isExact = b === undefined && a.weight === 1;
    this.#aAt = a.offset;
    this.#aEnd = a.offset + a.count * POSTING_UNITS;
    this.#aWeight = a.weight;
    this.#bAt = b === undefined ? 0 : b.offset;
    this.#bEnd = b === undefined ? 0 : b.offset + b.count * POSTING_UNITS;
    this.#bWeight = b === undefined ? 0 : b.weight;
    this.#settle();
  }

  /** Moves past the current document. */
  next(): void {
    const slot = this.slot;
    if (this.#aAt < this.#aEnd && this.#pool[this.#aAt] === slot) this.#aAt += POSTING_UNITS;
    if (this.#bAt < this.#bEnd && this.#pool[this.#bAt] === slot) this.#bAt += POSTING_UNITS;
    this.#settle();
  }

  /** Moves to the first document at or after `target`. */
  seek(target: number): void {
    if (this.slot >= target) return;
    this.#aAt = gallop(this.#pool, this.#aAt, this.#aEnd, target);
    this.#bAt = gallop(this.#pool, this.#bAt, this.#bEnd, target);
    this.#settle();
  }

  /**
   * Scans every document of the term (the cursor must be fresh): `visit(slot, contribution)`
   * returns the smallest contribution still worth visiting, which is used to skip the call.
   * One tight loop, for a query of a single term, where nothing can be pruned.
   */
  scan(visit: (slot: number, contribution: number) => number): void {
    const pool = this.#pool;
    const { docLengths, avgDocLength, k1, b } = this.#scoring;
    const idf = this.idf;
    let floor = Number.NEGATIVE_INFINITY;
    const aEnd = this.#aEnd;
    const bEnd = this.#bEnd;
    const aWeight = this.#aWeight;
    const bWeight = this.#bWeight;
    let aAt = this.#aAt;
    let bAt = this.#bAt;
    const isExact = this.#isExact;
    while (aAt < aEnd || bAt < bEnd) {
      const aSlot = aAt < aEnd ? (pool[aAt] as number) : SLOT_END;
      const bSlot = bAt < bEnd ? (pool[bAt] as number) : SLOT_END;
      const slot = Math.min(aSlot, bSlot);
      let f: number;
      if (isExact) {
        f = pool[aAt + 1] as number;
        aAt += POSTING_UNITS;
      } else {
        f = 0;
        if (aSlot === slot) {
          f += aWeight * (pool[aAt + 1] as number);
          aAt += POSTING_UNITS;
        }
        if (bSlot === slot) {
          f += bWeight * (pool[bAt + 1] as number);
          bAt += POSTING_UNITS;
        }
      }
      const length = docLengths[slot] as number;
      const contribution =
        idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + (b * length) / avgDocLength)));
      if (contribution >= floor) floor = visit(slot, contribution);
    }
    this.#aAt = aAt;
    this.#bAt = bAt;
    this.slot = SLOT_END;
  }

  /** The term's BM25 contribution to the current document (which must hold it). */
  contribution(): number {
    const pool = this.#pool;
    const slot = this.slot;
    const { docLengths, avgDocLength, k1, b } = this.#scoring;
    const length = docLengths[slot] as number;
    if (this.#isExact) {
      const f = pool[this.#aAt + 1] as number;
      return this.idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + (b * length) / avgDocLength)));
    }
    let f = 0;
    if (this.#aAt < this.#aEnd && pool[this.#aAt] === slot) {
      f += this.#aWeight * (pool[this.#aAt + 1] as number);
    }
    if (this.#bAt < this.#bEnd && pool[this.#bAt] === slot) {
      f += this.#bWeight * (pool[this.#bAt + 1] as number);
    }
    return this.idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + (b * length) / avgDocLength)));
  }

  #settle(): void {
    const a = this.#aAt < this.#aEnd ? (this.#pool[this.#aAt] as number) : SLOT_END;
    const b = this.#bAt < this.#bEnd ? (this.#pool[this.#bAt] as number) : SLOT_END;
    this.slot = Math.min(a, b);
  }
}

/** Documents holding either of two terms: |A| + |B| − |A ∩ B|, by galloping the shorter. */
export function unionCount(pool: Uint32Array, a: CursorMember, b: CursorMember): number {
  const [short, long] = a.count <= b.count ? [a, b] : [b, a];
  const longEnd = long.offset + long.count * POSTING_UNITS;
  let at = long.offset;
  let shared = 0;
  const shortEnd = short.offset + short.count * POSTING_UNITS;
  for (let s = short.offset; s < shortEnd && at < longEnd; s += POSTING_UNITS) {
    const slot = pool[s] as number;
    at = gallop(pool, at, longEnd, slot);
    if (at < longEnd && pool[at] === slot) shared++;
  }
  return a.count + b.count - shared;
}
