/**
 * The offline default embedder: deterministic feature hashing of word tokens and character
 * trigrams into `dimensions` signed buckets, L2-normalised. No network, no model.
 *
 * Honestly: this is a *lexical* embedding. Texts that share words and word pieces land close
 * together; synonyms and paraphrases do not. It makes dense and hybrid search work offline and
 * reproducibly; for semantic similarity configure the `openai` provider against a local model.
 */
import { assert } from "../../core/mod.ts";
import { type Embedder, normaliseL2 } from "./embedder.ts";

/** Characters of a text that are embedded; the rest is ignored (bounds work per text). */
export const HASH_TEXT_CHARS_MAX = 1_000_000;
const WORD = /[\p{L}\p{N}_]+/gu;
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;

/** 32-bit FNV-1a of a string's UTF-16 code units, from `seed`. */
export function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

const FNV_PRIME = 0x01000193;
/** FNV-1a states after the feature prefixes `w:` (words) and `t:` (trigrams). */
const WORD_SEED = fnv1a("w:", 0);
const TRIGRAM_SEED = fnv1a("t:", 0);
const CARET = 0x5e; // "^": a trigram at a word's start
const DOLLAR = 0x24; // "$": a trigram at a word's end
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is what it tests
const NON_ASCII = /[^\u0000-\u007f]/;

/** Adds `weight` to the feature's signed bucket; the sign comes from the hash's mixed top bit. */
function addHashed(vector: Float32Array, hash: number, weight: number): void {
  const bucket = (hash >>> 0) % vector.length;
  const mixed = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
  vector[bucket] = (vector[bucket] as number) + ((mixed ^ (mixed >>> 12)) & 1 ? -weight : weight);
}

/** The word `codes[start..end)` and the trigrams of `^word$`, hashed in place (no substrings). */
function addWord(vector: Float32Array, codes: Uint16Array, start: number, end: number): void {
  let hash = WORD_SEED;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (codes[i] as number), FNV_PRIME);
  addHashed(vector, hash, WORD_WEIGHT);
  // ^word$ has (end - start) trigrams: positions start-1 .. end-2 of the padded word.
  for (let i = start - 1; i + 2 <= end; i++) {
    const a = i < start ? CARET : (codes[i] as number);
    const b = codes[i + 1] as number;
    const c = i + 2 === end ? DOLLAR : (codes[i + 2] as number);
    let t = Math.imul(TRIGRAM_SEED ^ a, FNV_PRIME);
    t = Math.imul(t ^ b, FNV_PRIME);
    t = Math.imul(t ^ c, FNV_PRIME);
    addHashed(vector, t, TRIGRAM_WEIGHT);
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
 * Embeds one text. Features: each word (a maximal run of letters, digits and `_` of the NFKC,
 * lower-cased text) and the character trigrams of `^word$`, each hashed (FNV-1a) to a signed
 * bucket. ASCII text skips NFKC (it is invariant) and is scanned by code unit.
 */
export function hashEmbed(text: string, dimensions: number): Float32Array {
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

/**
 * Creates the hash embedder.
 *
 * @example
 * ```ts
 * const embedder = createHashEmbedder({ dimensions: 384 });
 * const [v] = await embedder.embed(["parseConfig reads the file"]);
 * ```
 */
export function createHashEmbedder(options: { dimensions: number }): Embedder {
  return {
    provider: "hash",
    dimensions: options.dimensions,
    embed: (texts) => Promise.resolve(texts.map((text) => hashEmbed(text, options.dimensions))),
  };
}
