/**
 * The binding of the compiled term table (wasm/text_terms.cpp, ADR 0023): term bytes ↔ dense
 * ids, and the code tokenizer's ASCII path, which tokenizes, interns and counts a document in one
 * call. Every table of this thread lives in one module instance (text-kernels.ts), named by a
 * handle; a table is freed when its owner is collected (`FinalizationRegistry`).
 *
 * Terms cross as UTF-8. A JS string with a lone surrogate has no UTF-8 form (the encoder would
 * make it U+FFFD), so such a term is never looked up or interned: `idOf` answers -1 and
 * `intern` refuses it (no tokenizer emits one: a lone surrogate separates tokens).
 */
import { assert, hasLoneSurrogate } from "../../core/mod.ts";
import {
  outOfMemory,
  type TextKernels,
  textKernels,
  UTF8_BYTES_PER_UNIT_MAX,
} from "./text-kernels.ts";

/** Why `countCodeAscii` counted nothing: not ASCII (nothing done), or too many tokens. */
export type CountRefusal = "not_ascii" | "too_many_tokens";

const COUNT_STATUS: readonly ("ok" | CountRefusal | "out_of_memory")[] = [
  "ok",
  "not_ascii",
  "too_many_tokens",
  "out_of_memory",
];

/** Bytes of terms packed per `vt_adopt` call (each term: a 4-byte length, then its UTF-8). */
const ADOPT_SLICE_BYTES = 256 * 1024;

/** What `countCodeAscii` counted: views of the module's memory, valid until the next call. */
export interface CountedTerms {
  /** Distinct term ids in first-occurrence order. */
  distinct: Uint32Array;
  /** Occurrences per term id (index by the ids in `distinct`). */
  counts: Uint32Array;
  /** Ids created by the count, in creation order. */
  created: Uint32Array;
  /** Tokens (not aliases): the document's BM25 length. */
  tokenCount: number;
}

/** One term table: term ↔ id, in the module of this thread. */
export class TermTable {
  readonly #module: TextKernels = textKernels();
  readonly #handle: number;

  constructor() {
    this.#handle = this.#module.exports.vt_table_create();
    if (this.#handle === 0) throw outOfMemory();
    this.#module.registry.register(this, this.#handle);
  }

  /** Number of live terms. */
  get liveCount(): number {
    return this.#module.exports.vt_live_count(this.#handle);
  }

  /** One past the largest id handed out. */
  get idLimit(): number {
    return this.#module.exports.vt_id_limit(this.#handle);
  }

  /** The id of `term`, or -1. */
  idOf(term: string): number {
    if (hasLoneSurrogate(term)) return -1;
    const { at, lengthBytes } = this.#module.encode(term);
    return this.#module.exports.vt_id_of(this.#handle, at, lengthBytes);
  }

  /** The id of `term` (created when new, reusing the most recently released id) and whether it was created. */
  intern(term: string): { id: number; created: boolean } {
    assert(!hasLoneSurrogate(term), "a term has a UTF-8 form");
    const { at, lengthBytes } = this.#module.encode(term);
    const result = this.#module.exports.vt_intern(this.#handle, at, lengthBytes) >>> 0;
    if (result === 0xffffffff) throw outOfMemory();
    return { id: result >>> 1, created: (result & 1) === 1 };
  }

  /** Releases a live id (it will be reused). */
  release(id: number): void {
    const released = this.#module.exports.vt_release(this.#handle, id);
    assert(released === 1, "released term id must be live");
  }

  /** The term of a live id, decoded from the table. */
  termOf(id: number): string {
    const module = this.#module;
    const at = module.exports.vt_term(this.#handle, id, module.lengthOut) >>> 0;
    assert(at !== 0, "term id is not live");
    return module.decode(at, module.u32()[module.lengthOut >>> 2] as number);
  }

  /**
   * Fills an empty table: `terms[i]` gets id `i`. False when a term repeats (the table is then
   * unusable). Packs the terms into the scratch buffer a slice at a time, so that a load does
   * not grow the module's memory by the size of the whole dictionary.
   */
  adopt(terms: readonly string[]): boolean {
    const module = this.#module;
    const exports = module.exports;
    assert(this.idLimit === 0, "adopt only into an empty table");
    if (exports.vt_reserve(this.#handle, terms.length) !== 1) throw outOfMemory();
    for (let start = 0; start < terms.length; ) {
      let sizeBytes = 0;
      let end = start;
      while (end < terms.length && (end === start || sizeBytes < ADOPT_SLICE_BYTES)) {
        sizeBytes += 4 + (terms[end] as string).length * UTF8_BYTES_PER_UNIT_MAX;
        end++;
      }
      const at = module.reserve(sizeBytes);
      let cursor = at;
      for (let i = start; i < end; i++) {
        const term = terms[i] as string;
        assert(!hasLoneSurrogate(term), "a term has a UTF-8 form");
        const u8 = module.u8();
        const { written } = module.encoder.encodeInto(term, u8.subarray(cursor + 4));
        u8[cursor] = written & 0xff;
        u8[cursor + 1] = (written >>> 8) & 0xff;
        u8[cursor + 2] = (written >>> 16) & 0xff;
        u8[cursor + 3] = written >>> 24;
        cursor += 4 + written;
      }
      if (exports.vt_adopt(this.#handle, at, end - start) !== 1) return false;
      start = end;
    }
    return true;
  }

  /**
   * Tokenizes `text` with the code tokenizer, interns and counts its terms: `"not_ascii"`
   * (nothing done) when the text has a non-ASCII character, `"too_many_tokens"` (the table as
   * before) past `tokensMax`, else the counts.
   */
  countCodeAscii(
    text: string,
    tokenCharsMax: number,
    tokensMax: number,
  ): CountedTerms | CountRefusal {
    const module = this.#module;
    const exports = module.exports;
    const { at, lengthBytes } = module.encode(text);
    if (lengthBytes !== text.length) return "not_ascii";
    const code = exports.vt_count_code_ascii(
      this.#handle,
      at,
      lengthBytes,
      tokenCharsMax,
      tokensMax,
    );
    const status = COUNT_STATUS[code];
    if (status === "out_of_memory" || status === undefined) throw outOfMemory();
    if (status !== "ok") return status;
    const u32 = module.u32();
    const handle = this.#handle;
    const distinctAt = exports.vt_result_distinct(handle) >>> 2;
    const countsAt = exports.vt_result_counts(handle) >>> 2;
    const createdAt = exports.vt_result_created(handle) >>> 2;
    const distinctCount = exports.vt_result_distinct_count(handle);
    const createdCount = exports.vt_result_created_count(handle);
    return {
      distinct: u32.subarray(distinctAt, distinctAt + distinctCount),
      counts: u32.subarray(countsAt),
      created: u32.subarray(createdAt, createdAt + createdCount),
      tokenCount: exports.vt_result_token_count(handle),
    };
  }
}
