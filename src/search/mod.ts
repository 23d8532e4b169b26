/**
 * Search primitives of the context engine. Dense vectors: a USearch HNSW index compiled to
 * WebAssembly and embedded in the program (no native addon, same bytes on every OS).
 *
 * @example
 * ```ts
 * import { createVectorIndex } from "../search/mod.ts";
 *
 * const index = createVectorIndex({ dimensions: 384, metric: "cos", quantization: "f16" });
 * index.addBatch([1n, 2n], [embeddingA, embeddingB]);
 * const { keys, distances } = index.search(query, 10, { filter: { allowedKeys: [2n] } });
 * const bytes = index.serialize();
 * index.dispose();
 * ```
 */

export type { FusedHit, FusionOptions, HalfHit } from "./fusion.ts";
export { byScoreThenId, FUSION_DEFAULT, fuse, RRF_K_DEFAULT } from "./fusion.ts";
export type { SerializedHeader } from "./serialized-header.ts";
export { readSerializedHeader } from "./serialized-header.ts";
export type {
  TextIndex,
  TextIndexOptions,
  TextMatch,
  TokenizerName,
} from "./text/mod.ts";
export {
  createTextIndex,
  loadTextIndex,
  loadTextIndexSteps,
  TEXT_INDEX_DEFAULTS,
  TOKENIZER_NAMES,
} from "./text/mod.ts";
export { precompileUsearchModule as precompileVectorModule } from "./usearch-instance.ts";
export type {
  LoadVectorIndexOptions,
  VectorIndex,
  VectorMemoryUsage,
  VectorSearchOptions,
} from "./vector.ts";
export { createVectorIndex, loadVectorIndex } from "./vector.ts";
export type { VectorInput, VectorKey } from "./vector-input.ts";
export { VECTOR_KEY_MAX } from "./vector-input.ts";
export type { VectorMatches } from "./vector-memory.ts";
export type {
  ResolvedVectorIndexOptions,
  VectorIndexOptions,
  VectorMetric,
  VectorQuantization,
} from "./vector-options.ts";
export { VECTOR_INDEX_DEFAULTS, VECTOR_LIMITS } from "./vector-options.ts";
export type { VectorFilter } from "./vector-walk.ts";
export type { WidenStep } from "./vector-widen.ts";
export { WIDEN_STEPS_DEFAULT, widenSearch } from "./vector-widen.ts";
