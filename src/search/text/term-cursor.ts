/**
 * A document-at-a-time cursor over one query term's postings: one index term, or a pair (a word
 * and its alias), merged by slot. Its contribution for the current document is the same
 * floating-point expression, evaluated in the same order, as the term-at-a-time loops of
 * score-terms.ts, so pruned and exhaustive searches give bit-identical scores.
 */
import type { TermBlocks } from "./block-bounds.ts";
import { POSTING_UNITS } from "./postings-pool.ts";

/** Past every slot: the position of an exhausted cursor. */
export const SLOT_END = 0xffffffff;

/**
 * Relative inflation of every bound before it is compared: far above the rounding error of a
 * bound or of a sum added in another order (~1e-15), far below any real gap between scores.
 */
export const BOUND_SLACK = 1 + 1e-9;

/** A member's list and block bounds, as `scan` reads them. */
interface MemberScan {
  offset: number;
  end: number;
  count: number;
  weight: number;
  blockPostings: number;
  tfMax: Uint32Array;
  lengthMin: Uint32Array;
}

const NO_BLOCKS: TermBlocks = {
  postings: 1,
  tfMax: new Uint32Array(0),
  lengthMin: new Uint32Array(0),
};

/** First unit in [at, end) (stepping by a posting) whose slot is at least `target`. */
export function gallop(pool: Uint32Array, at: number, end: number, target: number): number {
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
  /** Block bounds of the list, needed by `scan` only. */
  blocks?: TermBlocks;
}

