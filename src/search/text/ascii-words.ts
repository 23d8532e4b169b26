/**
 * Word splitting of an ASCII piece (letters and digits, no joiners) by one scan over char
 * codes: the same boundaries as the code tokenizer's Unicode pattern, without a regex per piece
 * (identifier splitting dominates indexing time on code).
 */

const KIND_OTHER = 0;
const KIND_LOWER = 1;
const KIND_UPPER = 2;
const KIND_DIGIT = 3;

function kindOf(code: number): number {
  if (code >= 0x61 && code <= 0x7a) return KIND_LOWER;
  if (code >= 0x41 && code <= 0x5a) return KIND_UPPER;
  if (code >= 0x30 && code <= 0x39) return KIND_DIGIT;
  return KIND_OTHER;
}

/**
 * The lowercased words of an ASCII alphanumeric piece: cut at lower→upper (`getUser`), before
 * the last capital of a capital run followed by a lowercase letter (`XMLHttp` → `xml`,
 * `http`) and at letter↔digit changes (`utf8` → `utf`, `8`).
 *
 * @example
 * ```ts
 * asciiWords("getHTTP2Server"); // ["get", "http", "2", "server"]
 * ```
 */
export function asciiWords(piece: string): string[] {
  const lowered = piece.toLowerCase();
  const words: string[] = [];
  let start = 0;
  let previous = kindOf(piece.charCodeAt(0));
  for (let i = 1; i < piece.length; i++) {
    const kind = kindOf(piece.charCodeAt(i));
    const isCut =
      (previous === KIND_LOWER && kind === KIND_UPPER) ||
      (previous === KIND_UPPER &&
        kind === KIND_UPPER &&
        kindOf(piece.charCodeAt(i + 1)) === KIND_LOWER) ||
      (previous === KIND_DIGIT) !== (kind === KIND_DIGIT);
    if (isCut) {
      words.push(lowered.slice(start, i));
      start = i;
    }
    previous = kind;
  }
  if (piece.length > 0) words.push(lowered.slice(start));
  return words;
}

/** Kind of each ASCII code unit (`KIND_OTHER` past 127). */
const KIND_TABLE = Uint8Array.from({ length: 128 }, (_, code) => kindOf(code));

/** True when `compound` is one lowercase-letter word or one number (needs no splitting). */
export function isSimpleAscii(compound: string): boolean {
  const firstCode = compound.charCodeAt(0);
  const first = firstCode < 128 ? (KIND_TABLE[firstCode] as number) : KIND_OTHER;
  if (first !== KIND_LOWER && first !== KIND_DIGIT) return false;
  for (let i = 1; i < compound.length; i++) {
    const code = compound.charCodeAt(i);
    if (code >= 128 || KIND_TABLE[code] !== first) return false;
  }
  return true;
}
