/**
 * Postings of every term of one index in a single `Uint32Array`: each term owns a block of
 * `[slot, termFrequency]` pairs sorted by slot. A full block moves to the end of the pool with
 * twice the room; the holes left behind are reclaimed by compaction once they outweigh the live
 * postings. One typed array instead of one per term keeps a million-term dictionary cheap for
 * the garbage collector and makes the scoring loop a scan over one array.
 */
import { assert } from "../../core/mod.ts";

/** Units (u32) per posting: slot, term frequency. */
export const POSTING_UNITS = 2;
/** Room of a new block, in postings. */
const BLOCK_POSTINGS_MIN = 2;
/*
 * Growth and compaction, chosen by the bytes they copy and allocate while 100k code chunks are
 * indexed (a count, so the choice does not rest on timings of a noisy VM; ADR 0023). Against
 * the earlier 1.5 / 1.5 / 0.5 / 0.25: 275 MB copied instead of 800, 454 MB of fresh arrays
 * instead of 1,006, for a largest pool of 168 MB instead of 153.
 *
 * The pool grows by 4, not 2 (ADR 0024): a fresh array costs nothing until its pages are
 * touched, and touching them is what costs (~10 µs per 4 KiB page faulted in on this VM). The
 * pages a growth touches are those its copy writes, so a wider step copies a third as often;
 * the room past the used units stays untouched virtual memory. Page faults of the pool while
 * 100k chunks are indexed: 0.23 per chunk instead of 0.56.
 */
/** Growth of a full block (2: at most half a block is unused room). */
const BLOCK_GROWTH = 2;
/** Growth of the pool when it must grow (its untouched room costs no memory). */
const POOL_GROWTH = 4;
/** Holes tolerated, as a fraction of live units, before the pool is compacted. */
const GARBAGE_RATIO_MAX = 1;
/** Room left in each block by compaction, as a fraction of its postings. */
const COMPACT_SLACK = 0.5;
/** Largest pool, in u32 units: 8 GiB, far past what fits in memory next to the rest. */
const POOL_UNITS_MAX = 2 ** 31;

/**
 * Blocks up to this many units are copied by a loop: most blocks hold a few postings, and a
 * `subarray` + `set` (or `copyWithin`) call per block cost more than the copy itself (the
 * compaction of a million-term pool spent seconds on them).
 */
const LOOP_COPY_UNITS_MAX = 64;

/** Copies `from[start, end)` to `to[at…]`; `to` may be `from` when the ranges do not overlap. */
function copyUnits(
  from: Uint32Array,
  start: number,
  end: number,
  to: Uint32Array,
  at: number,
): void {
  if (end - start <= LOOP_COPY_UNITS_MAX) {
    for (let i = start, j = at; i < end; i++, j++) to[j] = from[i] as number;
  } else if (from === to) {
    to.copyWithin(at, start, end);
  } else {
    to.set(from.subarray(start, end), at);
  }
}

function grow(array: Uint32Array, lengthMin: number): Uint32Array {
  if (array.length >= lengthMin) return array;
  const grown = new Uint32Array(Math.max(lengthMin, array.length * 2));
  grown.set(array);
  return grown;
}

/** Postings lists of all terms, indexed by term id. */
export class PostingsPool {
  /** The pairs; read directly by the scoring loop. */
  pool: Uint32Array = new Uint32Array(1024);
  /** Per term id: first unit of its block in `pool`. */
  offsets: Uint32Array = new Uint32Array(64);
  /** Per term id: postings in its block (= documents containing the term). */
  counts: Uint32Array = new Uint32Array(64);
  #capacities: Uint32Array = new Uint32Array(64);
  #usedUnits = 0;
  #garbageUnits = 0;
  #liveUnits = 0;

  /** Postings stored, over all terms. */
  get postingCount(): number {
    return this.#liveUnits / POSTING_UNITS;
  }

  /** Bytes held by the typed arrays. */
  get sizeBytes(): number {
    return (
      this.pool.byteLength +
      this.offsets.byteLength +
      this.counts.byteLength +
      this.#capacities.byteLength
    );
  }

