/**
 * An index as bytes and back: USearch's own format (header included), copied out window by
 * window and streamed in piece by piece, so neither direction holds a copy of the whole
 * serialized index in module memory (which never shrinks).
 */
import { VltairError } from "../core/mod.ts";
import { readSerializedHeader } from "./serialized-header.ts";
import type { VectorMemory } from "./vector-memory.ts";
import { VECTOR_LIMITS, type VectorMetric, type VectorQuantization } from "./vector-options.ts";

/**
 * `serializeVectors` copies the bytes out through a window in module memory of at least this
 * size and at least 1/SERIALIZE_PASSES_MAX of the serialized length. Each window walks the index
 * from the start, so the passes are bounded (a fixed 8 MiB window made 100k × 384-d, 161 MB,
 * take 20 passes and 454 ms, and would grow quadratically), while the module grows by at most a
 * quarter of the serialized length instead of all of it.
 */
const SERIALIZE_WINDOW_BYTES_MIN = 8 * 1024 * 1024;
const SERIALIZE_PASSES_MAX = 4;

/** What serialized bytes must match to load into an existing index. */
export interface VectorShape {
  dimensions: number;
  metric: VectorMetric;
  quantization: VectorQuantization;
}

/**
 * The index in `memory` as bytes. Deterministic: the same inserts in the same order give the
 * same bytes on every runtime.
 *
 * @example
 * ```ts
 * const bytes = serializeVectors(memory);
 * ```
 */
export function serializeVectors(memory: VectorMemory): Uint8Array {
  const wasm = memory.wasm;
  wasm.clearError();
  const lengthBytes = wasm.exports.usearch_serialized_length(memory.handle, wasm.errorSlot) >>> 0;
  memory.check("serialize");
  // Window by window through one buffer of at most a quarter of the length (or 8 MiB): a
  // buffer of the whole serialized length would grow the module's memory by that much for
  // good (it never shrinks).
  const bytes = new Uint8Array(lengthBytes);
  const windowBytes = Math.min(
    lengthBytes,
    Math.max(SERIALIZE_WINDOW_BYTES_MIN, Math.ceil(lengthBytes / SERIALIZE_PASSES_MAX)),
  );
  const pointer = wasm.alloc(windowBytes);
  try {
    for (let offset = 0; offset < lengthBytes; offset += windowBytes) {
      const length = Math.min(windowBytes, lengthBytes - offset);
      wasm.clearError();
      wasm.exports.vltair_save_window(memory.handle, offset, pointer, length, wasm.errorSlot);
      memory.check("serialize");
      bytes.set(wasm.u8().subarray(pointer, pointer + length), offset);
    }
    return bytes;
  } finally {
    wasm.free(pointer);
  }
}

/**
 * Replaces the index in `memory` with serialized `bytes` of the same `shape`. Throws
 * `payload_too_large` past the serialized limit and `validation_failed` (field `bytes`) on
 * another shape or trailing bytes.
 *
 * @example
 * ```ts
 * loadVectors(memory, { dimensions: 384, metric: "cos", quantization: "f16" }, bytes);
 * ```
 */
export function loadVectors(memory: VectorMemory, shape: VectorShape, bytes: Uint8Array): void {
  const wasm = memory.wasm;
  checkSerializedSize(bytes);
  const header = readSerializedHeader(bytes);
  if (
    header.dimensions !== shape.dimensions ||
    header.metric !== shape.metric ||
    header.quantization !== shape.quantization
  ) {
    throw new VltairError("validation_failed", "serialized index does not match this index", {
      details: {
        field: "bytes",
        expected: {
          dimensions: shape.dimensions,
          metric: shape.metric,
          quantization: shape.quantization,
        },
        actual: header,
      },
    });
  }
  // Streamed: the module pulls the bytes piece by piece into the index's own allocations, so
  // no copy of the whole serialized index ever sits in its memory (which never shrinks).
  wasm.clearError();
  const { result: unusedBytes, readBytes: takenBytes } = wasm.withSource(
    bytes,
    () => wasm.exports.vltair_load_stream(memory.handle, wasm.errorSlot) >>> 0,
  );
  memory.check("load");
  const readBytes = takenBytes - unusedBytes;
  if (readBytes !== bytes.length) {
    throw new VltairError("validation_failed", "serialized index has trailing bytes", {
      details: { field: "bytes", read_bytes: readBytes, size_bytes: bytes.length },
    });
  }
  // No reserve ahead here: `add` and `addBatch` grow on demand, so a restart does not pay
  // for room it may never use (100k × 384-d: 8 MB of module memory and a rehash).
}

/** Throws `payload_too_large` (field `bytes`) when serialized bytes exceed their limit. */
export function checkSerializedSize(bytes: Uint8Array): void {
  if (bytes.length > VECTOR_LIMITS.serializedBytesMax) {
    throw new VltairError("payload_too_large", "serialized index exceeds its limit", {
      details: {
        field: "bytes",
        size_bytes: bytes.length,
        limit_bytes: VECTOR_LIMITS.serializedBytesMax,
      },
    });
  }
}
