/**
 * Options of a text index, their defaults and their validation.
 */
import { VltairError } from "../../core/mod.ts";
import { BM25_DEFAULTS, checkBm25Params } from "./bm25.ts";
import { checkNumber, TEXT_LIMIT_DEFAULTS, TEXT_LIMITS } from "./text-limits.ts";
import { TOKENIZER_NAMES, type TokenizerName } from "./tokenizer.ts";

/** Options of `createTextIndex`. */
export interface TextIndexOptions {
  /** Default `"code"`; `"unicode61"` ranks exactly as SQLite FTS5. */
  tokenizer?: TokenizerName;
  /** BM25 term-frequency saturation, default 1.2 (FTS5's). */
  k1?: number;
  /** BM25 length normalisation, default 0.75 (FTS5's). */
  b?: number;
  /**
   * Weight of an alias occurrence (code tokenizer: a word inside an identifier, or a whole
   * dotted/snake compound) against a token occurrence, in [0, 1]; FTS5's column weight.
   * Default 0.25. 0 makes aliases unsearchable.
   */
  aliasWeight?: number;
  /** Longest token kept, in UTF-16 code units (default 256, at most 4096); longer are cut. */
  tokenCharsMax?: number;
  /** Most tokens per document (default 100,000, at most 1,000,000); more is rejected. */
  tokensPerDocMax?: number;
}

/** Options with every default applied. */
export type ResolvedTextIndexOptions = Required<TextIndexOptions>;

/** Defaults of {@link TextIndexOptions}. */
export const TEXT_INDEX_DEFAULTS: ResolvedTextIndexOptions = {
  tokenizer: "code",
  k1: BM25_DEFAULTS.k1,
  b: BM25_DEFAULTS.b,
  aliasWeight: 0.25,
  tokenCharsMax: TEXT_LIMIT_DEFAULTS.tokenCharsMax,
  tokensPerDocMax: TEXT_LIMIT_DEFAULTS.tokensPerDocMax,
};

/** Applies defaults and validates every field; throws `validation_failed` naming the field. */
export function resolveTextIndexOptions(options: TextIndexOptions): ResolvedTextIndexOptions {
  const resolved: ResolvedTextIndexOptions = { ...TEXT_INDEX_DEFAULTS, ...options };
  if (!TOKENIZER_NAMES.includes(resolved.tokenizer)) {
    throw new VltairError("validation_failed", "tokenizer must be code or unicode61", {
      details: { field: "tokenizer", actual: String(resolved.tokenizer) },
    });
  }
  checkBm25Params(resolved);
  checkNumber("aliasWeight", resolved.aliasWeight, { min: 0, max: 1, integer: false });
  checkNumber("tokenCharsMax", resolved.tokenCharsMax, {
    min: 2,
    max: TEXT_LIMITS.tokenCharsMax,
    integer: true,
  });
  checkNumber("tokensPerDocMax", resolved.tokensPerDocMax, {
    min: 1,
    max: TEXT_LIMITS.tokensPerDocMax,
    integer: true,
  });
  return resolved;
}
