/**
 * Helpers of bench/search.ts (the context engine benchmark): the chunked corpus, vltair's
 * instrumented engine and ingest, the peers (FTS5, MiniSearch, Orama), the search and
 * recovery profiles, timing statistics. `restart.ts` is the restart child's entry point.
 */
export type { BenchChunk, ChunkPass, CorpusRoot, PassReport } from "./corpus.ts";
export { CHUNK_PASSES, loadChunkCorpus, metadataOf } from "./corpus.ts";
export { buildFts5, buildMiniSearch, buildOrama, ORAMA_SIMILARITY } from "./peers.ts";
export { predicateNsPerCall, profileFilterPaths, profileHybrid } from "./profile.ts";
export { profileRecovery } from "./recovery-profile.ts";
export type { Meter } from "./stats.ts";
export {
  meanOverlap,
  meter,
  overlap,
  percentiles,
  round,
  timed,
  timedAsync,
} from "./stats.ts";
export type { BatchLimits, IngestMeters, VltairEngine } from "./vltair.ts";
export { DIMENSIONS, ingest, openVltair, TENANT } from "./vltair.ts";
