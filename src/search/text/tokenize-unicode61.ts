/**
 * A tokenizer equal to SQLite FTS5's default `unicode61` (remove_diacritics=1): token characters
 * are what FTS5 deems letters, numbers and private-use characters, everything else separates,
 * and each character is case-folded and stripped of its diacritic exactly as FTS5 does (the
 * per-code-point table is generated from FTS5 itself). Only the token length cap differs.
 */
import { assert } from "../../core/mod.ts";
import { type Tokenized, type TokenizeLimits, tooManyTokens } from "./text-limits.ts";
import { FOLD_DROPPED, FOLD_SEPARATOR, unicode61Fold } from "./unicode61-fold.ts";

const ASCII_END = 0x80;
const HIGH_SURROGATE_MIN = 0xd800;
const HIGH_SURROGATE_MAX = 0xdbff;
const BMP_SIZE = 0x10000;
const NON_ASCII = /[\u0080-\uffff]/;
const ASCII_TOKEN = /[a-z0-9]+/g;

/** Folded UTF-16 units of the current token, reused across calls (one token at a time). */
let unitBuffer = new Uint16Array(512);

/** Appends a code point's units; returns the new length, or -1 when it does not fit. */
function pushUnits(length: number, codePoint: number, charsMax: number): number {
  const width = codePoint >= BMP_SIZE ? 2 : 1;
  if (length + width > charsMax) return -1;
  if (length + width > unitBuffer.length) {
    const grown = new Uint16Array(unitBuffer.length * 2);
    grown.set(unitBuffer);
    unitBuffer = grown;
  }
  if (width === 1) {
    unitBuffer[length] = codePoint;
  } else {
    const offset = codePoint - BMP_SIZE;
    unitBuffer[length] = HIGH_SURROGATE_MIN + (offset >> 10);
    unitBuffer[length + 1] = 0xdc00 + (offset & 0x3ff);
  }
  return length + width;
}

function unitsToString(length: number): string {
  let result = "";
  const chunkUnits = 1024;
  for (let start = 0; start < length; start += chunkUnits) {
    const end = Math.min(length, start + chunkUnits);
    result += String.fromCharCode.apply(null, Array.from(unitBuffer.subarray(start, end)));
  }
  return result;
}

/** ASCII-only text: FTS5's token characters are [0-9A-Za-z], folded by lowercasing. */
function tokenizeAscii(text: string, limits: TokenizeLimits): Tokenized {
  const tokens = text.toLowerCase().match(ASCII_TOKEN) ?? [];
  if (tokens.length > limits.tokensMax) throw tooManyTokens(limits.tokensMax);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    if (token.length > limits.tokenCharsMax) tokens[i] = token.slice(0, limits.tokenCharsMax);
  }
  return { tokens, aliases: [] };
}

/**
 * Splits `text` into FTS5 `unicode61` tokens.
 *
 * @example
 * ```ts
 * tokenizeUnicode61("Héllo, getUserName foo_bar.baz", { tokenCharsMax: 256, tokensMax: 1000 });
 * // { tokens: ["hello", "getusername", "foo", "bar", "baz"], aliases: [] }
 * ```
 */
export function tokenizeUnicode61(text: string, limits: TokenizeLimits): Tokenized {
  assert(limits.tokenCharsMax >= 2, "tokenCharsMax must hold a surrogate pair");
  if (!NON_ASCII.test(text)) return tokenizeAscii(text, limits);
  const tokens: string[] = [];
  let length = 0;
  let isFull = false;
  let isAsciiRun = true;
  let runStart = -1;
  const finish = (end: number): void => {
    if (runStart >= 0 && length > 0) {
      if (tokens.length >= limits.tokensMax) throw tooManyTokens(limits.tokensMax);
      tokens.push(
        isAsciiRun
          ? text.slice(runStart, Math.min(end, runStart + limits.tokenCharsMax)).toLowerCase()
          : unitsToString(length),
      );
    }
    length = 0;
    isFull = false;
    isAsciiRun = true;
    runStart = -1;
  };
  for (let i = 0; i < text.length; i++) {
    let codePoint = text.charCodeAt(i);
    const start = i;
    if (codePoint >= HIGH_SURROGATE_MIN && codePoint <= HIGH_SURROGATE_MAX) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        codePoint = BMP_SIZE + ((codePoint - HIGH_SURROGATE_MIN) << 10) + (low - 0xdc00);
        i++;
      }
    }
    const folded = unicode61Fold(codePoint);
    if (folded === FOLD_SEPARATOR) {
      finish(start);
      continue;
    }
    if (runStart < 0) runStart = start;
    if (codePoint >= ASCII_END) isAsciiRun = false;
    if (folded === FOLD_DROPPED || isFull) continue;
    const grown = pushUnits(length, folded, limits.tokenCharsMax);
    if (grown < 0) isFull = true;
    else length = grown;
  }
  finish(text.length);
  return { tokens, aliases: [] };
}
