/**
 * The term dictionary: term string ↔ dense term id, with ids of vanished terms reused, and
 * prefix lookup over a lazily sorted copy of the terms.
 *
 * Term → id is the compiled term table (term-table.ts, ADR 0023), which also tokenizes and
 * counts ASCII code texts (`countCodeAscii`); id → term is kept here as strings.
 *
 * Prefix lookup keeps a sorted array of the terms and an unsorted tail of terms added since;
 * a lookup binary-searches the sorted part and scans the tail, after merging the tail into the
 * sorted part when it holds more than `TAIL_TERMS_MAX` terms. Writes never sort; the first
 * prefix lookup after a bulk load pays one sort of the new terms. Removed terms stay in the
 * sorted copy until the next merge and are skipped because their id no longer resolves.
 */
import { assert } from "../../core/mod.ts";
import { type CountedTerms, type CountRefusal, TermTable } from "./term-table.ts";

/** Unsorted terms tolerated before the sorted copy is rebuilt. */
const TAIL_TERMS_MAX = 4096;

/** Term ↔ id mapping of one text index. */
export class TermDictionary {
  #table = new TermTable();
  #termById: (string | undefined)[] = [];
  #liveCount = 0;
  #sorted: string[] = [];
  #tail = new Set<string>();
  /** Terms adopted in bulk by a load, not yet sorted (sorted at the first prefix lookup). */
  #bulk: string[] | null = null;
  #releaseCount = 0;
  /** `#releaseCount` at the last merge: while unchanged, every merged term is still live. */
  #releaseCountAtMerge = 0;

  /** Number of live terms. */
  get size(): number {
    return this.#liveCount;
  }

  /** Terms released so far: ids handed out since the last release are stable. */
  get releaseCount(): number {
    return this.#releaseCount;
  }

  /** One past the largest id ever handed out (ids are dense below it). */
  get idLimit(): number {
    return this.#termById.length;
  }

  /** The id of `term`, or -1. */
  idOf(term: string): number {
    return this.#table.idOf(term);
  }

  /** The term of a live id. */
  termOf(id: number): string {
    const term = this.#termById[id];
    assert(term !== undefined, "term id is not live");
    return term;
  }

  /** True when `id` names a live term. */
  isLive(id: number): boolean {
    return this.#termById[id] !== undefined;
  }

  /** The id of `term`, creating it (reusing the most recently freed id) when new. */
  intern(term: string): number {
    const { id, created } = this.#table.intern(term);
    if (created) this.#noteCreated(id, term);
    return id;
  }

  /**
   * Tokenizes an ASCII text with the code tokenizer and counts its terms, interning new ones,
   * all in the compiled table (the counts are views valid until the next call). A refusal
   * leaves everything as it was: `"not_ascii"` (the caller takes the JS path) or
   * `"too_many_tokens"`.
   */
  countCodeAscii(
    text: string,
    tokenCharsMax: number,
    tokensMax: number,
  ): CountedTerms | CountRefusal {
    const counted = this.#table.countCodeAscii(text, tokenCharsMax, tokensMax);
    if (typeof counted === "string") return counted;
    const { created } = counted;
    for (let i = 0; i < created.length; i++) {
      const id = created[i] as number;
      this.#noteCreated(id, this.#table.termOf(id));
    }
    return counted;
  }

  /**
   * Fills an empty dictionary: `terms[i]` gets id `i`. Returns false (leaving the dictionary
   * unusable) when a term repeats. Sorting for prefix lookup waits for the first lookup.
   */
  adoptAll(terms: readonly string[]): boolean {
    assert(this.#termById.length === 0, "adopt only into an empty dictionary");
    if (!this.#table.adopt(terms)) {
      this.#table = new TermTable();
      return false;
    }
    this.#liveCount = terms.length;
    this.#termById = terms.slice();
    this.#bulk = terms.slice();
    return true;
  }

  /** Forgets a live term; its id will be reused. */
  release(id: number): void {
    assert(this.isLive(id), "term id is not live");
    this.#table.release(id);
    this.#termById[id] = undefined;
    this.#liveCount--;
    this.#releaseCount++;
  }

  /**
   * Ids of the live terms starting with `prefix`, in term order; throws `RangeError` past
   * `termsMax` (the caller maps it to its own error).
   */
  idsWithPrefix(prefix: string, termsMax: number): number[] {
    if (this.#bulk !== null) {
      // The adopted terms become the sorted copy; the merge then folds in (and dedupes) the
      // terms interned since, which were put in the tail without seeing the bulk.
      this.#sorted = this.#bulk.sort();
      this.#bulk = null;
      this.#merge();
    }
    if (this.#tail.size > TAIL_TERMS_MAX) this.#merge();
    const ids: number[] = [];
    const add = (term: string): void => {
      const id = this.#table.idOf(term);
      if (id < 0) return;
      if (ids.length >= termsMax) throw new RangeError("prefix expands past its limit");
      ids.push(id);
    };
    for (let i = this.#lowerBound(prefix); i < this.#sorted.length; i++) {
      const term = this.#sorted[i] ?? "";
      if (!term.startsWith(prefix)) break;
      add(term);
    }
    for (const term of this.#tail) if (term.startsWith(prefix)) add(term);
    return ids;
  }

  /** Every live term id, ascending. */
  liveIds(): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.#termById.length; id++) {
      if (this.#termById[id] !== undefined) ids.push(id);
    }
    return ids;
  }

  /** First index of the sorted copy whose term is not below `term`. */
  #lowerBound(term: string): number {
    let low = 0;
    let high = this.#sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#sorted[middle] ?? "") < term) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #noteCreated(id: number, term: string): void {
    this.#termById[id] = term;
    this.#liveCount++;
    if (!this.#sortedHas(term)) this.#tail.add(term);
  }

  #sortedHas(term: string): boolean {
    return this.#sorted[this.#lowerBound(term)] === term;
  }

  /**
   * Merges the sorted tail into the sorted copy, dropping removed terms (linear after the sort).
   * Liveness is asked of the table only for terms that may have been released since the last
   * merge: all of them after a release, else only the tail's.
   */
  #merge(): void {
    const isReleaseFree = this.#releaseCount === this.#releaseCountAtMerge;
    const tail = [...this.#tail].sort();
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < this.#sorted.length || j < tail.length) {
      const left = this.#sorted[i];
      const right = tail[j];
      let next: string;
      if (right === undefined || (left !== undefined && left <= right)) {
        next = left ?? "";
        i++;
        if (left === right) j++;
      } else {
        next = right;
        j++;
      }
      const isFromSorted = left !== undefined && next === left;
      if ((isReleaseFree && isFromSorted) || this.#table.idOf(next) >= 0) merged.push(next);
    }
    this.#sorted = merged;
    this.#releaseCountAtMerge = this.#releaseCount;
    this.#tail.clear();
  }
}
