/**
 * One instance of the embedded USearch WebAssembly module: its exports, typed views of its
 * memory, and allocation bookkeeping. Each vector index owns one instance, so indexes never
 * share an address space, `dispose()` returns all of an index's memory at once, and the same
 * inserts always meet the same heap layout (determinism).
 *
 * The memory is created here, shared, and imported by the module, so that the index's helper
 * thread (vector-thread.ts) can run a second instance over the same bytes while this thread
 * does other work; the binding never lets the two run at once.
 *
 * Views (`u8()`, `f32()`, `u32()`, `u64()`) are rebuilt whenever the memory has grown: growth
 * gives `memory.buffer` a new, longer buffer (views of the old one stay short), so no view is ever kept
 * across a call into the module.
 */
import { assert, VltairError } from "../core/mod.ts";
import {
  USEARCH_WASM_BASE64,
  USEARCH_WASM_INITIAL_MEMORY_BYTES,
  USEARCH_WASM_MAXIMUM_MEMORY_BYTES,
} from "./usearch-wasm.ts";
import { wasiStubImports } from "./wasi-stub.ts";

/** The module's exports the binding uses. `size_t` and pointers are wasm32 `i32` (read with `>>> 0`). */
export interface UsearchExports {
  _initialize(): void;
  malloc(sizeBytes: number): number;
  free(pointer: number): void;
  usearch_free(index: number, error: number): void;
  usearch_memory_usage(index: number, error: number): number;
  usearch_serialized_length(index: number, error: number): number;
  usearch_save_buffer(index: number, buffer: number, lengthBytes: number, error: number): void;
  usearch_load_buffer(index: number, buffer: number, lengthBytes: number, error: number): void;
  vltair_load_stream(index: number, error: number): number;
  vltair_save_window(
    index: number,
    offsetBytes: number,
    buffer: number,
    lengthBytes: number,
    error: number,
  ): void;
  usearch_size(index: number, error: number): number;
  usearch_capacity(index: number, error: number): number;
  usearch_dimensions(index: number, error: number): number;
  usearch_connectivity(index: number, error: number): number;
  usearch_reserve(index: number, capacity: number, error: number): void;
  usearch_expansion_add(index: number, error: number): number;
  usearch_expansion_search(index: number, error: number): number;
  usearch_change_expansion_add(index: number, expansion: number, error: number): void;
  usearch_change_expansion_search(index: number, expansion: number, error: number): void;
  usearch_add(index: number, key: bigint, vector: number, scalarKind: number, error: number): void;
  usearch_contains(index: number, key: bigint, error: number): number;
  usearch_search(
    index: number,
    query: number,
    scalarKind: number,
    count: number,
    keys: number,
    distances: number,
    error: number,
  ): number;
  usearch_remove(index: number, key: bigint, error: number): number;
  usearch_version(): number;
  vltair_init(
    metricKind: number,
    scalarKind: number,
    dimensions: number,
    connectivity: number,
    expansionAdd: number,
    expansionSearch: number,
    error: number,
  ): number;
  vltair_search_exact(
    index: number,
    query: number,
    count: number,
    keys: number,
    distances: number,
    error: number,
  ): number;
  vltair_search_allowed(
    index: number,
    query: number,
    count: number,
    allowed: number,
    allowedCount: number,
    exact: number,
    keys: number,
    distances: number,
    error: number,
  ): number;
  vltair_search_keys(
    index: number,
    query: number,
    count: number,
    candidates: number,
    candidatesCount: number,
    keys: number,
    distances: number,
    error: number,
  ): number;
  vltair_search_predicate(
    index: number,
    query: number,
    count: number,
    token: number,
    exact: number,
    keys: number,
    distances: number,
    error: number,
  ): number;
  vltair_add_batch(
    index: number,
    keys: number,
    vectors: number,
    count: number,
    dimensions: number,
    error: number,
  ): number;
}

const WASM_PAGE_BYTES = 65_536;

