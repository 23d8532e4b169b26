/**
 * The binding of the compiled term table (wasm/text_terms.cpp, ADR 0023): term bytes ↔ dense
 * ids, and the code tokenizer's ASCII path, which tokenizes, interns and counts a document in one
 * call. Every table of this thread lives in one module instance, named by a handle; a table is
 * freed when its owner is collected (`FinalizationRegistry`).
 *
 * Terms cross as UTF-8. A JS string with a lone surrogate has no UTF-8 form (the encoder would
 * make it U+FFFD), so such a term is never looked up or interned: `idOf` answers -1 and
 * `intern` refuses it (the text index rejects those texts before).
 *
 * Views of the module's memory are rebuilt whenever it has grown (growth replaces
 * `memory.buffer`), so no view is kept across a call that may allocate.
 */
import { assert, hasLoneSurrogate, VltairError } from "../../core/mod.ts";
import { TEXT_TERMS_WASM_BASE64 } from "./text-terms-wasm.ts";

interface TermTableExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  vt_alloc(sizeBytes: number): number;
  vt_free(pointer: number): void;
  vt_table_create(): number;
  vt_table_destroy(handle: number): void;
  vt_id_of(handle: number, bytes: number, lengthBytes: number): number;
  vt_intern(handle: number, bytes: number, lengthBytes: number): number;
  vt_release(handle: number, id: number): number;
  vt_reserve(handle: number, termCount: number): number;
  vt_adopt(handle: number, packed: number, count: number): number;
  vt_live_count(handle: number): number;
  vt_id_limit(handle: number): number;
  vt_term(handle: number, id: number, lengthOut: number): number;
  vt_count_code_ascii(
    handle: number,
    text: number,
    lengthBytes: number,
    tokenCharsMax: number,
    tokensMax: number,
  ): number;
  vt_result_distinct_count(handle: number): number;
  vt_result_distinct(handle: number): number;
  vt_result_counts(handle: number): number;
  vt_result_token_count(handle: number): number;
  vt_result_created_count(handle: number): number;
  vt_result_created(handle: number): number;
}

/** What `countCodeAscii` found: counted, not ASCII (nothing done), or too many tokens. */
export type CountStatus = "ok" | "not_ascii" | "too_many_tokens";

const COUNT_STATUS: readonly (CountStatus | "out_of_memory")[] = [
  "ok",
  "not_ascii",
  "too_many_tokens",
  "out_of_memory",
];

/** UTF-8 bytes per UTF-16 code unit, at most. */
const UTF8_BYTES_PER_UNIT_MAX = 3;
/** Smallest scratch buffer for encoded input. */
const SCRATCH_BYTES_MIN = 64 * 1024;
/** Bytes of terms packed per `vt_adopt` call (each term: a 4-byte length, then its UTF-8). */
const ADOPT_SLICE_BYTES = 256 * 1024;
/** The out-parameter slot of `vt_term` (one u32 at the start of the scratch buffer). */
const LENGTH_OUT_BYTES = 4;

function outOfMemory(): VltairError {
  return new VltairError("payload_too_large", "the term table is out of memory", {
    details: { field: "terms" },
  });
}

/** The module instance of this thread, its scratch buffer and its memory views. */
class TermModule {
  readonly exports: TermTableExports;
  #buffer: ArrayBuffer | null = null;
  #u8 = new Uint8Array(0);
  #u32 = new Uint32Array(0);
  #scratch = 0;
  #scratchBytes = 0;
  readonly encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  readonly registry = new FinalizationRegistry<number>((handle) => {
    this.exports.vt_table_destroy(handle);
  });

  constructor() {
    const bytes = Uint8Array.from(atob(TEXT_TERMS_WASM_BASE64), (c) => c.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    this.exports = instance.exports as unknown as TermTableExports;
    this.exports._initialize();
  }

  u8(): Uint8Array {
    this.#refresh();
    return this.#u8;
  }

  u32(): Uint32Array {
    this.#refresh();
    return this.#u32;
  }

  /**
   * Writes `text` as UTF-8 into the scratch buffer (after the length slot); returns its
   * address and its length in bytes.
   */
  encode(text: string): { at: number; lengthBytes: number } {
    const at = this.reserve(text.length * UTF8_BYTES_PER_UNIT_MAX);
    const target = this.u8().subarray(at, this.#scratch + this.#scratchBytes);
    const { written } = this.encoder.encodeInto(text, target);
    return { at, lengthBytes: written };
  }

  /** Makes the scratch buffer hold `sizeBytes` after the length slot; returns where they start. */
  reserve(sizeBytes: number): number {
    const needed = LENGTH_OUT_BYTES + sizeBytes;
    if (needed > this.#scratchBytes) {
      if (this.#scratch !== 0) this.exports.vt_free(this.#scratch);
      const size = Math.max(SCRATCH_BYTES_MIN, needed * 2);
      this.#scratch = this.exports.vt_alloc(size);
      if (this.#scratch === 0) {
        this.#scratchBytes = 0;
        throw outOfMemory();
      }
      this.#scratchBytes = size;
    }
    return this.#scratch + LENGTH_OUT_BYTES;
  }

  /** The bytes `[at, at + lengthBytes)` decoded as UTF-8. */
  decode(at: number, lengthBytes: number): string {
    return this.#decoder.decode(this.u8().subarray(at, at + lengthBytes));
  }

  /** Address of the u32 out-parameter slot. */
  get lengthOut(): number {
    assert(this.#scratch !== 0, "scratch is allocated before any out-parameter call");
    return this.#scratch;
  }

  #refresh(): void {
    const buffer = this.exports.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#u8 = new Uint8Array(buffer);
    this.#u32 = new Uint32Array(buffer);
  }
}

let moduleOfThread: TermModule | undefined;

function termModule(): TermModule {
  moduleOfThread ??= new TermModule();
  return moduleOfThread;
}

/** Where `countCodeAscii` wrote its results; read before the next call on the table. */
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
  readonly #module = termModule();
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
   * before) past `tokensMax`, else `"ok"` and the counts in `into`.
   */
  countCodeAscii(
    text: string,
    tokenCharsMax: number,
    tokensMax: number,
    into: (counted: CountedTerms) => void,
  ): CountStatus {
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
    into({
      distinct: u32.subarray(distinctAt, distinctAt + distinctCount),
      counts: u32.subarray(countsAt),
      created: u32.subarray(createdAt, createdAt + createdCount),
      tokenCount: exports.vt_result_token_count(handle),
    });
    return "ok";
  }
}
