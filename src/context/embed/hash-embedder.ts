/**
 * The offline default embedder, `hash-v2`: deterministic feature hashing of identifiers, their
 * words and the words' character trigrams into `dimensions` signed buckets, L2-normalised. No
 * network, no model.
 *
 * Honestly: this is a *lexical* embedding. Texts that share words and word pieces land close
 * together; synonyms and paraphrases do not. It makes dense and hybrid search work offline and
 * reproducibly; for semantic similarity configure the `openai` provider against a local model.
 *
 * What changed from `hash-v1` (hash-embedder-v1.ts), each measured on the labeled code-search
 * set of bench/relevance.ts (docs/search.md "Relevance"): identifiers are split into words
 * (`getUserName` also gives `user`, `name`, so a sentence meets the code), and trigrams are
 * taken per word; a fixed list of English function words and code keywords gives no feature
 * (they are in every function, so they only pulled all vectors together); a feature's weight
 * grows with the logarithm of its count (one loop's forty `i`s no longer outweigh everything).
 */
import { assert } from "../../core/mod.ts";
import { type Embedder, normaliseL2 } from "./embedder.ts";
import {
  addHashed,
  FNV_PRIME,
  fnv1a,
  HASH_TEXT_CHARS_MAX,
  NON_ASCII,
  trigramHash,
} from "./feature-hash.ts";
import { hashEmbedV1 } from "./hash-embedder-v1.ts";

/** The hash embedders' models (the identity of their vectors); the default is the last. */
export const HASH_MODELS = ["hash-v1", "hash-v2"] as const;
export type HashModel = (typeof HASH_MODELS)[number];
export const HASH_MODEL_DEFAULT: HashModel = "hash-v2";
/** Weight of an identifier or word feature, and of one of a word's trigrams. */
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;
/** Words that give no feature: English function words and code keywords. */
const STOP_WORDS = [
  "a an the of to in on at by for from with as into onto and or nor but not no is are was were",
  "be been being it its this that these those there their them they we you your our if then than",
  "else so such which who what when where while do does did has have had can could may might must",
  "shall should will would also only any all each both either some other more most same very just",
  "var let const function return returns true false null undefined new void typeof instanceof",
  "async await break continue case default switch try catch finally throw",
].flatMap((line) => line.split(" "));

/** FNV-1a states after the feature prefixes `w:` (identifiers, words) and `t:` (trigrams). */
const WORD_SEED = fnv1a("w:", 0);
/** Continues FNV-1a from `state` over `text`. */
const fnvFrom = (state: number, text: string): number => {
  let hash = state;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash >>> 0;
};
const STOP_HASHES = new Set(STOP_WORDS.map((word) => fnvFrom(WORD_SEED, word)));
const UNDERSCORE = 0x5f;
const COMPOUND = /[\p{L}\p{M}\p{N}_]+/gu;
/** A compound's words: as the code tokenizer cuts them (case changes, letters and digits). */
const WORD =
  /\p{Lu}+(?=\p{Lu}[\p{Ll}\p{Lo}\p{Lm}\p{M}])|\p{Lu}?[\p{Ll}\p{Lo}\p{Lm}\p{Lt}\p{M}]+|\p{Lu}+|\p{N}+/gu;

/**
 * Summed weights by feature hash for the text being embedded: an open-addressing table reused
 * across texts (a slot is taken when its stamp is the current text's), with the taken slots
 * listed in first-seen order, so the sums reach the vector in a fixed order.
 */
let slotHashes = new Int32Array(4096);
let slotSums = new Float64Array(4096);
let slotStamps = new Uint32Array(4096);
let taken = new Int32Array(2048);
let takenCount = 0;
let stamp = 0;

function resetFeatures(): void {
  takenCount = 0;
  stamp += 1;
  if (stamp === 0xffffffff) {
    slotStamps.fill(0);
    stamp = 1;
  }
}

function slotOf(hash: number): number {
  const mask = slotHashes.length - 1;
  let slot = Math.imul(hash, 0x9e3779b1) >>> 0;
  for (;;) {
    slot &= mask;
    if (slotStamps[slot] !== stamp || slotHashes[slot] === hash) return slot;
    slot += 1;
  }
}

/** Doubles the table (keeping the taken slots' order) once it is half full. */
function growFeatures(): void {
  const hashes = Array.from(taken.subarray(0, takenCount), (slot) => slotHashes[slot] as number);
  const sums = Array.from(taken.subarray(0, takenCount), (slot) => slotSums[slot] as number);
  const size = slotHashes.length * 2;
  slotHashes = new Int32Array(size);
  slotSums = new Float64Array(size);
  slotStamps = new Uint32Array(size);
  taken = new Int32Array(size / 2);
  takenCount = 0;
  stamp = 1;
  for (const [i, hash] of hashes.entries()) addFeature(hash, sums[i] as number);
}

