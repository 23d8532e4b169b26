/**
 * The two tokenizers behind one name, shared by indexing and querying.
 */
import type { Tokenized, TokenizeLimits } from "./text-limits.ts";
import { tokenizeCode } from "./tokenize-code.ts";
import { tokenizeUnicode61 } from "./tokenize-unicode61.ts";

/** `code`: code-aware (default). `unicode61`: SQLite FTS5's default tokenizer. */
export type TokenizerName = "code" | "unicode61";

/** Every tokenizer name. */
export const TOKENIZER_NAMES: readonly TokenizerName[] = ["code", "unicode61"];

/**
 * Tokenizes `text` with the named tokenizer.
 *
 * @example
 * ```ts
 * tokenize("unicode61", "Héllo World", { tokenCharsMax: 256, tokensMax: 100 }); // { tokens: ["hello", "world"], aliases: [] }
 * ```
 */
export function tokenize(name: TokenizerName, text: string, limits: TokenizeLimits): Tokenized {
  return name === "code" ? tokenizeCode(text, limits) : tokenizeUnicode61(text, limits);
}