let compiledModule: WebAssembly.Module | undefined;

/** The embedded module's bytes, decoded from base64 (about 230 KB). */
export function usearchModuleBytes(): Uint8Array<ArrayBuffer> {
  const binary = atob(USEARCH_WASM_BASE64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Decodes and compiles the embedded module once per process. */
export function usearchModule(): WebAssembly.Module {
  compiledModule ??= new WebAssembly.Module(usearchModuleBytes());
  return compiledModule;
}

/**
 * Compiles the embedded module off the main thread ahead of its first use (the server calls it
 * before recovery, whose first vector index load would otherwise compile it synchronously:
 * ~30 ms during which `/v1/health` could not answer).
 */
export async function precompileUsearchModule(): Promise<void> {
  if (compiledModule !== undefined) return;
  const compiled = await WebAssembly.compile(usearchModuleBytes());
  compiledModule ??= compiled;
}

/** A predicate the module calls back during a filtered walk; `undefined` outside one. */
type ActiveFilter = { predicate: (key: bigint) => boolean; error: unknown; failed: boolean };

/** One module instance with its memory views and allocation bookkeeping. */
export class UsearchInstance {
  readonly exports: UsearchExports;
  /** The module's linear memory (shared: the helper thread's instance runs over it too). */
  readonly memory: WebAssembly.Memory;
  /** Pointer to a 4-byte slot where the C API stores a `char const*` error message. */
  readonly errorSlot: number;
  private buffer: ArrayBufferLike;
  private viewU8: Uint8Array;
  private viewF32: Float32Array;
  private viewU32: Uint32Array;
  private viewU64: BigUint64Array;
  private allocationCount = 0;
  private allocationBytes = 0;
  private readonly allocationSizes = new Map<number, number>();
  private activeFilter: ActiveFilter | undefined;
  /** The bytes a streaming load is reading, and how far it has read. */
  private source: { bytes: Uint8Array; offset: number } | undefined;

  constructor() {
    this.memory = new WebAssembly.Memory({
      initial: USEARCH_WASM_INITIAL_MEMORY_BYTES / WASM_PAGE_BYTES,
      maximum: USEARCH_WASM_MAXIMUM_MEMORY_BYTES / WASM_PAGE_BYTES,
      shared: true,
    });
    const imports = {
      env: { memory: this.memory },
      wasi_snapshot_preview1: wasiStubImports(),
      vltair: {
        filter: (key: bigint, _token: number): number => this.admit(key),
        read: (pointer: number, lengthBytes: number): number => this.read(pointer, lengthBytes),
      },
    };
    const instance = new WebAssembly.Instance(usearchModule(), imports);
    this.exports = instance.exports as unknown as UsearchExports;
    this.exports._initialize();
    this.buffer = this.memory.buffer;
    this.viewU8 = new Uint8Array(this.buffer);
    this.viewF32 = new Float32Array(this.buffer);
    this.viewU32 = new Uint32Array(this.buffer);
    this.viewU64 = new BigUint64Array(this.buffer);
    this.errorSlot = this.alloc(8);
  }

  /**
   * Runs `load` (which calls the module's `vltair_load_stream`) with `bytes` as the source the
   * module pulls from; `readBytes` is how many bytes the module took (some may be read-ahead).
   */
  withSource<T>(bytes: Uint8Array, load: () => T): { result: T; readBytes: number } {
    assert(this.source === undefined, "one streaming load at a time");
    this.source = { bytes, offset: 0 };
    try {
      const result = load();
      return { result, readBytes: this.source.offset };
    } finally {
      this.source = undefined;
    }
  }

  /**
   * The module's byte source: copies up to `lengthBytes` of the next bytes into its memory at
   * `pointer` and returns how many (0 once the source is exhausted).
   */
  private read(pointer: number, lengthBytes: number): number {
    const source = this.source;
    if (source === undefined) return 0;
    const count = Math.min(lengthBytes, source.bytes.length - source.offset);
    if (count <= 0) return 0;
    // A read may follow an allocation that grew the memory: views are rebuilt first.
    this.u8().set(source.bytes.subarray(source.offset, source.offset + count), pointer);
    source.offset += count;
    return count;
  }

  /** Rebuilds the views when the memory has grown since they were made. */
  private refresh(): void {
    const buffer = this.memory.buffer;
    if (buffer.byteLength === this.buffer.byteLength) return;
    this.buffer = buffer;
    this.viewU8 = new Uint8Array(buffer);
    this.viewF32 = new Float32Array(buffer);
    this.viewU32 = new Uint32Array(buffer);
    this.viewU64 = new BigUint64Array(buffer);
  }

  u8(): Uint8Array {
    this.refresh();
    return this.viewU8;
  }

  f32(): Float32Array {
    this.refresh();
    return this.viewF32;
  }

  u32(): Uint32Array {
    this.refresh();
    return this.viewU32;
  }

  u64(): BigUint64Array {
    this.refresh();
    return this.viewU64;
  }

  /** Current size of the module's linear memory, in bytes. */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocates `sizeBytes` (16-byte aligned by dlmalloc); throws `unavailable` when memory is exhausted. */
  alloc(sizeBytes: number): number {
    const pointer = this.exports.malloc(Math.max(sizeBytes, 1)) >>> 0;
    if (pointer === 0) {
      throw new VltairError("unavailable", "vector index memory exhausted", {
        details: { reason: "wasm_memory_exhausted", size_bytes: sizeBytes },
      });
    }
    this.allocationCount += 1;
    this.allocationBytes += sizeBytes;
    this.allocationSizes.set(pointer, sizeBytes);
    return pointer;
  }

  free(pointer: number): void {
    const sizeBytes = this.allocationSizes.get(pointer);
    if (sizeBytes === undefined) return;
    this.allocationSizes.delete(pointer);
    this.allocationCount -= 1;
    this.allocationBytes -= sizeBytes;
    this.exports.free(pointer);
  }

  /** Allocations made through this wrapper and not yet freed (leak checks). */
  outstanding(): { count: number; sizeBytes: number } {
    return { count: this.allocationCount, sizeBytes: this.allocationBytes };
  }

  /** Clears the error slot before a C call. */
  clearError(): void {
    this.u32()[this.errorSlot >>> 2] = 0;
  }

  /** The C API's error message after a call, or `undefined` when it succeeded. */
  takeError(): string | undefined {
    const u32 = this.u32();
    const messagePointer = (u32[this.errorSlot >>> 2] ?? 0) >>> 0;
    if (messagePointer === 0) return undefined;
    u32[this.errorSlot >>> 2] = 0;
    return this.readCString(messagePointer);
  }

  /** Reads a NUL-terminated string of at most 1024 bytes (USearch's messages are short literals). */
  readCString(pointer: number): string {
    const u8 = this.u8();
    let end = pointer;
    while (end < u8.length && end - pointer < 1024 && u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(pointer, end));
  }

  /**
   * Runs `walk` with `predicate` answering the module's filter callbacks. An exception thrown
   * by the predicate rejects that key, lets the walk finish (so the module's state stays
   * consistent) and is rethrown afterwards.
   */
  withFilter<T>(predicate: (key: bigint) => boolean, walk: () => T): T {
    const active: ActiveFilter = { predicate, error: undefined, failed: false };
    this.activeFilter = active;
    let result: T;
    try {
      result = walk();
    } finally {
      this.activeFilter = undefined;
    }
    if (active.failed) throw active.error;
    return result;
  }

  private admit(key: bigint): number {
    const active = this.activeFilter;
    if (active === undefined || active.failed) return 0;
    try {
      return active.predicate(key) ? 1 : 0;
    } catch (error) {
      active.failed = true;
      active.error = error;
      return 0;
    }
  }
}
