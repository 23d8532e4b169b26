/**
 * Ingestion of source trees: walking (gitignore, globs, binaries), chunking, languages.
 *
 * @example
 * ```ts
 * import { chunkText, walkTree, WALK_OPTIONS_DEFAULT } from "./ingest/mod.ts";
 * ```
 */
export type { Chunk, ChunkOptions } from "./chunker.ts";
export { CHUNK_OPTIONS_DEFAULT, chunkText } from "./chunker.ts";
export type { IngestItem } from "./items.ts";
export { chunkDocId, chunkIdPrefix, fileItems } from "./items.ts";
export { languageOf } from "./language.ts";
export type { IngestProgress, IngestRequest, IngestResponse, IngestTarget } from "./tree-ingest.ts";
export { IngestRequestSchema, IngestResponseSchema, ingestTree } from "./tree-ingest.ts";
export type { SkippedFile, WalkedFile, WalkOptions } from "./walk.ts";
export { WALK_OPTIONS_DEFAULT, walkTree } from "./walk.ts";
