/**
 * The code-aware tokenizer (the default): NFKC, lowercase, identifiers kept whole AND split into
 * their words, so that `getUserName` is found by `getUserName`, `user` or `name`.
 *
 * A compound is a run of word characters (letters, marks, numbers, `_`) whose parts may be
 * joined by single `.` or `-` characters between word characters (`foo_bar.baz`, `kebab-case`,
 * `v1.2.3`). Its pieces are the runs between `.`, `-` and `_`; a piece's words are split at
 * lower→upper case changes (`getUser`), before the last capital of a capital run followed by a
 * lowercase letter (`XMLHttp` → `xml`, `http`) and at letter↔digit changes (`utf8` → `utf`, `8`).
 *
 * Output, in two kinds:
 * - tokens: each piece, lowercased whole (`getusername`, `foo`, `bar`). On ASCII text these
 *   are exactly FTS5 `unicode61`'s tokens; they are the document's length for BM25.
 * - aliases: the extra forms: the words of a piece of several words (`get`, `user`, `name`),
 *   and the lowercased compound and its `.`/`-` segments when made of several pieces
 *   (`foo_bar.baz`, `foo_bar`). Aliases share the position of the token they come from (as
 *   FTS5 colocated tokens do), so they do not add to the length; the index weighs them by
 *   `aliasWeight`.
 */
import { assert } from "../../core/mod.ts";
import { asciiWords, isSimpleAscii } from "./ascii-words.ts";
import { type Tokenized, type TokenizeLimits, tooManyTokens } from "./text-limits.ts";

