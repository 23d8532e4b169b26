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

function addFeature(vector: Float32Array, feature: string, weight: number): void {
  const bucket = fnv1a(feature, 0) % vector.length;
  const sign = (fnv1a(feature, 0x9e3779b9) & 1) === 0 ? 1 : -1;
  vector[bucket] = (vector[bucket] as number) + sign * weight;
}

/** Embeds one text. Exported for tests and for the benchmark's corpus generation. */
export function hashEmbed(text: string, dimensions: number): Float32Array {
  assert(Number.isInteger(dimensions) && dimensions > 0, "dimensions is a positive integer");
  const vector = new Float32Array(dimensions);
  const normal = text.slice(0, HASH_TEXT_CHARS_MAX).normalize("NFKC").toLowerCase();
  for (const match of normal.matchAll(WORD)) {
    const word = match[0];
    addFeature(vector, `w:${word}`, WORD_WEIGHT);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++)
      addFeature(vector, `t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
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
