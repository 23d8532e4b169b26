/**
 * Limits of the text index, each with its reason, and the validation of its options.
 */
import { VltairError } from "../../core/mod.ts";

/** Hard ceilings of the text index; options may lower the defaults, never pass these. */
export const TEXT_LIMITS = {
  /**
   * Longest token kept, in UTF-16 code units; longer tokens are cut at a code point boundary
   * (still one token, so document lengths stay FTS5's). Base64 blobs and minified lines would
   * otherwise bloat the term dictionary with unsearchable keys.
   */
  tokenCharsMax: 4096,
  /** Most tokens one document may produce; `add` rejects more with `payload_too_large`. */
  tokensPerDocMax: 1_000_000,
  /** Longest document key, in UTF-16 code units (document ids are short strings). */
  docKeyCharsMax: 1024,
  /** Most distinct terms one query may carry; more are rejected with `validation_failed`. */
  queryTermsMax: 256,
  /** Longest query text, in UTF-16 code units. */
  queryCharsMax: 16_384,
  /** Most results one search returns; bounds the top-k heap. */
  kMax: 10_000,
  /** Most dictionary terms one prefix term (`foo*`) may expand to. */
  prefixTermsMax: 65_536,
  /** Most documents one index holds: internal slots are 32-bit and scores sit in dense arrays. */
  docCountMax: 50_000_000,
  /** Largest `k1` accepted: past it term frequency never saturates, which BM25 assumes. */
  k1Max: 10,
} as const;

/** Defaults of the limits a caller may lower. */
export const TEXT_LIMIT_DEFAULTS = {
  /** Long enough for any real identifier or word; see `TEXT_LIMITS.tokenCharsMax`. */
  tokenCharsMax: 256,
  /** A 40-line code chunk yields a few hundred tokens; 100k leaves room for big documents. */
  tokensPerDocMax: 100_000,
} as const;

/** Per-call limits of the tokenizers. */
export interface TokenizeLimits {
  /** Longest token, in UTF-16 code units; longer ones are truncated. */
  tokenCharsMax: number;
  /** Most tokens and aliases together; one more throws `payload_too_large`. */
  tokensMax: number;
}

/** A tokenizer's output. */
export interface Tokenized {
  /** The tokens; their number is the document's length for BM25. */
  tokens: string[];
  /** Extra forms sharing the tokens' positions (code tokenizer only; empty for unicode61). */
  aliases: string[];
}

/** Throws `validation_failed` unless `value` is a number in [min, max] (an integer if asked). */
export function checkNumber(
  field: string,
  value: number,
  range: { min: number; max: number; integer: boolean },
): void {
  const isValid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!isValid) {
    throw new VltairError("validation_failed", `${field} must be in [${range.min}, ${range.max}]`, {
      details: { field, min: range.min, max: range.max, actual: String(value) },
    });
  }
}

/** The error of a document or query producing more than `tokensMax` tokens. */
export function tooManyTokens(tokensMax: number): VltairError {
  return new VltairError("payload_too_large", `text produces more than ${tokensMax} tokens`, {
    details: { field: "text", limit: tokensMax },
  });
}
