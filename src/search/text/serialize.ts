/**
 * The serialized form of a text index, so that snapshots restore without re-tokenizing.
 *
 * Layout (little-endian), version 2 (written):
 * `u32 magic "VLTX"`, `u32 version`, `u8 tokenizer` (0 code, 1 unicode61), `f64 k1`, `f64 b`,
 * `f64 aliasWeight`,
 * `u32 tokenCharsMax`, `u32 tokensPerDocMax`; `varint docCount`, the document keys (in slot
 * order, renumbered 0..docCount−1) as one string block, then per document `varint tokenCount`;
 * `varint termCount`, the terms (in term-id order) as one string block, then per term
 * `varint docCount`, and per posting `varint slotDelta`, `varint termFrequency`. A string
 * block is `varint byteLength`, the UTF-8 of the strings concatenated, then per string its
 * `varint length` in UTF-16 code units: decoded with one call, not one per string (a
 * third of a load's time in version 1).
 *
 * Version 1 (still read: snapshots on disk hold it) has the same fields with each string
 * inline instead (`varint byteLength`, UTF-8): per document `string key`, `varint
 * tokenCount`; per term `string term`, `varint docCount`, postings.
 *
 * The bytes depend only on the index's state, and the state only on the sequence of
 * operations, so the same inserts in the same order give identical bytes.
 */
import { runSteps, type Steps } from "../../core/mod.ts";
import { ByteReader, ByteWriter, malformed } from "./byte-codec.ts";
import { TEXT_LIMITS } from "./text-limits.ts";
import { TOKENIZER_NAMES, type TokenizerName } from "./tokenizer.ts";

const MAGIC = 0x58544c56;
const FORMAT_VERSION = 2;
/** The older version `decodeTextIndex` still reads. */
const FORMAT_VERSION_INLINE_STRINGS = 1;
/** Largest serialized index accepted by `decodeTextIndex`. */
export const SERIALIZED_BYTES_MAX = 2 ** 31;

/** The options recorded in the serialized form. */
export interface SerializedTextOptions {
  tokenizer: TokenizerName;
  k1: number;
  b: number;
  aliasWeight: number;
  tokenCharsMax: number;
  tokensPerDocMax: number;
}

/** An index's contents as plain arrays: what is encoded, and what decoding returns. */
export interface TextIndexContents {
  options: SerializedTextOptions;
  /** Keys of the live documents, in slot order. */
  docKeys: string[];
  /** Tokens of each document, parallel to `docKeys`. */
  docLengths: Uint32Array;
  /** Live terms, in term-id order. */
  terms: string[];
  /** Per term: first unit of its `[slot, termFrequency]` pairs in `pool`. */
  termOffsets: Uint32Array;
  /** Per term: its number of postings. */
  termCounts: Uint32Array;
  /** Postings; slots are ranks into `docKeys` once passed through `rankOfSlot`. */
  pool: Uint32Array;
  /** Maps a slot in `pool` to its document's rank (identity when decoded). */
  rankOfSlot: Int32Array | null;
}

/** Bytes a varint takes at most in {@link encodedBytesMax}'s bound (LEB128 of a safe integer). */
const VARINT_BOUND_BYTES = 8;
/** Largest up-front room: past it the writer grows as it goes. */
const ENCODE_CAPACITY_BYTES_MAX = 1024 * 1024 * 1024;

/**
 * An upper bound of {@link encodeTextIndex}'s output: the writer starts with that much room
 * and never grows (only the pages written are ever touched).
 */
function encodedBytesMax(contents: TextIndexContents): number {
  let bytes = 64 + 4 * VARINT_BOUND_BYTES;
  for (const key of contents.docKeys) bytes += 3 * key.length + 2 * VARINT_BOUND_BYTES;
  for (const term of contents.terms) bytes += 3 * term.length + 2 * VARINT_BOUND_BYTES;
  for (let i = 0; i < contents.termCounts.length; i++) {
    bytes += 2 * VARINT_BOUND_BYTES * (contents.termCounts[i] ?? 0);
  }
  return Math.min(ENCODE_CAPACITY_BYTES_MAX, bytes);
}

