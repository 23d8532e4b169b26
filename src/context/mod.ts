/**
 * The context engine: versioned, tenant-scoped documents in scopes, folded from the WAL into a
 * document store with a BM25 text index and a WASM HNSW vector index per tenant; hybrid search
 * with filters and time travel; three-way merge; embedders; the ingest walker and chunker.
 *
 * @example
 * ```ts
 * import { ContextService, createContextMachine, resolveContextLimits } from "./context/mod.ts";
 * storage.register(createContextMachine());
 * await storage.recover();
 * const context = new ContextService({ storage, embedder: null, limits: resolveContextLimits(), tokenizer: "code" });
 * await context.upsert("default", { items: [{ id: "a", scope: { kind: "global" }, text: "hello" }] });
 * ```
 */
export { contentHash } from "./content-hash.ts";
export type {
  Embedder,
  EmbedderIdentity,
  EmbedderProvider,
  HashModel,
  OpenAiEmbedderOptions,
} from "./embed/mod.ts";
export {
  createHashEmbedder,
  createOpenAiEmbedder,
  describeIdentity,
  HASH_MODEL_DEFAULT,
  HASH_MODELS,
  hashEmbed,
  identityOf,
  sameIdentity,
} from "./embed/mod.ts";
export type {
  FieldGrammar,
  FieldRef,
  FilterLimits,
  FilterTarget,
  PreparedFilter,
} from "./filters/mod.ts";
export {
  canonicalJson,
  FILTER_LIMITS_DEFAULT,
  FILTER_OPS,
  MISSING,
  prepareFilter,
  prepareFilterOver,
  valueAtPath,
} from "./filters/mod.ts";
export type {
  Chunk,
  ChunkOptions,
  IngestItem,
  IngestProgress,
  IngestRequest,
  IngestResponse,
  SkippedFile,
  WalkedFile,
  WalkOptions,
} from "./ingest/mod.ts";
export {
  CHUNK_OPTIONS_DEFAULT,
  chunkDocId,
  chunkIdPrefix,
  chunkText,
  fileItems,
  IngestRequestSchema,
  IngestResponseSchema,
  ingestTree,
  languageOf,
  WALK_OPTIONS_DEFAULT,
  walkTree,
} from "./ingest/mod.ts";
export type { ContextLimits } from "./limits.ts";
export { CONTEXT_LIMITS, resolveContextLimits } from "./limits.ts";
export type { MergeResult } from "./merge.ts";
export { MERGE_MARKERS, merge3 } from "./merge.ts";
export { contextWriteRequests } from "./policy-requests.ts";
export type {
  DeleteBatchRequest,
  DeleteBatchResponse,
  DocumentView,
  ListQuery,
  ListResponse,
  MergeRequest,
  SearchHit,
  SearchRequest,
  SearchResponse,
  Strategy,
  UpsertRequest,
  UpsertResponse,
} from "./schemas.ts";
export {
  DeleteBatchRequestSchema,
  DeleteBatchResponseSchema,
  DeleteResponseSchema,
  DocumentSchema,
  LIST_LIMIT_MAX,
  ListQuerySchema,
  ListResponseSchema,
  MergeRequestSchema,
  MergeResponseSchema,
  SearchRequestSchema,
  SearchResponseSchema,
  STRATEGIES,
  UpsertRequestSchema,
  UpsertResponseSchema,
  VersionsResponseSchema,
  VersionTextSchema,
} from "./schemas.ts";
export type { Scope } from "./scope.ts";
export { DOC_ID_CHARS_MAX, isValidId, parseScopeParam, SCOPE_KINDS, scopeKey } from "./scope.ts";
export type { ContextReadPolicy, ContextServiceOptions } from "./service.ts";
export { ContextService } from "./service.ts";
export type { StatsResponse } from "./stats.ts";
export { StatsResponseSchema } from "./stats.ts";
export { createContextMachine } from "./store/machine.ts";
export type { ContextRecord } from "./store/record.ts";
export { CONTEXT_MACHINE } from "./store/record.ts";
export type { ContextState, ContextStateOptions } from "./store/state.ts";
export { TenantLock } from "./tenant-lock.ts";
