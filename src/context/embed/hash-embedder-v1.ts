/**
 * `hash-v1`, the first offline embedder (the default until `hash-v2`, hash-embedder.ts): feature
 * hashing of whole words (maximal runs of letters, digits and `_`, lowercased) and the character
 * trigrams of `^word$` into signed buckets, L2-normalised. Kept so that a data directory whose
 * vectors it made can still be searched with the same embedder (the tenant records the model).
 */
import { assert } from "../../core/mod.ts";
import { normaliseL2 } from "./embedder.ts";
import {
  addHashed,
  FNV_PRIME,
  fnv1a,
  HASH_TEXT_CHARS_MAX,
  NON_ASCII,
  trigramHash,
} from "./feature-hash.ts";

const WORD = /[\p{L}\p{N}_]+/gu;
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;

/** FNV-1a states after the feature prefixes `w:` (words) and `t:` (trigrams). */
const WORD_SEED = fnv1a("w:", 0);

/** The word `codes[start..end)` and the trigrams of `^word$`, hashed in place (no substrings). */
function addWord(vector: Float32Array, codes: Uint16Array, start: number, end: number): void {
  let hash = WORD_SEED;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (codes[i] as number), FNV_PRIME);
  addHashed(vector, hash, WORD_WEIGHT);
  // ^word$ has (end - start) trigrams: positions start-1 .. end-2 of the padded word.
  for (let i = start - 1; i + 2 <= end; i++) {
    addHashed(vector, trigramHash(codes, start, end, i), TRIGRAM_WEIGHT);
  }
}

const isAsciiWordCode = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;

let scratch = new Uint16Array(4096);

function codesOf(text: string): Uint16Array {
  if (scratch.length < text.length)
    scratch = new Uint16Array(Math.max(text.length, scratch.length * 2));
  for (let i = 0; i < text.length; i++) scratch[i] = text.charCodeAt(i);
  return scratch;
}

/**
 * Embeds one text as `hash-v1` did. Features: each word (a maximal run of letters, digits and `_` of the NFKC,
 * lower-cased text) and the character trigrams of `^word$`, each hashed (FNV-1a) to a signed
 * bucket. ASCII text skips NFKC (it is invariant) and is scanned by code unit.
 */
export function hashEmbedV1(text: string, dimensions: number): Float32Array {
  assert(Number.isInteger(dimensions) && dimensions > 0, "dimensions is a positive integer");
  const vector = new Float32Array(dimensions);
  const cut = text.slice(0, HASH_TEXT_CHARS_MAX);
  if (NON_ASCII.test(cut)) {
    const normal = cut.normalize("NFKC").toLowerCase();
    const codes = codesOf(normal);
    for (const match of normal.matchAll(WORD)) {
      addWord(vector, codes, match.index, match.index + match[0].length);
    }
  } else {
    const codes = codesOf(cut);
    let start = -1;
    for (let i = 0; i <= cut.length; i++) {
      let c = i < cut.length ? (codes[i] as number) : 0;
      if (c >= 0x41 && c <= 0x5a) {
        c += 0x20;
        codes[i] = c;
      }
      const inWord = i < cut.length && isAsciiWordCode(c);
      if (inWord && start < 0) start = i;
      else if (!inWord && start >= 0) {
        addWord(vector, codes, start, i);
        start = -1;
      }
    }
  }
  // A text without any word still gets a unit vector, so cosine distance stays defined.
  if (vector.every((x) => x === 0)) vector[0] = 1;
  return normaliseL2(vector);
}
