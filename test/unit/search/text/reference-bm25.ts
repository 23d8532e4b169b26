/**
 * A brute-force BM25 written from FTS5's definition, independent of the index's data
 * structures: every query scans every live document. The property tests compare the index
 * against it.
 */
import {
  parseQuery,
  type QueryTerm,
  TEXT_INDEX_DEFAULTS,
  type TextIndexOptions,
  type TextMatch,
  tokenize,
} from "../../../../src/search/text/mod.ts";

interface ReferenceDoc {
  tokens: Map<string, number>;
  aliases: Map<string, number>;
  length: number;
}

function count(list: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of list) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/** The reference: a map of live documents, scored by a full scan. */
export class ReferenceBm25 {
  readonly #docs = new Map<string, ReferenceDoc>();
  readonly #options: Required<TextIndexOptions>;

  constructor(options: TextIndexOptions = {}) {
    this.#options = { ...TEXT_INDEX_DEFAULTS, ...options };
  }

  set(docKey: string, text: string): void {
    const limits = { tokenCharsMax: this.#options.tokenCharsMax, tokensMax: 1_000_000 };
    const { tokens, aliases } = tokenize(this.#options.tokenizer, text, limits);
    this.#docs.set(docKey, {
      tokens: count(tokens),
      aliases: count(aliases),
      length: tokens.length,
    });
  }

  delete(docKey: string): void {
    this.#docs.delete(docKey);
  }

  /** Weighted frequency of a query term in a document (0 when absent). */
  #frequency(doc: ReferenceDoc, term: QueryTerm): { frequency: number; isHit: boolean } {
    const weight = this.#options.aliasWeight;
    let frequency = 0;
    let isHit = false;
    const add = (counts: Map<string, number>, factor: number): void => {
      if (factor === 0) return;
      for (const [text, tf] of counts) {
        const matches = term.isPrefix ? text.startsWith(term.text) : text === term.text;
        if (matches) {
          frequency += factor * tf;
          isHit = true;
        }
      }
    };
    add(doc.tokens, 1);
    add(doc.aliases, weight);
    return { frequency, isHit };
  }

  #isKnown(text: string): boolean {
    for (const doc of this.#docs.values()) {
      if (doc.tokens.has(text) || (this.#options.aliasWeight > 0 && doc.aliases.has(text))) {
        return true;
      }
    }
    return false;
  }

  /** Query terms after the unknown-piece fallback, as the index resolves them. */
  #resolve(query: string): QueryTerm[] {
    const resolved: QueryTerm[] = [];
    const parsed = parseQuery(query, this.#options.tokenizer, this.#options.tokenCharsMax);
    for (const term of parsed) {
      if (term.words !== undefined && !this.#isKnown(term.text)) {
        for (const word of term.words) resolved.push({ text: word, isPrefix: false });
      } else {
        resolved.push(term);
      }
    }
    return resolved;
  }

  search(query: string, k: number): TextMatch[] {
    const docCount = this.#docs.size;
    if (docCount === 0) return [];
    let totalLength = 0;
    for (const doc of this.#docs.values()) totalLength += doc.length;
    const avgDocLength = totalLength / docCount;
    const { k1, b } = this.#options;
    const scores = new Map<string, number>();
    for (const term of this.#resolve(query)) {
      const frequencies = new Map<string, number>();
      for (const [key, doc] of this.#docs) {
        const { frequency, isHit } = this.#frequency(doc, term);
        if (isHit) frequencies.set(key, frequency);
      }
      const hitCount = frequencies.size;
      let idf = Math.log((docCount - hitCount + 0.5) / (hitCount + 0.5));
      if (idf <= 0) idf = 1e-6;
      for (const [key, f] of frequencies) {
        const length = this.#docs.get(key)?.length ?? 0;
        const contribution =
          idf * ((f * (k1 + 1)) / (f + k1 * (1 - b + (b * length) / avgDocLength)));
        scores.set(key, (scores.get(key) ?? 0) + contribution);
      }
    }
    return [...scores]
      .map(([docKey, score]) => ({ docKey, score }))
      .sort((x, y) => y.score - x.score || (x.docKey < y.docKey ? -1 : x.docKey > y.docKey ? 1 : 0))
      .slice(0, k);
  }
}
