/**
 * An in-memory BM25 inverted index over string-keyed documents: one instance per tenant, so
 * statistics (document count, average length, document frequencies) never mix tenants.
 *
 * Documents get internal slots in insertion order; each term's postings are kept sorted by
 * slot in one shared pool, and each document keeps the ids of its distinct terms so that
 * `remove` deletes exactly its postings and statistics stay exact. Slots are renumbered (order
 * preserved) when removed documents leave more than half of them empty.
 */
import { assert, hasLoneSurrogate, runSteps, type Steps, VltairError } from "../../core/mod.ts";
import { ALIAS_MARK } from "./alias-mark.ts";
import { BlockBounds } from "./block-bounds.ts";
import { PairUnionCache } from "./pair-union-cache.ts";
import { PostingsPool } from "./postings-pool.ts";
import { parseQuery, type QueryTerm } from "./query.ts";
import { type ScoringState, scoreExactTerm, scoreTermGroup } from "./score-terms.ts";
import { type PrunedSearchIndex, searchPruned, type TermGroup } from "./search-pruned.ts";
import { encodeTextIndex, type TextIndexContents } from "./serialize.ts";
import { type BoundSource, TermBounds } from "./term-bounds.ts";
import { TermCounter } from "./term-counter.ts";
import { TermDictionary } from "./term-dictionary.ts";
import {
  type ResolvedTextIndexOptions,
  resolveTextIndexOptions,
  type TextIndexOptions,
} from "./text-index-options.ts";
import { TEXT_LIMITS, type Tokenized } from "./text-limits.ts";
import { tokenize } from "./tokenizer.ts";
import { TopK } from "./top-k.ts";

/** Options of {@link TextIndex.search}. */
export interface TextSearchOptions {
  /**
   * Only documents whose key passes are returned; the search still returns the true top-k of
   * the allowed documents. Called only for candidates that would enter the current top-k.
   */
  allow?: (docKey: string) => boolean;
  /**
   * Score every document holding a query term (term at a time) instead of pruning (MaxScore,
   * document at a time). Same results, same scores; the reference path of tests and benchmarks.
   */
  exhaustive?: boolean;
}

/** One search result. */
export interface TextMatch {
  docKey: string;
  /** BM25 score (FTS5's `bm25()` negated): larger is better. */
  score: number;
}

/** Sizes of an index. */
export interface TextIndexStats {
  docCount: number;
  termCount: number;
  postingCount: number;
  /** Tokens over all documents (FTS5's total column size). */
  tokenCount: number;
  /** Bytes held by the typed arrays (postings, lengths, scratch); strings not included. */
  typedArrayBytes: number;
}

/** Documents or terms handled between two pause points of {@link TextIndex.adoptSteps}. */
const ADOPT_ITEMS_PER_STEP = 4096;

/** Slots kept free before renumbering is considered, so small indexes never renumber. */
const SLOT_SLACK = 1024;

function checkDocKey(docKey: string): void {
  const isValid =
    typeof docKey === "string" &&
    docKey.length >= 1 &&
    docKey.length <= TEXT_LIMITS.docKeyCharsMax &&
    !hasLoneSurrogate(docKey);
  if (!isValid) {
    throw new VltairError("validation_failed", "docKey must be a well-formed non-empty string", {
      details: { field: "docKey", limit: TEXT_LIMITS.docKeyCharsMax },
    });
  }
}

/** Largest group scored by a cursor; a query with a larger one (a prefix term) is exhaustive. */
const CURSOR_MEMBERS_MAX = 2;

function growUint32(array: Uint32Array, lengthMin: number): Uint32Array {
  if (array.length >= lengthMin) return array;
  const grown = new Uint32Array(Math.max(lengthMin, array.length * 2));
  grown.set(array);
  return grown;
}

