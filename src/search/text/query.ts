/**
 * Query text → query terms. Words are separated by whitespace; a word ending in `*` is a prefix
 * word. With `unicode61` each token of a word is a term; in a prefix word the last token is a
 * prefix term (as FTS5's `"foo"*`). With `code`, each compound of a word gives its whole form
 * when made of several pieces (`foo_bar` → `foo_bar`), then each piece (`foo`, `bar`;
 * `getUserName` → `getusername`), and a piece of several words falls back to its words when the
 * index has never seen it (`getUserNames` → `get`, `user`, `names`); in a prefix word the
 * first token (the whole compound) is the only, prefix, term. Terms are deduplicated (a repeated
 * term does not weigh more), keeping first-occurrence order, which is the order their
 * contributions are added in.
 */
import { VltairError } from "../../core/mod.ts";
import { TEXT_LIMITS } from "./text-limits.ts";
import { forEachCompound, truncate } from "./tokenize-code.ts";
import { type TokenizerName, tokenize } from "./tokenizer.ts";

/** One query term: an exact term, or a prefix matching every term that starts with it. */
export interface QueryTerm {
  text: string;
  isPrefix: boolean;
  /** Code tokenizer, a compound of several words: its words, used when `text` is unknown. */
  words?: readonly string[];
}

const WHITESPACE = /\s+/u;

/** Code tokenizer: each compound's whole form (when several pieces), then its pieces. */
function codeTerms(body: string, tokenCharsMax: number): QueryTerm[] {
  const terms: QueryTerm[] = [];
  forEachCompound(body, (compound) => {
    if (compound.pieces.length > 1) {
      terms.push({ text: truncate(compound.whole, tokenCharsMax), isPrefix: false });
    }
    for (const piece of compound.pieces) {
      const text = truncate(piece.text, tokenCharsMax);
      const words = piece.words.map((word) => truncate(word, tokenCharsMax));
      terms.push(words.length > 1 ? { text, isPrefix: false, words } : { text, isPrefix: false });
    }
  });
  return terms;
}

/** Code tokenizer, prefix word: the first compound's whole form is the only term. */
function codePrefixTerms(body: string, tokenCharsMax: number): QueryTerm[] {
  let whole: string | undefined;
  forEachCompound(body, (compound) => {
    whole ??= compound.whole;
  });
  return whole === undefined ? [] : [{ text: truncate(whole, tokenCharsMax), isPrefix: true }];
}

function wordTerms(word: string, tokenizer: TokenizerName, tokenCharsMax: number): QueryTerm[] {
  const isPrefix = word.length > 1 && word.endsWith("*");
  const body = isPrefix ? word.slice(0, -1) : word;
  if (tokenizer === "code") {
    return isPrefix ? codePrefixTerms(body, tokenCharsMax) : codeTerms(body, tokenCharsMax);
  }
  const limits = { tokenCharsMax, tokensMax: TEXT_LIMITS.queryCharsMax };
  const { tokens } = tokenize(tokenizer, body, limits);
  return tokens.map((text, i) => ({ text, isPrefix: isPrefix && i === tokens.length - 1 }));
}

/**
 * Parses `query` into distinct terms; throws `validation_failed` when the text is longer than
 * `TEXT_LIMITS.queryCharsMax` or yields more than `TEXT_LIMITS.queryTermsMax` terms.
 *
 * @example
 * ```ts
 * parseQuery("getUser* token", "code", 256);
 * // [{ text: "getuser", isPrefix: true }, { text: "token", isPrefix: false }]
 * ```
 */
export function parseQuery(
  query: string,
  tokenizer: TokenizerName,
  tokenCharsMax: number,
): QueryTerm[] {
  if (query.length > TEXT_LIMITS.queryCharsMax) {
    throw new VltairError("validation_failed", "query text is too long", {
      details: { field: "query", limit: TEXT_LIMITS.queryCharsMax, actual: query.length },
    });
  }
  const terms: QueryTerm[] = [];
  const seen = new Set<string>();
  for (const word of query.split(WHITESPACE)) {
    if (word.length === 0) continue;
    for (const term of wordTerms(word, tokenizer, tokenCharsMax)) {
      const key = `${term.isPrefix ? "p" : "e"}${term.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      terms.push(term);
    }
  }
  if (terms.length > TEXT_LIMITS.queryTermsMax) {
    throw new VltairError("validation_failed", "query has too many terms", {
      details: { field: "query", limit: TEXT_LIMITS.queryTermsMax, actual: terms.length },
    });
  }
  return terms;
}
