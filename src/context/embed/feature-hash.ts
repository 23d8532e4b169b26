/**
 * What the hash embedders share: FNV-1a over UTF-16 code units, the signed bucket a feature
 * lands in, and the bound on the characters embedded per text.
 */

/** Characters of a text that are embedded; the rest is ignored (bounds work per text). */
export const HASH_TEXT_CHARS_MAX = 1_000_000;
export const FNV_PRIME = 0x01000193;
const FNV_OFFSET = 0x811c9dc5;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is what it tests
export const NON_ASCII = /[^\u0000-\u007f]/;

/** 32-bit FNV-1a of a string's UTF-16 code units, from `seed`. */
export function fnv1a(text: string, seed: number): number {
  let hash = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash >>> 0;
}

/** Adds `weight` to the feature's signed bucket; the sign comes from the hash's mixed top bit. */
export function addHashed(vector: Float32Array, hash: number, weight: number): void {
  const bucket = (hash >>> 0) % vector.length;
  const mixed = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
  vector[bucket] = (vector[bucket] as number) + ((mixed ^ (mixed >>> 12)) & 1 ? -weight : weight);
}

/** FNV-1a state after the trigram feature prefix `t:`. */
const TRIGRAM_SEED = fnv1a("t:", 0);
const CARET = 0x5e; // "^": a trigram at a word's start
const DOLLAR = 0x24; // "$": a trigram at a word's end

/**
 * The hash of the trigram at padded position `i` (start − 1 … end − 3) of `^word$`, the word
 * being `codes[start..end)` (lowercased code units).
 */
export function trigramHash(codes: Uint16Array, start: number, end: number, i: number): number {
  const a = i < start ? CARET : (codes[i] as number);
  const b = codes[i + 1] as number;
  const c = i + 2 === end ? DOLLAR : (codes[i + 2] as number);
  let t = Math.imul(TRIGRAM_SEED ^ a, FNV_PRIME);
  t = Math.imul(t ^ b, FNV_PRIME);
  t = Math.imul(t ^ c, FNV_PRIME);
  return t >>> 0;
}
