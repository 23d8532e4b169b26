/**
 * Full-text half of the context engine: code-aware and FTS5-compatible tokenizers and a true
 * BM25 inverted index (FTS5's formula, exact top-k, deterministic serialization). One index per
 * tenant, so statistics never mix tenants.
 *
 * @example
 * ```ts
 * import { createTextIndex, loadTextIndex } from "./search/text/mod.ts";
 *
 * const index = createTextIndex({ tokenizer: "code" });
 * index.add("a", "export function getUserName(user) { return user.name; }");
 * index.add("b", "# Users\nEvery user has a name.");
 * const top = index.search("getUserName", 10, { allow: (docKey) => docKey !== "b" });
 * const restored = loadTextIndex(index.serialize());
 * ```
 */
export type { Bm25Params, Bm25TermStats } from "./bm25.ts";
export { BM25_DEFAULTS, BM25_IDF_FLOOR, bm25Idf, bm25Term } from "./bm25.ts";
export { createTextIndex, loadTextIndex, loadTextIndexSteps } from "./load-text-index.ts";
export type { QueryTerm } from "./query.ts";
export { parseQuery } from "./query.ts";
export type { TextIndex, TextIndexStats, TextMatch, TextSearchOptions } from "./text-index.ts";
export type { ResolvedTextIndexOptions, TextIndexOptions } from "./text-index-options.ts";
export { TEXT_INDEX_DEFAULTS } from "./text-index-options.ts";
export type { Tokenized, TokenizeLimits } from "./text-limits.ts";
export { TEXT_LIMIT_DEFAULTS, TEXT_LIMITS } from "./text-limits.ts";
export { tokenizeCode } from "./tokenize-code.ts";
export { tokenizeUnicode61 } from "./tokenize-unicode61.ts";
export type { TokenizerName } from "./tokenizer.ts";
export { TOKENIZER_NAMES, tokenize } from "./tokenizer.ts";
