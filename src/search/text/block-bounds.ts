/**
 * Block-max bounds: a long postings list is cut into blocks of `BLOCK_POSTINGS` postings, each
 * with the largest term frequency and the shortest document length in it, so that a search can
 * skip a whole block whose best possible contribution cannot reach the top-k (Ding & Suel
 * 2011). Built when a list grows past `SINGLE_BLOCK_POSTINGS_MAX` (so an index built by adds
 * has them all before its first search), or else by the first search that reads the term
 * (after a load, or after a removal, which shifts the list and drops its blocks); kept up to
 * date by appends, which only touch the last block. Short lists get one block from the term's
 * bounds.
 */
import { POSTING_UNITS } from "./postings-pool.ts";
import type { BoundSource, TermBounds } from "./term-bounds.ts";

/** Postings per block. */
export const BLOCK_POSTINGS = 64;
/** Lists up to this many postings are one block (their term bounds): blocks would not pay. */
const SINGLE_BLOCK_POSTINGS_MAX = 4 * BLOCK_POSTINGS;
/** A block size no list reaches: the whole list is one block. */
const WHOLE_LIST = 2 ** 31;

/** Per block of one term's list: bounds of frequency and length. */
export interface TermBlocks {
  /** Postings per block (`WHOLE_LIST` for a single block). */
  postings: number;
  tfMax: Uint32Array;
  lengthMin: Uint32Array;
}

function grow(array: Uint32Array, lengthMin: number): Uint32Array {
  if (array.length >= lengthMin) return array;
  const grown = new Uint32Array(Math.max(lengthMin, array.length * 2));
  grown.set(array);
  return grown;
}

function growFilled(array: Int32Array, lengthMin: number): Int32Array {
  if (array.length >= lengthMin) return array;
  const grown = new Int32Array(Math.max(lengthMin, array.length * 2)).fill(-1);
  grown.set(array);
  return grown;
}

/** Blocks of the long lists, by term id. */
export class BlockBounds {
  /** Per term id: index of its blocks in `#kept`, or −1 (a typed array: every append reads it). */
  #indexOf: Int32Array = new Int32Array(1024).fill(-1);
  readonly #kept: TermBlocks[] = [];
  readonly #freeIndexes: number[] = [];

  /**
   * Records a posting about to be appended at `position` (0-based) of the term's list (the
   * `source` postings do not hold it yet).
   */
  noteAppend(
    termId: number,
    position: number,
    termFrequency: number,
    docLength: number,
    source: () => BoundSource,
  ): void {
    const index = termId < this.#indexOf.length ? (this.#indexOf[termId] as number) : -1;
    let blocks: TermBlocks;
    if (index >= 0) {
      blocks = this.#kept[index] as TermBlocks;
    } else {
      if (position !== SINGLE_BLOCK_POSTINGS_MAX) return;
      blocks = this.#build(termId, source());
    }
    const block = Math.floor(position / BLOCK_POSTINGS);
    if (position % BLOCK_POSTINGS === 0) {
      blocks.tfMax = grow(blocks.tfMax, block + 1);
      blocks.lengthMin = grow(blocks.lengthMin, block + 1);
      blocks.tfMax[block] = termFrequency;
      blocks.lengthMin[block] = docLength;
      return;
    }
    if (termFrequency > (blocks.tfMax[block] as number)) blocks.tfMax[block] = termFrequency;
    if (docLength < (blocks.lengthMin[block] as number)) blocks.lengthMin[block] = docLength;
  }

  /** Drops the term's blocks (its list shifted). */
  forget(termId: number): void {
    const index = termId < this.#indexOf.length ? (this.#indexOf[termId] as number) : -1;
    if (index < 0) return;
    this.#indexOf[termId] = -1;
    this.#freeIndexes.push(index);
  }

  /** The term's blocks, built from its postings when missing. */
  of(termId: number, source: BoundSource, bounds: TermBounds): TermBlocks {
    const count = source.counts[termId] as number;
    if (count <= SINGLE_BLOCK_POSTINGS_MAX) {
      return {
        postings: WHOLE_LIST,
        tfMax: Uint32Array.of(bounds.tfMaxOf(termId, source)),
        lengthMin: Uint32Array.of(bounds.lengthMinOf(termId, source)),
      };
    }
    const index = termId < this.#indexOf.length ? (this.#indexOf[termId] as number) : -1;
    return index >= 0 ? (this.#kept[index] as TermBlocks) : this.#build(termId, source);
  }

  #build(termId: number, source: BoundSource): TermBlocks {
    const count = source.counts[termId] as number;
    const blockCount = Math.ceil(count / BLOCK_POSTINGS);
    const tfMax = new Uint32Array(blockCount);
    const lengthMin = new Uint32Array(blockCount).fill(0xffffffff);
    const { pool, docLengths } = source;
    const offset = source.offsets[termId] as number;
    for (let i = 0; i < count; i++) {
      const at = offset + i * POSTING_UNITS;
      const block = Math.floor(i / BLOCK_POSTINGS);
      const tf = pool[at + 1] as number;
      const length = docLengths[pool[at] as number] as number;
      if (tf > (tfMax[block] as number)) tfMax[block] = tf;
      if (length < (lengthMin[block] as number)) lengthMin[block] = length;
    }
    const blocks = { postings: BLOCK_POSTINGS, tfMax, lengthMin };
    const index = this.#freeIndexes.pop() ?? this.#kept.length;
    this.#kept[index] = blocks;
    this.#indexOf = growFilled(this.#indexOf, termId + 1);
    this.#indexOf[termId] = index;
    return blocks;
  }
}
