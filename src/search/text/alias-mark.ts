/**
 * Marks an alias in the term dictionary: `ALIAS_MARK + alias` is the alias's index term. No
 * tokenizer emits U+0000 (it is a separator for both), so a mark never collides with a token.
 */
export const ALIAS_MARK = "\u0000";
