/**
 * The text kernels module (wasm/text_terms.cpp, ADR 0023): one instance per thread, with a
 * scratch buffer for encoded input and views of its memory. Views are rebuilt whenever the
 * memory has grown (growth replaces `memory.buffer`), so no view is kept across a call that may
 * allocate.
 */
import { VltairError } from "../../core/mod.ts";
import { TEXT_TERMS_WASM_BASE64 } from "./text-terms-wasm.ts";

/** The module's exports. Pointers are wasm32 `i32` (read with `>>> 0`). */
export interface TextKernelExports {
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

/** UTF-8 bytes per UTF-16 code unit, at most. */
export const UTF8_BYTES_PER_UNIT_MAX = 3;
/** Smallest scratch buffer for encoded input. */
const SCRATCH_BYTES_MIN = 64 * 1024;
/** The out-parameter slot of `vt_term` (one u32 at the start of the scratch buffer). */
const LENGTH_OUT_BYTES = 4;

/** The error of a kernel that ran out of memory. */
export function outOfMemory(): VltairError {
  return new VltairError("payload_too_large", "the text kernels are out of memory", {
    details: { field: "text" },
  });
}

/** The module instance of a thread, its scratch buffer and its memory views. */
export class TextKernels {
  readonly exports: TextKernelExports;
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
    this.exports = instance.exports as unknown as TextKernelExports;
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
    return this.reserve(0) - LENGTH_OUT_BYTES;
  }

  #refresh(): void {
    const buffer = this.exports.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#u8 = new Uint8Array(buffer);
    this.#u32 = new Uint32Array(buffer);
  }
}

let moduleOfThread: TextKernels | undefined;

/** The module instance of this thread, created at first use. */
export function textKernels(): TextKernels {
  moduleOfThread ??= new TextKernels();
  return moduleOfThread;
}