/** Encodes the contents (see the module comment for the layout). */
export function encodeTextIndex(contents: TextIndexContents): Uint8Array {
  const writer = new ByteWriter(encodedBytesMax(contents));
  const { options } = contents;
  writer.u32(MAGIC);
  writer.u32(FORMAT_VERSION);
  writer.u8(TOKENIZER_NAMES.indexOf(options.tokenizer));
  writer.f64(options.k1);
  writer.f64(options.b);
  writer.f64(options.aliasWeight);
  writer.u32(options.tokenCharsMax);
  writer.u32(options.tokensPerDocMax);
  writer.varint(contents.docKeys.length);
  writer.strings(contents.docKeys);
  for (let rank = 0; rank < contents.docKeys.length; rank++) {
    writer.varint(contents.docLengths[rank] ?? 0);
  }
  writer.varint(contents.terms.length);
  writer.strings(contents.terms);
  for (let i = 0; i < contents.terms.length; i++) {
    const offset = contents.termOffsets[i] ?? 0;
    const count = contents.termCounts[i] ?? 0;
    writer.varint(count);
    let previous = -1;
    for (let at = offset; at < offset + 2 * count; at += 2) {
      const slot = contents.pool[at] ?? 0;
      const rank = contents.rankOfSlot === null ? slot : (contents.rankOfSlot[slot] ?? 0);
      writer.varint(rank - previous - 1);
      writer.varint(contents.pool[at + 1] ?? 0);
      previous = rank;
    }
  }
  return writer.finish();
}

function readOptions(reader: ByteReader): SerializedTextOptions {
  const tokenizer = TOKENIZER_NAMES[reader.u8()];
  if (tokenizer === undefined) throw malformed("tokenizer");
  return {
    tokenizer,
    k1: reader.f64(),
    b: reader.f64(),
    aliasWeight: reader.f64(),
    tokenCharsMax: reader.u32(),
    tokensPerDocMax: reader.u32(),
  };
}

function readDocs(
  reader: ByteReader,
  isInline: boolean,
): { docKeys: string[]; docLengths: Uint32Array } {
  const docCount = reader.varint();
  if (docCount > TEXT_LIMITS.docCountMax || docCount > reader.remaining) {
    throw malformed("docCount");
  }
  const docLengths = new Uint32Array(docCount);
  if (!isInline) {
    const docKeys = reader.strings(docCount);
    for (let rank = 0; rank < docCount; rank++) docLengths[rank] = reader.varint();
    return { docKeys, docLengths };
  }
  const docKeys: string[] = [];
  for (let rank = 0; rank < docCount; rank++) {
    docKeys.push(reader.string());
    docLengths[rank] = reader.varint();
  }
  return { docKeys, docLengths };
}

/**
 * Decodes bytes written by `encodeTextIndex`; throws `validation_failed` on malformed input
 * (the structural invariants are checked again by the index that adopts the contents).
 */
export function decodeTextIndex(bytes: Uint8Array): TextIndexContents {
  return runSteps(decodeTextIndexSteps(bytes));
}

/** Terms decoded between two pause points of {@link decodeTextIndexSteps}. */
const TERMS_PER_STEP = 4096;

/** {@link decodeTextIndex} as steps: it may pause every few thousand terms. */
export function* decodeTextIndexSteps(bytes: Uint8Array): Steps<TextIndexContents> {
  if (bytes.length > SERIALIZED_BYTES_MAX) throw malformed("too large");
  const reader = new ByteReader(bytes);
  if (reader.u32() !== MAGIC) throw malformed("magic");
  const version = reader.u32();
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_INLINE_STRINGS) {
    throw malformed("version");
  }
  const isInline = version === FORMAT_VERSION_INLINE_STRINGS;
  const options = readOptions(reader);
  const { docKeys, docLengths } = readDocs(reader, isInline);
  const termCount = reader.varint();
  if (termCount > bytes.length) throw malformed("termCount");
  const terms: string[] = isInline ? [] : reader.strings(termCount);
  const termOffsets = new Uint32Array(termCount);
  const termCounts = new Uint32Array(termCount);
  // Each posting takes at least two bytes and two units: the bytes left bound the units, so
  // the pool is allocated once, with little slack (doubling would leave up to half unused).
  let pool = new Uint32Array(Math.max(1024, Math.min(SERIALIZED_BYTES_MAX, reader.remaining)));
  let used = 0;
  for (let i = 0; i < termCount; i++) {
    if (isInline) terms.push(reader.string());
    const count = reader.varint();
    if (count < 1 || count > docKeys.length) throw malformed("term docCount");
    if (used + 2 * count > pool.length) {
      const grown = new Uint32Array(Math.max(used + 2 * count, pool.length * 2));
      grown.set(pool.subarray(0, used));
      pool = grown;
    }
    termOffsets[i] = used;
    termCounts[i] = count;
    reader.postings(count, pool, used, docKeys.length);
    used += 2 * count;
    if (i % TERMS_PER_STEP === TERMS_PER_STEP - 1) yield;
  }
  if (!reader.isAtEnd) throw malformed("trailing bytes");
  return { options, docKeys, docLengths, terms, termOffsets, termCounts, pool, rankOfSlot: null };
}