/** The text index; create with `createTextIndex` or `loadTextIndex`. */
export class TextIndex {
  /** The options in force (defaults applied). */
  readonly options: ResolvedTextIndexOptions;
  readonly #terms = new TermDictionary();
  readonly #postings = new PostingsPool();
  readonly #bounds = new TermBounds();
  readonly #blocks = new BlockBounds();
  readonly #slotByKey = new Map<string, number>();
  #slotKeys: (string | undefined)[] = [];
  #slotTerms: (Uint32Array | undefined)[] = [];
  #slotLengths: Uint32Array = new Uint32Array(1024);
  #slotLimit = 0;
  #tokenCount = 0;
  #scores = new Float64Array(0);
  #touched = new Uint32Array(0);
  #frequencies = new Float64Array(0);
  readonly #counter = new TermCounter(this.#terms);
  #frequencyTouched = new Uint32Array(0);
  #isSearching = false;
  /** Adds and removes so far: the union counts below are valid for one value of it. */
  #writeCount = 0;
  readonly #unionCounts = new PairUnionCache();
  /** Set by a load until the per-document term lists are built (see `#ensureForward`). */
  #pendingForward: { distinct: Uint32Array; termIdLimit: number; docCount: number } | null = null;

  constructor(options: TextIndexOptions = {}) {
    this.options = resolveTextIndexOptions(options);
  }

  /** Number of documents. */
  get size(): number {
    return this.#slotByKey.size;
  }

  /** True when a document has this key. */
  has(docKey: string): boolean {
    return this.#slotByKey.has(docKey);
  }

  /**
   * Indexes a new document. Throws `conflict` when the key exists, `payload_too_large` when
   * the text has more than `tokensPerDocMax` tokens, `validation_failed` for a bad key.
   */
  add(docKey: string, text: string): void {
    checkDocKey(docKey);
    if (this.#slotByKey.has(docKey)) {
      throw new VltairError("conflict", "a document with this key is indexed", {
        details: { field: "docKey" },
      });
    }
    this.#checkCapacity();
    this.#countText(text);
    this.#insertCounted(docKey);
  }

  /**
   * Replaces a document's text. Throws `not_found` when the key is absent; on any error the
   * index is unchanged.
   */
  update(docKey: string, text: string): void {
    checkDocKey(docKey);
    if (!this.#slotByKey.has(docKey)) {
      throw new VltairError("not_found", "no document with this key is indexed", {
        details: { field: "docKey" },
      });
    }
    const tokens = this.#tokenize(text);
    this.remove(docKey);
    this.#counter.countTokenized(tokens);
    this.#insertCounted(docKey);
  }