function addFeature(hash: number, weight: number): void {
  const key = hash | 0;
  const slot = slotOf(key);
  if (slotStamps[slot] === stamp) {
    slotSums[slot] = (slotSums[slot] as number) + weight;
    return;
  }
  slotStamps[slot] = stamp;
  slotHashes[slot] = key;
  slotSums[slot] = weight;
  taken[takenCount++] = slot;
  if (takenCount >= taken.length) growFeatures();
}

/** Lowercased code units of the compound being embedded, and its words' [start, end) pairs. */
let lower = new Uint16Array(256);
let wordBounds = new Int32Array(64);
let wordCount = 0;

function ensureRoom(chars: number, words: number): void {
  if (lower.length < chars) lower = new Uint16Array(Math.max(chars, lower.length * 2));
  if (wordBounds.length < 2 * words) {
    wordBounds = new Int32Array(Math.max(2 * words, wordBounds.length * 2));
  }
}

function hashRange(seed: number, start: number, end: number): number {
  let hash = seed;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (lower[i] as number), FNV_PRIME);
  return hash >>> 0;
}

/** The trigrams of `^word$` for the word at `lower[start..end)`. */
function addTrigrams(start: number, end: number): void {
  for (let i = start - 1; i + 2 <= end; i++) {
    addFeature(trigramHash(lower, start, end, i), TRIGRAM_WEIGHT);
  }
}

/**
 * The compound in `lower[0..length)` with its `wordCount` words: the whole compound (unless it
 * is one stop word), then each word that is not a stop word, with its trigrams.
 */
function addCompound(length: number): void {
  if (wordCount === 0) return;
  if (wordCount === 1) {
    const start = wordBounds[0] as number;
    const end = wordBounds[1] as number;
    const word = hashRange(WORD_SEED, start, end);
    if (STOP_HASHES.has(word)) return;
    addFeature(start === 0 && end === length ? word : hashRange(WORD_SEED, 0, length), WORD_WEIGHT);
    addTrigrams(start, end);
    return;
  }
  addFeature(hashRange(WORD_SEED, 0, length), WORD_WEIGHT);
  for (let w = 0; w < wordCount; w++) {
    const start = wordBounds[2 * w] as number;
    const end = wordBounds[2 * w + 1] as number;
    const word = hashRange(WORD_SEED, start, end);
    if (STOP_HASHES.has(word)) continue;
    addFeature(word, WORD_WEIGHT);
    addTrigrams(start, end);
  }
}

const KIND_OTHER = 0;
const KIND_LOWER = 1;
const KIND_UPPER = 2;
const KIND_DIGIT = 3;
const KIND_UNDERSCORE = 4;
const KINDS = Uint8Array.from({ length: 128 }, (_, c) =>
  c >= 0x61 && c <= 0x7a
    ? KIND_LOWER
    : c >= 0x41 && c <= 0x5a
      ? KIND_UPPER
      : c >= 0x30 && c <= 0x39
        ? KIND_DIGIT
        : c === UNDERSCORE
          ? KIND_UNDERSCORE
          : KIND_OTHER,
);

/** The kind of a code unit of ASCII text; anything else is `KIND_OTHER`. */
const kindOf = (code: number): number => KINDS[code] ?? KIND_OTHER;

/** Records the word `lower[start..end)` of the current compound. */
function pushWord(start: number, end: number): void {
  if (end <= start) return;
  ensureRoom(0, wordCount + 1);
  wordBounds[2 * wordCount] = start;
  wordBounds[2 * wordCount + 1] = end;
  wordCount += 1;
}

/** ASCII text, one scan: compounds are runs of `[A-Za-z0-9_]`, cut into words as `WORD` does. */
function addAscii(text: string): void {
  let i = 0;
  while (i < text.length) {
    while (i < text.length && kindOf(text.charCodeAt(i)) === KIND_OTHER) i++;
    const start = i;
    while (i < text.length && kindOf(text.charCodeAt(i)) !== KIND_OTHER) i++;
    if (i === start) break;
    ensureRoom(i - start, 0);
    wordCount = 0;
    let wordStart = 0;
    let previous = KIND_OTHER;
    for (let j = start; j < i; j++) {
      const code = text.charCodeAt(j);
      const kind = kindOf(code);
      const at = j - start;
      lower[at] = kind === KIND_UPPER ? code + 0x20 : code;
      if (kind === KIND_UNDERSCORE) {
        pushWord(wordStart, at);
        wordStart = at + 1;
      } else if (
        (previous === KIND_LOWER && kind === KIND_UPPER) ||
        (previous === KIND_UPPER &&
          kind === KIND_UPPER &&
          j + 1 < i &&
          kindOf(text.charCodeAt(j + 1)) === KIND_LOWER) ||
        (previous !== KIND_UNDERSCORE &&
          previous !== KIND_OTHER &&
          (previous === KIND_DIGIT) !== (kind === KIND_DIGIT))
      ) {
        pushWord(wordStart, at);
        wordStart = at;
      }
      previous = kind;
    }
    pushWord(wordStart, i - start);
    addCompound(i - start);
  }
}

