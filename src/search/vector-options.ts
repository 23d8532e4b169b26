/**
 * Options, defaults and limits of a vector index, and their validation.
 */
import { VltairError } from "../core/mod.ts";

/** Distance metric: cosine distance, inner-product distance (1 − dot), or squared L2. */
export type VectorMetric = "cos" | "ip" | "l2sq";

/** How vectors are stored inside the index. Queries and inserts are always given as f32. */
export type VectorQuantization = "f32" | "f16" | "i8";

/** Every limit of the binding, each with its reason. */
export const VECTOR_LIMITS = {
  /** Widest accepted vector; the largest common embedding models use 3072 dimensions. */
  dimensionsMax: 4096,
  /** Most results one search returns; bounds the result buffers (12 bytes per result). */
  kMax: 1024,
  /** Fewest graph edges per node USearch accepts. */
  connectivityMin: 2,
  /** Most graph edges per node; more costs memory with no recall gain at these sizes. */
  connectivityMax: 128,
  /** Widest candidate list while adding or searching; bounds the per-call work. */
  expansionMax: 4096,
  /** Largest staging copy of one `addBatch` call (the one copy into WASM memory). */
  batchBytesMax: 256 * 1024 * 1024,
  /** Most keys in one allowed-key filter (8 bytes each in WASM memory). */
  allowedKeysMax: 4_000_000,
  /** Largest initial capacity, in vectors; the index grows past it on demand. */
  capacityMax: 50_000_000,
  /** Largest serialized index `load` accepts: the wasm32 address space is 4 GiB. */
  serializedBytesMax: 2 * 1024 * 1024 * 1024,
} as const;

/** Options of `createVectorIndex`. */
export interface VectorIndexOptions {
  /** Number of f32 components per vector, 1..`VECTOR_LIMITS.dimensionsMax`. */
  dimensions: number;
  /** Default `"cos"`. */
  metric?: VectorMetric;
  /** Default `"f32"`. `"i8"` is only valid with `"cos"` (USearch normalizes before scaling). */
  quantization?: VectorQuantization;
  /** Graph edges per node (HNSW `M`), default 16. */
  connectivity?: number;
  /** Candidate list width while adding (HNSW `efConstruction`), default 128. */
  expansionAdd?: number;
  /** Candidate list width while searching (HNSW `ef`), default 64. */
  expansionSearch?: number;
  /** Vectors to reserve room for up front, default 1024; the index doubles past it on demand. */
  capacity?: number;
  /**
   * Whether large batches and unfiltered searches may run on the process's helper thread
   * (ADR 0006; config `vector_thread`), default true. Results are identical either way.
   */
  helperThread?: boolean;
}

/** Options with every default applied. */
export type ResolvedVectorIndexOptions = Required<VectorIndexOptions>;

/** Defaults of the optional fields of {@link VectorIndexOptions}. */
export const VECTOR_INDEX_DEFAULTS = {
  metric: "cos",
  quantization: "f32",
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 64,
  capacity: 1024,
  helperThread: true,
} as const;

/** USearch's `usearch_metric_kind_t` values. */
export const METRIC_KIND: Record<VectorMetric, number> = { cos: 1, ip: 2, l2sq: 3 };
/** USearch's `usearch_scalar_kind_t` values. */
export const SCALAR_KIND: Record<VectorQuantization, number> = { f32: 1, f16: 3, i8: 4 };

function invalid(field: string, message: string, details: Record<string, unknown>): VltairError {
  return new VltairError("validation_failed", message, { details: { field, ...details } });
}

/** Throws `validation_failed` unless `value` is an integer in [min, max]. */
export function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `${field} must be an integer in [${min}, ${max}]`, {
      min,
      max,
      actual: value,
    });
  }
}

/** Applies defaults and validates every field; throws `validation_failed` naming the field. */
export function resolveVectorIndexOptions(options: VectorIndexOptions): ResolvedVectorIndexOptions {
  const resolved: ResolvedVectorIndexOptions = { ...VECTOR_INDEX_DEFAULTS, ...options };
  checkInteger("dimensions", resolved.dimensions, 1, VECTOR_LIMITS.dimensionsMax);
  if (!Object.hasOwn(METRIC_KIND, resolved.metric)) {
    throw invalid("metric", "metric must be cos, ip or l2sq", { actual: resolved.metric });
  }
  if (!Object.hasOwn(SCALAR_KIND, resolved.quantization)) {
    throw invalid("quantization", "quantization must be f32, f16 or i8", {
      actual: resolved.quantization,
    });
  }
  if (resolved.quantization === "i8" && resolved.metric !== "cos") {
    throw invalid("quantization", "i8 quantization requires the cos metric", {
      metric: resolved.metric,
    });
  }
  checkInteger(
    "connectivity",
    resolved.connectivity,
    VECTOR_LIMITS.connectivityMin,
    VECTOR_LIMITS.connectivityMax,
  );
  checkInteger("expansionAdd", resolved.expansionAdd, 1, VECTOR_LIMITS.expansionMax);
  checkInteger("expansionSearch", resolved.expansionSearch, 1, VECTOR_LIMITS.expansionMax);
  checkInteger("capacity", resolved.capacity, 1, VECTOR_LIMITS.capacityMax);
  return resolved;
}