  /** Removes a document; returns false when the key was absent. */
  remove(docKey: string): boolean {
    const slot = this.#slotByKey.get(docKey);
    if (slot === undefined) return false;
    this.#ensureForward();
    const termIds = this.#slotTerms[slot];
    assert(termIds !== undefined, "a live slot has its terms");
    for (const termId of termIds) {
      this.#blocks.forget(termId);
      if (this.#postings.remove(termId, slot) === 0) this.#terms.release(termId);
    }
    this.#tokenCount -= this.#slotLengths[slot] ?? 0;
    this.#slotLengths[slot] = 0;
    this.#slotKeys[slot] = undefined;
    this.#slotTerms[slot] = undefined;
    this.#slotByKey.delete(docKey);
    this.#writeCount++;
    assert(this.#tokenCount >= 0, "token count never negative");
    return true;
  }

  /**
   * The true top-`k` documents by BM25 for `query` (OR of its terms), ordered by score
   * descending then key ascending. `k` is 1..`TEXT_LIMITS.kMax`.
   */
  search(query: string, k: number, options: TextSearchOptions = {}): TextMatch[] {
    if (!Number.isInteger(k) || k < 1 || k > TEXT_LIMITS.kMax) {
      throw new VltairError(
        "validation_failed",
        `k must be an integer in [1, ${TEXT_LIMITS.kMax}]`,
        {
          details: { field: "k", min: 1, max: TEXT_LIMITS.kMax, actual: String(k) },
        },
      );
    }
    const terms = parseQuery(query, this.options.tokenizer, this.options.tokenCharsMax);
    if (this.size === 0 || terms.length === 0) return [];
    assert(!this.#isSearching, "search is not re-entrant (allow must not search this index)");
    this.#isSearching = true;
    try {
      const groups: TermGroup[] = [];
      for (const term of terms) this.#resolveTerm(term, groups);
      if (groups.length === 0) return [];
      const isPrunable = groups.every((group) => group.termIds.length <= CURSOR_MEMBERS_MAX);
      if (options.exhaustive === true || !isPrunable) {
        return this.#searchExhaustive(groups, k, options.allow);
      }
      return this.#searchPruned(groups, k, options.allow);
    } finally {
      this.#isSearching = false;
    }
  }

  /**
   * Releases the postings pool's slack (holes and growth room, up to half of it after a bulk
   * ingest); results are unchanged. Worth calling after a large batch of adds, not after each.
   */
  compact(): void {
    this.#postings.trim();
  }

  /** Current sizes. */
  stats(): TextIndexStats {
    return {
      docCount: this.size,
      termCount: this.#terms.size,
      postingCount: this.#postings.postingCount,
      tokenCount: this.#tokenCount,
      typedArrayBytes:
        this.#postings.sizeBytes +
        this.#slotLengths.byteLength +
        this.#scores.byteLength * 2 +
        this.#touched.byteLength * 2,
    };
  }

  /** Deterministic bytes of the whole index (see serialize.ts); `loadTextIndex` reverses it. */
  serialize(): Uint8Array {
    const rankOfSlot = new Int32Array(this.#slotLimit).fill(-1);
    const docKeys: string[] = [];
    const docLengths = new Uint32Array(this.size);
    for (let slot = 0; slot < this.#slotLimit; slot++) {
      const key = this.#slotKeys[slot];
      if (key === undefined) continue;
      rankOfSlot[slot] = docKeys.length;
      docLengths[docKeys.length] = this.#slotLengths[slot] ?? 0;
      docKeys.push(key);
    }
    const liveIds = this.#terms.liveIds();
    const termOffsets = new Uint32Array(liveIds.length);
    const termCounts = new Uint32Array(liveIds.length);
    liveIds.forEach((termId, i) => {
      termOffsets[i] = this.#postings.offsets[termId] ?? 0;
      termCounts[i] = this.#postings.counts[termId] ?? 0;
    });
    const contents: TextIndexContents = {
      options: this.options,
      docKeys,
      docLengths,
      terms: liveIds.map((termId) => this.#terms.termOf(termId)),
      termOffsets,
      termCounts,
      pool: this.#postings.pool,
      rankOfSlot,
    };
    return encodeTextIndex(contents);
  }

  /** Internal: fills an empty index from decoded contents. */
  adopt(contents: TextIndexContents): void {
    runSteps(this.adoptSteps(contents));
  }

  /** {@link TextIndex.adopt} as steps: it may pause every few thousand documents and terms. */
  *adoptSteps(contents: TextIndexContents): Steps<void> {
    assert(this.size === 0 && this.#terms.size === 0, "adopt only into an empty index");
    const { docKeys } = contents;
    const docCount = docKeys.length;
    for (let slot = 0; slot < docCount; slot++) {
      if (slot % ADOPT_ITEMS_PER_STEP === ADOPT_ITEMS_PER_STEP - 1) yield;
      const key = docKeys[slot] as string;
      // Decoded keys are well-formed (a fatal UTF-8 decode): only their length needs a check.
      if (key.length < 1 || key.length > TEXT_LIMITS.docKeyCharsMax) checkDocKey(key);
      this.#slotByKey.set(key, slot);
      if (this.#slotByKey.size !== slot + 1) {
        throw new VltairError("validation_failed", "duplicate key");
      }
    }
    this.#slotKeys = docKeys.slice();
    this.#slotLengths = growUint32(contents.docLengths.slice(), 1024);
    this.#slotLimit = docCount;
    if (!this.#terms.adoptAll(contents.terms)) {
      throw new VltairError("validation_failed", "duplicate term");
    }
    yield;
    const used = contents.termCounts.reduce((sum, count) => sum + 2 * count, 0);
    this.#postings.adopt(contents.pool, contents.termOffsets, contents.termCounts, used);
    yield* this.#rebuildForward(contents);
  }

  /** Rebuilds each document's term list from the postings; checks lengths against them. */
  *#rebuildForward(contents: TextIndexContents): Steps<void> {
    const docCount = contents.docKeys.length;
    const { pool, termOffsets, termCounts } = contents;
    const distinct = new Uint32Array(docCount);
    const frequencySums = new Float64Array(docCount);
    for (let termId = 0; termId < termCounts.length; termId++) {
      if (termId % ADOPT_ITEMS_PER_STEP === ADOPT_ITEMS_PER_STEP - 1) yield;
      const isAlias = contents.terms[termId]?.startsWith(ALIAS_MARK) === true;
      const offset = termOffsets[termId] as number;
      const end = offset + 2 * (termCounts[termId] as number);
      for (let at = offset; at < end; at += 2) {
        const slot = pool[at] as number;
        distinct[slot] = (distinct[slot] as number) + 1;
        if (!isAlias)
          frequencySums[slot] = (frequencySums[slot] as number) + (pool[at + 1] as number);
      }
    }
    for (let slot = 0; slot < docCount; slot++) {
      if (frequencySums[slot] !== contents.docLengths[slot]) {
        throw new VltairError("validation_failed", "document length disagrees with its postings", {
          details: { field: "bytes", reason: "length" },
        });
      }
    }
    // The term lists are only needed to remove a document: built on the first removal, so a
    // restart does not pay for them (a third of a load's time on code).
    this.#pendingForward = { distinct, termIdLimit: termCounts.length, docCount };
    this.#tokenCount = contents.docLengths.reduce((sum, length) => sum + length, 0);
  }

  /** Builds each loaded document's term list from the postings (once, after a load). */
  #ensureForward(): void {
    const pending = this.#pendingForward;
    if (pending === null) return;
    this.#pendingForward = null;
    const { distinct, termIdLimit, docCount } = pending;
    const filled = new Uint32Array(docCount);
    const slotTerms: (Uint32Array | undefined)[] = Array.from(
      distinct,
      (count) => new Uint32Array(count),
    );
    const { pool, offsets, counts } = this.#postings;
    for (let termId = 0; termId < termIdLimit; termId++) {
      const offset = offsets[termId] as number;
      for (let at = offset, end = offset + 2 * (counts[termId] as number); at < end; at += 2) {
        const slot = pool[at] as number;
        // Postings of documents added since the load belong to slots with their own lists.
        if (slot >= docCount) continue;
        const index = filled[slot] as number;
        (slotTerms[slot] as Uint32Array)[index] = termId;
        filled[slot] = index + 1;
      }
    }
    // Slots added since the load keep the lists they were inserted with.
    for (let slot = docCount; slot < this.#slotTerms.length; slot++) {
      slotTerms[slot] = this.#slotTerms[slot];
    }
    this.#slotTerms = slotTerms;
  }

  /**
   * Counts a new document's terms into `#counter`. The code tokenizer interns while it scans;
   * when it then throws (too many tokens), the terms it created are released again, so a
   * failed add leaves the index as it was.
   */
  #countText(text: string): void {
    const limits = {
      tokenCharsMax: this.options.tokenCharsMax,
      tokensMax: this.options.tokensPerDocMax,
    };
    if (this.options.tokenizer !== "code") {
      this.#counter.countTokenized(tokenize(this.options.tokenizer, text, limits));
      return;
    }
    if (this.#counter.countCodeAscii(text, limits)) return;
    try {
      this.#counter.countCode(text, limits, this.#terms.releaseCount);
    } catch (error) {
      const counts = this.#postings.counts;
      for (const termId of this.#counter.abandon()) {
        if (termId >= counts.length || counts[termId] === 0) this.#terms.release(termId);
      }
      throw error;
    }
  }

  #tokenize(text: string): Tokenized {
    const limits = {
      tokenCharsMax: this.options.tokenCharsMax,
      tokensMax: this.options.tokensPerDocMax,
    };
    return tokenize(this.options.tokenizer, text, limits);
  }

  #checkCapacity(): void {
    if (this.size >= TEXT_LIMITS.docCountMax) {
      throw new VltairError("payload_too_large", "the text index is full", {
        details: { field: "documents", limit: TEXT_LIMITS.docCountMax },
      });
    }
  }

  /** Inserts the document counted in `#counter` (see `#countText`), then resets the counter. */
  #insertCounted(docKey: string): void {
    this.#checkCapacity();
    if (this.#slotLimit >= 2 * this.size + SLOT_SLACK) this.#renumberSlots();
    const slot = this.#slotLimit++;
    this.#slotLengths = growUint32(this.#slotLengths, this.#slotLimit);
    const counter = this.#counter;
    const length = counter.tokenCount;
    const termIds = counter.distinct();
    const source = (): BoundSource => this.#boundSource();
    for (let i = 0; i < termIds.length; i++) {
      const termId = termIds[i] as number;
      const termFrequency = counter.counts[termId] as number;
      const counts = this.#postings.counts;
      const isFirst = termId >= counts.length || counts[termId] === 0;
      this.#bounds.note(termId, termFrequency, length, isFirst);
      if (!isFirst) {
        this.#blocks.noteAppend(termId, counts[termId] as number, termFrequency, length, source);
      }
      this.#postings.append(termId, slot, termFrequency);
    }
    counter.reset();
    this.#writeCount++;
    this.#slotTerms[slot] = termIds;
    this.#slotKeys[slot] = docKey;
    this.#slotLengths[slot] = length;
    this.#slotByKey.set(docKey, slot);
    this.#tokenCount += length;
  }

  /** Renumbers live slots 0..size−1 keeping their order (postings stay sorted). */
  #renumberSlots(): void {
    this.#ensureForward();
    const newSlotOf = new Int32Array(this.#slotLimit).fill(-1);
    const keys: (string | undefined)[] = [];
    const terms: (Uint32Array | undefined)[] = [];
    const lengths = new Uint32Array(Math.max(1024, this.size * 2));
    for (let slot = 0; slot < this.#slotLimit; slot++) {
      const key = this.#slotKeys[slot];
      if (key === undefined) continue;
      newSlotOf[slot] = keys.length;
      lengths[keys.length] = this.#slotLengths[slot] ?? 0;
      this.#slotByKey.set(key, keys.length);
      terms.push(this.#slotTerms[slot]);
      keys.push(key);
    }
    this.#postings.remapSlots(newSlotOf, this.#terms.idLimit);
    this.#slotKeys = keys;
    this.#slotTerms = terms;
    this.#slotLengths = lengths;
    this.#slotLimit = keys.length;
  }

  #scoringState(): ScoringState {
    if (this.#scores.length < this.#slotLimit) {
      const length = Math.max(this.#slotLimit, this.#scores.length * 2);
      this.#scores = new Float64Array(length);
      this.#touched = new Uint32Array(length);
      this.#frequencies = new Float64Array(length);
      this.#frequencyTouched = new Uint32Array(length);
    }
    return {
      pool: this.#postings.pool,
      offsets: this.#postings.offsets,
      counts: this.#postings.counts,
      docLengths: this.#slotLengths,
      docCount: this.size,
      avgDocLength: this.#tokenCount / this.size,
      params: { k1: this.options.k1, b: this.options.b },
      scores: this.#scores,
      touched: this.#touched,
      touchedCount: 0,
      frequencies: this.#frequencies,
      frequencyTouched: this.#frequencyTouched,
    };
  }

  /**
   * Appends the groups a query term scores, in scoring order: its own, or, when a compound of
   * several words is unknown to the index, one per word.
   */
  #resolveTerm(term: QueryTerm, groups: TermGroup[]): void {
    const group = term.isPrefix ? this.#prefixGroup(term.text) : this.#exactGroup(term.text);
    if (group.termIds.length === 0 && term.words !== undefined) {
      for (const word of term.words) this.#resolveTerm({ text: word, isPrefix: false }, groups);
      return;
    }
    if (group.termIds.length > 0) groups.push(group);
  }

  /** The reference path: term at a time into dense per-slot scores, then a top-k pass. */
  #searchExhaustive(
    groups: readonly TermGroup[],
    k: number,
    allow: ((docKey: string) => boolean) | undefined,
  ): TextMatch[] {
    const state = this.#scoringState();
    try {
      for (const group of groups) {
        if (group.termIds.length === 1 && group.weights[0] === 1) {
          scoreExactTerm(state, group.termIds[0] as number);
        } else {
          scoreTermGroup(state, group);
        }
      }
      return this.#select(state, k, allow);
    } finally {
      for (let i = 0; i < state.touchedCount; i++) state.scores[state.touched[i] ?? 0] = 0;
    }
  }

  #boundSource(): BoundSource {
    const { pool, offsets, counts } = this.#postings;
    return { pool, offsets, counts, docLengths: this.#slotLengths };
  }

  /** MaxScore over one cursor per group (see search-pruned.ts). */
  #searchPruned(
    groups: readonly TermGroup[],
    k: number,
    allow: ((docKey: string) => boolean) | undefined,
  ): TextMatch[] {
    const index: PrunedSearchIndex = {
      source: this.#boundSource(),
      bounds: this.#bounds,
      blocks: this.#blocks,
      unionCounts: this.#unionCounts,
      writeCount: this.#writeCount,
      slotKeys: this.#slotKeys,
      slotLimit: this.#slotLimit,
      docCount: this.size,
      scoring: {
        docLengths: this.#slotLengths,
        avgDocLength: this.#tokenCount / this.size,
        k1: this.options.k1,
        b: this.options.b,
      },
      scoringState: () => this.#scoringState(),
    };
    const keys = this.#slotKeys;
    return searchPruned(index, groups, k, allow).map((entry) => ({
      docKey: keys[entry.slot] ?? "",
      score: entry.score,
    }));
  }