/** The cursor; `slot` is the current document (or `SLOT_END`). */
export class TermCursor {
  slot = SLOT_END;
  /** Upper bound of `contribution()` over every document (set by the caller). */
  bound = 0;
  /** Last slot of the current blocks, and the bound within them (see `refreshWindow`). */
  windowEnd = -1;
  windowBound = 0;
  /** The last contribution taken (`take`/`probe`) and the slot it belongs to. */
  taken = 0;
  takenSlot = SLOT_END;
  readonly idf: number;
  readonly #pool: Uint32Array;
  readonly #scoring: CursorScoring;
  readonly #docLengths: Uint32Array;
  readonly #avgDocLength: number;
  readonly #k1: number;
  readonly #b: number;
  /** True for one member of weight 1 (score-terms.ts's `scoreExactTerm`). */
  readonly #isExact: boolean;
  #aAt: number;
  readonly #aEnd: number;
  readonly #aWeight: number;
  #bAt: number;
  readonly #bEnd: number;
  readonly #bWeight: number;
  readonly #a: MemberScan;
  readonly #bm: MemberScan;

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
    this.#docLengths = scoring.docLengths;
    this.#avgDocLength = scoring.avgDocLength;
    this.#k1 = scoring.k1;
    this.#b = scoring.b;
    this.idf = idf;
    this.#isExact = b === undefined && a.weight === 1;
    this.#aAt = a.offset;
    this.#aEnd = a.offset + a.count * POSTING_UNITS;
    this.#aWeight = a.weight;
    this.#bAt = b === undefined ? 0 : b.offset;
    this.#bEnd = b === undefined ? 0 : b.offset + b.count * POSTING_UNITS;
    this.#bWeight = b === undefined ? 0 : b.weight;
    this.#a = memberScan(a);
    this.#bm = memberScan(b ?? { offset: 0, count: 0, weight: 0 });
    this.#settle();
  }

  /** Moves past the current document. */
  next(): void {
    const slot = this.slot;
    if (this.#aAt < this.#aEnd && this.#pool[this.#aAt] === slot) this.#aAt += POSTING_UNITS;
    if (this.#bAt < this.#bEnd && this.#pool[this.#bAt] === slot) this.#bAt += POSTING_UNITS;
    this.#settle();
  }

  /**
   * Takes the current document's contribution (into `taken`/`takenSlot`) and moves past it:
   * `contribution()` then `next()` in one step.
   */
  take(): number {
    const pool = this.#pool;
    const slot = this.slot;
    const length = this.#docLengths[slot] as number;
    let f = 0;
    let aAt = this.#aAt;
    let bAt = this.#bAt;
    if (this.#isExact) {
      f = pool[aAt + 1] as number;
      aAt += POSTING_UNITS;
    } else {
      if (aAt < this.#aEnd && pool[aAt] === slot) {
        f += this.#aWeight * (pool[aAt + 1] as number);
        aAt += POSTING_UNITS;
      }
      if (bAt < this.#bEnd && pool[bAt] === slot) {
        f += this.#bWeight * (pool[bAt + 1] as number);
        bAt += POSTING_UNITS;
      }
    }
    const k1 = this.#k1;
    const b = this.#b;
    const contribution =
      this.idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + (b * length) / this.#avgDocLength)));
    this.#aAt = aAt;
    this.#bAt = bAt;
    const aSlot = aAt < this.#aEnd ? (pool[aAt] as number) : SLOT_END;
    const bSlot = bAt < this.#bEnd ? (pool[bAt] as number) : SLOT_END;
    this.slot = Math.min(aSlot, bSlot);
    this.taken = contribution;
    this.takenSlot = slot;
    return contribution;
  }

  /**
   * Moves to `target` and, when the term holds it, takes its contribution (as `take`, without
   * moving past it); returns the contribution or 0.
   */
  probe(target: number): number {
    this.seek(target);
    if (this.slot !== target) return 0;
    const contribution = this.contribution();
    this.taken = contribution;
    this.takenSlot = target;
    return contribution;
  }

  /** Postings of all members. */
  get postingCount(): number {
    return this.#a.count + this.#bm.count;
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
   * returns the smallest contribution still worth visiting. Block-max: the documents up to the
   * end of the current blocks (of both members) are skipped at once when the blocks' bound
   * falls below that. For a query of a single term, where MaxScore has nothing to prune.
   */
  scan(visit: (slot: number, contribution: number) => number): void {
    const pool = this.#pool;
    const { docLengths, avgDocLength, k1, b } = this.#scoring;
    const idf = this.idf;
    let floor = Number.NEGATIVE_INFINITY;
    const a = this.#a;
    const bm = this.#bm;
    let aAt = this.#aAt;
    let bAt = this.#bAt;
    const isExact = this.#isExact;
    for (;;) {
      const aSlot = aAt < a.end ? (pool[aAt] as number) : SLOT_END;
      const bSlot = bAt < bm.end ? (pool[bAt] as number) : SLOT_END;
      if (aSlot === SLOT_END && bSlot === SLOT_END) break;
      this.#computeWindow(aAt, bAt);
      const windowEnd = this.windowEnd;
      const bound = this.windowBound;
      if (bound * BOUND_SLACK < floor) {
        aAt = gallop(pool, aAt, a.end, windowEnd + 1);
        bAt = gallop(pool, bAt, bm.end, windowEnd + 1);
        continue;
      }
      for (;;) {
        const aNext = aAt < a.end ? (pool[aAt] as number) : SLOT_END;
        const bNext = bAt < bm.end ? (pool[bAt] as number) : SLOT_END;
        const slot = Math.min(aNext, bNext);
        if (slot > windowEnd) break;
        let f: number;
        if (isExact) {
          f = pool[aAt + 1] as number;
          aAt += POSTING_UNITS;
        } else {
          f = 0;
          if (aNext === slot) {
            f += a.weight * (pool[aAt + 1] as number);
            aAt += POSTING_UNITS;
          }
          if (bNext === slot) {
            f += bm.weight * (pool[bAt + 1] as number);
            bAt += POSTING_UNITS;
          }
        }
        const length = docLengths[slot] as number;
        const contribution =
          idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + (b * length) / avgDocLength)));
        if (contribution >= floor) floor = visit(slot, contribution);
      }
    }
    this.#aAt = aAt;
    this.#bAt = bAt;
    this.slot = SLOT_END;
  }

  /**
   * Makes `windowEnd`/`windowBound` describe the current blocks: every document from the
   * current one to `windowEnd` scores at most `windowBound` for this term. Cheap when the
   * cursor is still inside the blocks it was computed for.
   */
  refreshWindow(): void {
    // Still inside: a member past its block end holds nothing up to `windowEnd` either.
    if (this.slot <= this.windowEnd) return;
    this.#computeWindow(this.#aAt, this.#bAt);
  }

  #computeWindow(aAt: number, bAt: number): void {
    const pool = this.#pool;
    const a = this.#a;
    const bm = this.#bm;
    let windowEnd = SLOT_END;
    let tfBound = 0;
    let lengthBound = SLOT_END;
    if (aAt < a.end) {
      const block = Math.floor((aAt - a.offset) / POSTING_UNITS / a.blockPostings);
      const last = Math.min(a.count - 1, (block + 1) * a.blockPostings - 1);
      windowEnd = pool[a.offset + last * POSTING_UNITS] as number;
      tfBound += a.weight * (a.tfMax[block] as number);
      lengthBound = a.lengthMin[block] as number;
    }
    if (bAt < bm.end) {
      const block = Math.floor((bAt - bm.offset) / POSTING_UNITS / bm.blockPostings);
      const last = Math.min(bm.count - 1, (block + 1) * bm.blockPostings - 1);
      windowEnd = Math.min(windowEnd, pool[bm.offset + last * POSTING_UNITS] as number);
      tfBound += bm.weight * (bm.tfMax[block] as number);
      lengthBound = Math.min(lengthBound, bm.lengthMin[block] as number);
    }
    const { avgDocLength, k1, b } = this.#scoring;
    this.windowEnd = windowEnd;
    this.windowBound =
      windowEnd === SLOT_END
        ? 0
        : this.idf *
          ((tfBound * (k1 + 1.0)) / (tfBound + k1 * (1 - b + (b * lengthBound) / avgDocLength)));
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

function memberScan(member: CursorMember): MemberScan {
  const blocks = member.blocks ?? NO_BLOCKS;
  return {
    offset: member.offset,
    end: member.offset + member.count * POSTING_UNITS,
    count: member.count,
    weight: member.weight,
    blockPostings: blocks.postings,
    tfMax: blocks.tfMax,
    lengthMin: blocks.lengthMin,
  };
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