/** Any text (NFKC first): compounds by `COMPOUND`, words by `WORD` between underscores. */
function addUnicode(text: string): void {
  for (const match of text.normalize("NFKC").matchAll(COMPOUND)) {
    const compound = match[0];
    const lowered = compound.toLowerCase();
    // Lowercasing may change lengths (rare: `İ`); such a compound is taken as one word.
    const sameLength = lowered.length === compound.length;
    ensureRoom(lowered.length, 0);
    for (let i = 0; i < lowered.length; i++) lower[i] = lowered.charCodeAt(i);
    wordCount = 0;
    if (!sameLength) pushWord(0, lowered.length);
    else {
      let offset = 0;
      for (const piece of compound.split("_")) {
        for (const word of piece.matchAll(WORD)) {
          pushWord(offset + word.index, offset + word.index + word[0].length);
        }
        offset += piece.length + 1;
      }
    }
    addCompound(lowered.length);
  }
}

/** Each line of `text` by the ASCII scan when it is ASCII, else by the general one. */
function addLines(text: string): void {
  for (let start = 0; start <= text.length; ) {
    const found = text.indexOf("\n", start);
    const end = found === -1 ? text.length : found;
    const line = text.slice(start, end);
    if (NON_ASCII.test(line)) addUnicode(line);
    else addAscii(line);
    start = end + 1;
  }
}

/**
 * Embeds one text. Features: each identifier (a maximal run of letters, marks, digits and `_`
 * of the NFKC text, lowercased), each of its words when it has several (cut at `_`, at
 * lower→upper case changes, before the last capital of a capital run followed by a lowercase
 * letter, and between letters and digits, as the code tokenizer cuts), and the character
 * trigrams of each `^word$`. Stop words give nothing. A feature's weight is `ln(1 + Σ)` of its
 * occurrences' weights; each is hashed (FNV-1a) to a signed bucket. ASCII text skips NFKC (it
 * is invariant) and is scanned by code unit, with the same result as the general path; so are
 * the ASCII lines of any other text.
 */
export function hashEmbed(text: string, dimensions: number): Float32Array {
  assert(Number.isInteger(dimensions) && dimensions > 0, "dimensions is a positive integer");
  const isAscii = !NON_ASCII.test(text.slice(0, HASH_TEXT_CHARS_MAX));
  return hashEmbedWith(text, dimensions, isAscii ? "ascii" : "lines");
}

/**
 * The scans of a text: `ascii` (by code unit, ASCII text only), `general` (NFKC, Unicode
 * patterns) or `lines`, each line by the ASCII scan when it is ASCII and by the general one
 * otherwise. All three give the same features in the same order where they apply: no compound
 * spans a line break, and NFKC never reaches across one (U+000A is a starter that neither
 * decomposes nor composes).
 */
export type HashScan = "ascii" | "lines" | "general";

/** {@link hashEmbed} with the scan chosen by the caller (tests compare them). */
export function hashEmbedWith(text: string, dimensions: number, scan: HashScan): Float32Array {
  const vector = new Float32Array(dimensions);
  const cut = text.slice(0, HASH_TEXT_CHARS_MAX);
  resetFeatures();
  if (scan === "ascii") addAscii(cut);
  else if (scan === "general") addUnicode(cut);
  else addLines(cut);
  for (let i = 0; i < takenCount; i++) {
    const slot = taken[i] as number;
    addHashed(vector, (slotHashes[slot] as number) >>> 0, Math.log1p(slotSums[slot] as number));
  }
  // A text without any feature still gets a unit vector, so cosine distance stays defined.
  if (vector.every((x) => x === 0)) vector[0] = 1;
  return normaliseL2(vector);
}

/**
 * Creates the hash embedder; `model` (default `hash-v2`) picks the feature set, so that vectors
 * a data directory holds keep meeting queries embedded the same way.
 *
 * @example
 * ```ts
 * const embedder = createHashEmbedder({ dimensions: 384 });
 * const [v] = await embedder.embed(["parseConfig reads the file"]);
 * ```
 */
export function createHashEmbedder(options: { dimensions: number; model?: HashModel }): Embedder {
  const model = options.model ?? HASH_MODEL_DEFAULT;
  assert(HASH_MODELS.includes(model), "model is a hash model");
  const embedOne = model === "hash-v1" ? hashEmbedV1 : hashEmbed;
  return {
    provider: "hash",
    model,
    dimensions: options.dimensions,
    embed: (texts) => Promise.resolve(texts.map((text) => embedOne(text, options.dimensions))),
  };
}
