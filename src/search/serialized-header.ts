/**
 * Reads the 64-byte header of a serialized USearch dense index (`index_dense_head_t` in
 * usearch/index_dense.hpp) in JS, so that checking bytes before a load costs no copy into
 * WASM memory. Layout (`save_to_stream`): `[rows u32][bytes per vector u32]`, the vectors,
 * then the 64-byte header, then the graph.
 */
import { VltairError } from "../core/mod.ts";
import type { VectorMetric, VectorQuantization } from "./vector-options.ts";

/** What the header says about the serialized index. */
export interface SerializedHeader {
  metric: VectorMetric | "unsupported";
  quantization: VectorQuantization | "unsupported";
  dimensions: number;
  /** Vectors present when serialized. */
  count: number;
}

/** Size of the header, in bytes. */
export const SERIALIZED_HEADER_BYTES = 64;

const MAGIC = "usearch";
/** The vector matrix's row count and row size (u32 each) that precede the vectors. */
const MATRIX_PREFIX_BYTES = 8;
/** Byte offsets inside the header (7-byte magic, three u16 versions, then kinds and counts). */
const OFFSET = { metric: 13, scalar: 14, countPresent: 17, dimensions: 33 } as const;
/** USearch's `metric_kind_t` characters. */
const METRIC_BY_CODE: Record<number, VectorMetric> = { 99: "cos", 105: "ip", 101: "l2sq" };
/** USearch's `scalar_kind_t` values. */
const QUANTIZATION_BY_CODE: Record<number, VectorQuantization> = { 11: "f32", 12: "f16", 23: "i8" };

/** Parses the header; throws `validation_failed` (field `bytes`) when it is not a USearch index. */
export function readSerializedHeader(bytes: Uint8Array): SerializedHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const matrixBytes =
    bytes.length >= MATRIX_PREFIX_BYTES ? view.getUint32(0, true) * view.getUint32(4, true) : 0;
  const start = MATRIX_PREFIX_BYTES + matrixBytes;
  const end = start + SERIALIZED_HEADER_BYTES;
  const magic =
    end <= bytes.length ? String.fromCharCode(...bytes.subarray(start, start + MAGIC.length)) : "";
  if (magic !== MAGIC) {
    throw new VltairError("validation_failed", "bytes are not a serialized vector index", {
      details: { field: "bytes", reason: "bad_header", size_bytes: bytes.length },
    });
  }
  return {
    metric: METRIC_BY_CODE[view.getUint8(start + OFFSET.metric)] ?? "unsupported",
    quantization: QUANTIZATION_BY_CODE[view.getUint8(start + OFFSET.scalar)] ?? "unsupported",
    dimensions: Number(view.getBigUint64(start + OFFSET.dimensions, true)),
    count: Number(view.getBigUint64(start + OFFSET.countPresent, true)),
  };
}
