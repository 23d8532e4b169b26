/**
 * Counts the terms of the document being inserted: occurrences per term id in a dense array
 * (zero between documents) and the distinct ids in first-occurrence order, in reused scratch
 * arrays so that an insert allocates only its final term list.
 */
import { ALIAS_MARK } from "./alias-mark.ts";
import type { TermDictionary } from "./term-dictionary.ts";
import { type Tokenized, type TokenizeLimits, tooManyTokens } from "./text-limits.ts";
import { type CodeSplit, scanCode } from "./tokenize-code.ts";

function grow(array: Uint32Array, lengthMin: number): Uint32Array {
  if (array.length >= lengthMin) return array;
  const grown = new Uint32Array(Math.max(lengthMin, array.length * 2));
  grown.set(array);
  return grown;
}

/** Per-document term counts over one dictionary. */
export class TermCounter {
  /** Per term id: occurrences in the current document. */
  counts: Uint32Array = new Uint32Array(1024);
  #distinct: Uint32Array = new Uint32Array(1024);
  #distinctCount = 0;
  /** Tokens (not aliases) counted: the document's BM25 length. */
  tokenCount = 0;
  readonly #terms: TermDictionary;

  constructor(terms: TermDictionary) {
    this.#terms = terms;
  }

  /** Counts a tokenized document: its tokens, then its aliases (as marked terms). */
  countTokenized(tokenized: Tokenized): void {
    const { tokens, aliases } = tokenized;
    for (let i = 0; i < tokens.length; i++) this.#count(this.#terms.intern(tokens[i] as string));
    for (let i = 0; i < aliases.length; i++) {
      this.#count(this.#terms.intern(ALIAS_MARK + (aliases[i] as string)));
    }
    this.tokenCount = tokens.length;
  }

  /**
   * Counts `text` through the code tokenizer without building token arrays, with the same ids
   * in the same order as `countTokenized(tokenizeCode(text))`: tokens first, then aliases. A
   * split's ids are kept on the (shared, memoised) split for the next time it occurs; they
   * are trusted only while this dictionary has released no term since (`epoch`). On a throw
   * (too many tokens) the caller must `abandon()`.
   */
  countCode(text: string, limits: TokenizeLimits, epoch: number): void {
    const splits: CodeSplit[] = [];
    let tokenCount = 0;
    scanCode(text, limits, {
      word: (word) => {
        this.#count(this.#terms.intern(word));
        tokenCount++;
      },
      split: (split) => {
        const ids = split.idsOwner === this.#terms && split.idsEpoch === epoch ? split.ids : null;
        const tokens = split.tokens;
        for (let i = 0; i < tokens.length; i++) {
          this.#count(ids === null ? this.#terms.intern(tokens[i] as string) : (ids[i] as number));
        }
        tokenCount += tokens.length;
        if (split.aliases.length > 0 || ids === null) splits.push(split);
      },
    });
    for (const split of splits) {
      const isKnown = split.idsOwner === this.#terms && split.idsEpoch === epoch;
      const { tokens, aliases } = split;
      if (isKnown) {
        const ids = split.ids as Uint32Array;
        for (let i = tokens.length; i < ids.length; i++) this.#count(ids[i] as number);
        continue;
      }
      const ids = new Uint32Array(tokens.length + aliases.length);
      for (let i = 0; i < tokens.length; i++) ids[i] = this.#terms.intern(tokens[i] as string);
      for (let i = 0; i < aliases.length; i++) {
        const termId = this.#terms.intern(ALIAS_MARK + (aliases[i] as string));
        ids[tokens.length + i] = termId;
        this.#count(termId);
      }
      split.ids = ids;
      split.idsOwner = this.#terms;
      split.idsEpoch = epoch;
    }
    this.tokenCount = tokenCount;
  }

  /**
   * Counts `text` through the code tokenizer compiled into the term table when it is ASCII
   * (same ids, same order as `countCode`); returns false, having done nothing, when it is not.
   * Throws `payload_too_large` past `tokensMax`, the dictionary then as before.
   */
  countCodeAscii(text: string, limits: TokenizeLimits): boolean {
    const counted = this.#terms.countCodeAscii(text, limits.tokenCharsMax, limits.tokensMax);
    if (counted === "too_many_tokens") throw tooManyTokens(limits.tokensMax);
    if (counted === "not_ascii") return false;
    const { distinct, counts } = counted;
    for (let i = 0; i < distinct.length; i++) {
      const termId = distinct[i] as number;
      this.#count(termId, counts[termId] as number);
    }
    this.tokenCount = counted.tokenCount;
    return true;
  }

  /** The distinct ids counted, in first-occurrence order (a copy); the counts stay set. */
  distinct(): Uint32Array {
    return this.#distinct.slice(0, this.#distinctCount);
  }

  /** Forgets the current document: zeroes its counts. */
  reset(): void {
    for (let i = 0; i < this.#distinctCount; i++) this.counts[this.#distinct[i] as number] = 0;
    this.#distinctCount = 0;
    this.tokenCount = 0;
  }

  /**
   * After a failed count: the ids counted (a copy), then `reset`. Terms interned for the
   * failed document and held by no other are the caller's to release.
   */
  abandon(): Uint32Array {
    const ids = this.distinct();
    this.reset();
    return ids;
  }

  #count(termId: number, occurrences = 1): void {
    if (termId >= this.counts.length) this.counts = grow(this.counts, termId + 1);
    const previous = this.counts[termId] as number;
    if (previous === 0) {
      if (this.#distinctCount >= this.#distinct.length) {
        this.#distinct = grow(this.#distinct, this.#distinctCount + 1);
      }
      this.#distinct[this.#distinctCount++] = termId;
    }
    this.counts[termId] = previous + occurrences;
  }
}