const COMPOUND = /[\p{L}\p{M}\p{N}_]+(?:[.-][\p{L}\p{M}\p{N}_]+)*/gu;
/** The compound pattern restricted to ASCII: equal results on ASCII text, several times faster. */
const COMPOUND_ASCII = /[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*/g;
const JOINERS = /[._-]/;
const WORD =
  /\p{Lu}+(?=\p{Lu}[\p{Ll}\p{Lo}\p{Lm}\p{M}])|\p{Lu}?[\p{Ll}\p{Lo}\p{Lm}\p{Lt}\p{M}]+|\p{Lu}+|\p{N}+/gu;
const SIMPLE_WORD = /^(?:[a-z]+|[0-9]+)$/;
const SEGMENT_JOINER = /[.-]/;
const UNDERSCORES = /_+/;
const NON_ASCII = /[\u0080-\uffff]/;

/** Cuts `token` to `charsMax` UTF-16 units without splitting a surrogate pair. */
export function truncate(token: string, charsMax: number): string {
  if (token.length <= charsMax) return token;
  const last = token.charCodeAt(charsMax - 1);
  const isHighSurrogate = last >= 0xd800 && last <= 0xdbff;
  return token.slice(0, isHighSurrogate ? charsMax - 1 : charsMax);
}

/** One piece of a compound: its lowercased text and its lowercased words. */
export interface CompoundPiece {
  text: string;
  words: string[];
}

/** One compound: its lowercased whole form, its pieces, and its aliases. */
export interface Compound {
  whole: string;
  pieces: CompoundPiece[];
  aliases: string[];
}

/** The lowercased words of a piece without joiners. */
function wordsOf(piece: string, isAscii: boolean): string[] {
  if (isAscii) return asciiWords(piece);
  if (SIMPLE_WORD.test(piece)) return [piece];
  return (piece.match(WORD) ?? []).map((word) => word.toLowerCase());
}

function splitCompound(compound: string, isAscii: boolean): Compound | null {
  if (!JOINERS.test(compound)) {
    const words = wordsOf(compound, isAscii);
    if (words.length === 0) return null;
    const whole = compound.toLowerCase();
    return { whole, pieces: [{ text: whole, words }], aliases: words.length > 1 ? words : [] };
  }
  const pieces: CompoundPiece[] = [];
  const aliases: string[] = [];
  const whole = compound.toLowerCase();
  const segments = compound.split(SEGMENT_JOINER);
  for (const segment of segments) {
    const segmentPieces = segment.split(UNDERSCORES).filter((piece) => piece.length > 0);
    if (segmentPieces.length > 1) aliases.push(segment.toLowerCase());
    for (const piece of segmentPieces) {
      const words = wordsOf(piece, isAscii);
      if (words.length === 0) continue;
      if (words.length > 1) aliases.push(...words);
      pieces.push({ text: piece.toLowerCase(), words });
    }
  }
  if (pieces.length === 0) return null;
  if (pieces.length > 1 && segments.length > 1) aliases.unshift(whole);
  return { whole, pieces, aliases };
}

/** Calls `visit` for each compound of `text` (after NFKC), in order. */
export function forEachCompound(text: string, visit: (compound: Compound) => void): void {
  const isAscii = !NON_ASCII.test(text);
  const normalized = isAscii ? text : text.normalize("NFKC");
  for (const match of normalized.matchAll(isAscii ? COMPOUND_ASCII : COMPOUND)) {
    const compound = match[0];
    if (SIMPLE_WORD.test(compound)) {
      visit({ whole: compound, pieces: [{ text: compound, words: [compound] }], aliases: [] });
      continue;
    }
    const split = splitCompound(compound, isAscii);
    if (split !== null) visit(split);
  }
}

/**
 * Splits of compound identifiers, memoised: code repeats its identifiers, and splitting them is
 * most of the tokenizer's time. Bounded: cleared when full. Keyed by the truncation limit too.
 */
const SPLIT_CACHE_ENTRIES_MAX = 65_536;

/**
 * A memoised split: its tokens and aliases, and room for one index to keep their term ids
 * (`ids`, valid while `idsOwner` and `idsEpoch` are that index's), so that a repeated
 * identifier is not looked up in the term dictionary again.
 */
export interface CodeSplit extends Tokenized {
  idsOwner: object | null;
  idsEpoch: number;
  ids: Uint32Array | null;
}

const splitCache = new Map<string, CodeSplit | null>();
let splitCacheLimit = -1;

function splitCached(compound: string, isAscii: boolean, tokenCharsMax: number): CodeSplit | null {
  if (splitCacheLimit !== tokenCharsMax) {
    splitCache.clear();
    splitCacheLimit = tokenCharsMax;
  }
  const hit = splitCache.get(compound);
  if (hit !== undefined) return hit;
  const split = splitCompound(compound, isAscii);
  const value =
    split === null
      ? null
      : {
          tokens: split.pieces.map((piece) => truncate(piece.text, tokenCharsMax)),
          aliases: split.aliases.map((alias) => truncate(alias, tokenCharsMax)),
          idsOwner: null,
          idsEpoch: 0,
          ids: null,
        };
  if (splitCache.size >= SPLIT_CACHE_ENTRIES_MAX) splitCache.clear();
  splitCache.set(compound, value);
  return value;
}

/**
 * Splits `text` into code-aware tokens and aliases.
 *
 * @example
 * ```ts
 * tokenizeCode("getUserName(foo_bar.baz)", { tokenCharsMax: 256, tokensMax: 1000 });
 * // { tokens: ["getusername", "foo", "bar", "baz"],
 * //   aliases: ["get", "user", "name", "foo_bar.baz", "foo_bar"] }
 * ```
 */
export function tokenizeCode(text: string, limits: TokenizeLimits): Tokenized {
  const tokens: string[] = [];
  const aliases: string[] = [];
  scanCode(text, limits, {
    word: (word) => {
      tokens.push(word);
    },
    split: (split) => {
      for (const piece of split.tokens) tokens.push(piece);
      for (const alias of split.aliases) aliases.push(alias);
    },
  });
  return { tokens, aliases };
}

/** What `scanCode` reports, compound by compound. */
export interface CodeScanVisitor {
  /** A compound that is one simple word: one token, no alias. */
  word(word: string): void;
  /** A compound of several words or pieces: its tokens and aliases (memoised, shared). */
  split(split: CodeSplit): void;
}

/**
 * The code tokenizer's walk: each compound of `text` in order, as one word or as a memoised
 * split. `tokenizeCode` is its tokens in order, then the splits' aliases in order. Throws
 * `payload_too_large` once tokens and aliases pass `tokensMax` (checked per compound).
 */
export function scanCode(text: string, limits: TokenizeLimits, visitor: CodeScanVisitor): void {
  assert(limits.tokenCharsMax >= 2, "tokenCharsMax must hold a surrogate pair");
  const { tokenCharsMax, tokensMax } = limits;
  let count = 0;
  const isAscii = !NON_ASCII.test(text);
  const normalized = isAscii ? text : text.normalize("NFKC");
  for (const compound of normalized.match(isAscii ? COMPOUND_ASCII : COMPOUND) ?? []) {
    if (isAscii ? isSimpleAscii(compound) : SIMPLE_WORD.test(compound)) {
      visitor.word(compound.length > tokenCharsMax ? truncate(compound, tokenCharsMax) : compound);
      count++;
    } else {
      const split = splitCached(compound, isAscii, tokenCharsMax);
      if (split === null) continue;
      visitor.split(split);
      count += split.tokens.length + split.aliases.length;
    }
    // Checked per compound: one compound adds at most a few times its length past the limit.
    if (count > tokensMax) throw tooManyTokens(tokensMax);
  }
}