  /** The index terms a query word matches: the word itself (weight 1) and its alias. */
  #exactGroup(text: string): { termIds: number[]; weights: number[] } {
    const termIds: number[] = [];
    const weights: number[] = [];
    const termId = this.#terms.idOf(text);
    if (termId >= 0) {
      termIds.push(termId);
      weights.push(1);
    }
    const aliasId = this.options.aliasWeight > 0 ? this.#terms.idOf(ALIAS_MARK + text) : -1;
    if (aliasId >= 0) {
      termIds.push(aliasId);
      weights.push(this.options.aliasWeight);
    }
    return { termIds, weights };
  }

  /** The index terms a prefix matches, tokens (weight 1) then aliases. */
  #prefixGroup(prefix: string): { termIds: number[]; weights: number[] } {
    try {
      const termIds = this.#terms.idsWithPrefix(prefix, TEXT_LIMITS.prefixTermsMax);
      const weights = termIds.map(() => 1);
      if (this.options.aliasWeight > 0) {
        const aliasIds = this.#terms.idsWithPrefix(
          ALIAS_MARK + prefix,
          TEXT_LIMITS.prefixTermsMax - termIds.length,
        );
        for (const aliasId of aliasIds) {
          termIds.push(aliasId);
          weights.push(this.options.aliasWeight);
        }
      }
      return { termIds, weights };
    } catch (error) {
      throw new VltairError("validation_failed", "prefix term matches too many terms", {
        details: { field: "query", limit: TEXT_LIMITS.prefixTermsMax },
        cause: error,
      });
    }
  }

  #select(
    state: ScoringState,
    k: number,
    allow: ((docKey: string) => boolean) | undefined,
  ): TextMatch[] {
    const keys = this.#slotKeys;
    const keyOf = (slot: number): string => keys[slot] ?? "";
    const top = new TopK(Math.min(k, state.touchedCount || 1), keyOf);
    for (let i = 0; i < state.touchedCount; i++) {
      const slot = state.touched[i] as number;
      const score = state.scores[slot] as number;
      if (!top.accepts(slot, score)) continue;
      if (allow !== undefined && !allow(keyOf(slot))) continue;
      top.offer(slot, score);
    }
    return top.drain().map((entry) => ({ docKey: keyOf(entry.slot), score: entry.score }));
  }
}
