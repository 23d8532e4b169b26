/**
 * BM25 exactly as SQLite FTS5's `bm25()` computes it (ext/fts5/fts5_aux.c), so that scores can
 * be compared with FTS5's bit for bit: the same IDF with the same floor, the same document
 * length (tokens in the row) and average (total tokens / rows over the whole table), and the
 * same floating-point expression evaluated in the same order. FTS5 returns the negated score;
 * here scores are positive and larger is better.
 */
import { checkNumber, TEXT_LIMITS } from "./text-limits.ts";

/** The two BM25 parameters. FTS5 hard-codes the defaults. */
export interface Bm25Params {
  /** Term-frequency saturation, default 1.2, in [0, `TEXT_LIMITS.k1Max`]. */
  k1: number;
  /** Document-length normalisation, default 0.75, in [0, 1]. */
  b: number;
}

/** FTS5's constants. */
export const BM25_DEFAULTS: Bm25Params = { k1: 1.2, b: 0.75 };

/** FTS5's IDF floor: a term in more than half of the documents would otherwise score negative. */
export const BM25_IDF_FLOOR = 1e-6;

/** Throws `validation_failed` unless `k1` and `b` are in range. */
export function checkBm25Params(params: Bm25Params): void {
  checkNumber("k1", params.k1, { min: 0, max: TEXT_LIMITS.k1Max, integer: false });
  checkNumber("b", params.b, { min: 0, max: 1, integer: false });
}

/**
 * FTS5's IDF of a term found in `hitCount` of `docCount` documents:
 * `log((N - n + 0.5) / (n + 0.5))`, replaced by 1e-6 when not positive.
 *
 * @example
 * ```ts
 * bm25Idf(4, 1); // Math.log(3.5 / 1.5) ≈ 0.8473
 * bm25Idf(4, 3); // 1e-6 (log(1.5 / 3.5) < 0)
 * ```
 */
export function bm25Idf(docCount: number, hitCount: number): number {
  const idf = Math.log((docCount - hitCount + 0.5) / (hitCount + 0.5));
  return idf <= 0 ? BM25_IDF_FLOOR : idf;
}

/** What one term's contribution depends on. */
export interface Bm25TermStats {
  /** The term's IDF ({@link bm25Idf}). */
  idf: number;
  /** Occurrences of the term in the document. */
  termFrequency: number;
  /** Tokens in the document. */
  docLength: number;
  /** Tokens in all documents / number of documents. */
  avgDocLength: number;
}

/**
 * One term's contribution to a document's score, FTS5's expression verbatim:
 * `idf * ((f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)))`. A document's score is the sum
 * of its query terms' contributions, added in query-term order. (The index inlines this same
 * expression in its scoring loop.)
 *
 * @example
 * ```ts
 * bm25Term({ idf: bm25Idf(4, 1), termFrequency: 2, docLength: 10, avgDocLength: 8 }, BM25_DEFAULTS);
 * ```
 */
export function bm25Term(stats: Bm25TermStats, params: Bm25Params): number {
  const { k1, b } = params;
  const f = stats.termFrequency;
  return (
    stats.idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + (b * stats.docLength) / stats.avgDocLength)))
  );
}