  /** Appends `slot` (larger than every slot already in the list) to the term's list. */
  append(termId: number, slot: number, termFrequency: number): void {
    this.#ensureTerm(termId);
    const count = this.counts[termId] ?? 0;
    if (count === (this.#capacities[termId] ?? 0)) {
      this.#relocate(termId, Math.max(BLOCK_POSTINGS_MIN, Math.ceil(count * BLOCK_GROWTH)));
    }
    const offset = this.offsets[termId] ?? 0;
    const at = offset + count * POSTING_UNITS;
    assert(count === 0 || (this.pool[at - POSTING_UNITS] ?? 0) < slot, "slots must ascend");
    this.pool[at] = slot;
    this.pool[at + 1] = termFrequency;
    this.counts[termId] = count + 1;
    this.#liveUnits += POSTING_UNITS;
  }

  /**
   * Takes over decoded postings: term `i` owns `counts[i]` pairs at `offsets[i]`, packed without
   * holes in term order in the first `usedUnits` units of `pool`. Only on an empty pool.
   */
  adopt(pool: Uint32Array, offsets: Uint32Array, counts: Uint32Array, usedUnits: number): void {
    assert(this.#usedUnits === 0, "adopt only into an empty pool");
    assert(offsets.length === counts.length, "offsets and counts must be parallel");
    this.pool = pool.length > 0 ? pool : new Uint32Array(1024);
    this.offsets = offsets.length > 0 ? offsets : new Uint32Array(64);
    this.counts = counts.length > 0 ? counts : new Uint32Array(64);
    this.#capacities = this.counts.slice();
    this.#usedUnits = usedUnits;
    this.#liveUnits = usedUnits;
  }

  /** Removes `slot` from the term's list; returns the postings left in it. */
  remove(termId: number, slot: number): number {
    const offset = this.offsets[termId] ?? 0;
    const count = this.counts[termId] ?? 0;
    let low = 0;
    let high = count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.pool[offset + middle * POSTING_UNITS] ?? 0) < slot) low = middle + 1;
      else high = middle;
    }
    const at = offset + low * POSTING_UNITS;
    assert(low < count && this.pool[at] === slot, "removed slot must be in the list");
    this.pool.copyWithin(at, at + POSTING_UNITS, offset + count * POSTING_UNITS);
    this.counts[termId] = count - 1;
    this.#liveUnits -= POSTING_UNITS;
    if (count === 1) {
      this.#garbageUnits += (this.#capacities[termId] ?? 0) * POSTING_UNITS;
      this.#capacities[termId] = 0;
    }
    return count - 1;
  }

  /** Rewrites every slot through `newSlotOf` (which must preserve order). */
  remapSlots(newSlotOf: Int32Array, termIdLimit: number): void {
    for (let termId = 0; termId < termIdLimit; termId++) {
      const offset = this.offsets[termId] ?? 0;
      const end = offset + (this.counts[termId] ?? 0) * POSTING_UNITS;
      for (let at = offset; at < end; at += POSTING_UNITS) {
        const slot = newSlotOf[this.pool[at] ?? 0] ?? -1;
        assert(slot >= 0, "remapped slot must be live");
        this.pool[at] = slot;
      }
    }
  }

  #ensureTerm(termId: number): void {
    if (termId < this.offsets.length) return;
    const length = termId + 1;
    this.offsets = grow(this.offsets, length);
    this.counts = grow(this.counts, length);
    this.#capacities = grow(this.#capacities, length);
  }

  #relocate(termId: number, capacity: number): void {
    const units = capacity * POSTING_UNITS;
    if (this.#usedUnits + units > this.pool.length) this.#makeRoom(units);
    const offset = this.offsets[termId] ?? 0;
    const count = this.counts[termId] ?? 0;
    copyUnits(this.pool, offset, offset + count * POSTING_UNITS, this.pool, this.#usedUnits);
    this.#garbageUnits += (this.#capacities[termId] ?? 0) * POSTING_UNITS;
    this.offsets[termId] = this.#usedUnits;
    this.#capacities[termId] = capacity;
    this.#usedUnits += units;
  }

  /**
   * Repacks every block (with `COMPACT_SLACK` room each) into a pool of exactly that size:
   * after a bulk ingest the pool holds up to ~2× its live postings (holes left by moved blocks,
   * room of grown blocks, room of the grown pool). The next appends regrow it.
   */
  trim(): void {
    this.#compact(0, 1);
  }

  /** Compacts when holes pass half the live postings, else grows; then `units` fit. */
  #makeRoom(units: number): void {
    if (this.#garbageUnits > this.#liveUnits * GARBAGE_RATIO_MAX) this.#compact(units, POOL_GROWTH);
    const needed = this.#usedUnits + units;
    assert(needed <= POOL_UNITS_MAX, "postings pool past its limit");
    if (needed > this.pool.length) {
      const length = Math.max(needed, Math.ceil(this.pool.length * POOL_GROWTH));
      const grown = new Uint32Array(Math.min(POOL_UNITS_MAX, length));
      grown.set(this.pool.subarray(0, this.#usedUnits));
      this.pool = grown;
    }
  }

  /**
   * Repacks every block in term-id order into a fresh pool, each with `COMPACT_SLACK` room
   * (a block packed tight would move on its very next append, and those moves would fill the
   * pool with holes again at once), leaving room for `units` more, times `growth`.
   */
  #compact(units: number, growth: number): void {
    const capacityOf = (count: number): number =>
      count === 0 ? 0 : count + Math.ceil(count * COMPACT_SLACK);
    let totalUnits = 0;
    for (let termId = 0; termId < this.offsets.length; termId++) {
      totalUnits += capacityOf(this.counts[termId] ?? 0) * POSTING_UNITS;
    }
    const room = Math.ceil((totalUnits + units) * growth);
    const packed = new Uint32Array(Math.min(POOL_UNITS_MAX, Math.max(1024, room)));
    let used = 0;
    for (let termId = 0; termId < this.offsets.length; termId++) {
      const count = this.counts[termId] ?? 0;
      const offset = this.offsets[termId] ?? 0;
      copyUnits(this.pool, offset, offset + count * POSTING_UNITS, packed, used);
      this.offsets[termId] = used;
      this.#capacities[termId] = capacityOf(count);
      used += capacityOf(count) * POSTING_UNITS;
    }
    assert(used === totalUnits, "compaction must place every block");
    this.pool = packed;
    this.#usedUnits = used;
    this.#garbageUnits = 0;
  }
}
