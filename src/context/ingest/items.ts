/**
 * The documents `vltair ingest` writes for one file: one per chunk, with a stable id
 * `<path>#<n>` (n = 1-based chunk number in the file) and metadata
 * `{path, language, line_start, line_end, chunk, chunks}`. Because ids are numbered, a file that
 * now has fewer chunks leaves exactly `<path>#<chunks+1>…` behind, which ingest deletes; because
 * every chunk carries the file's chunk count, an unchanged count is implied by "all skipped".
 */
import { createHash } from "node:crypto";
import type { UpsertRequest } from "../schemas.ts";
import { DOC_ID_CHARS_MAX, type Scope } from "../scope.ts";
import { CHUNK_OPTIONS_DEFAULT, type ChunkOptions, chunkText } from "./chunker.ts";
import { languageOf } from "./language.ts";

export type IngestItem = UpsertRequest["items"][number];

/** Characters of `#<n>` a document id keeps room for (n up to 10^9). */
const SUFFIX_CHARS_MAX = 11;
/** Characters of the hash that stands in for the tail of a path too long for an id. */
const PATH_HASH_CHARS = 16;

/**
 * The id of chunk `n` of `docPath`: `<docPath>#<n>`; a path too long for a 256-character id
 * keeps its head and ends with `~` and 16 hex characters of its SHA-256.
 *
 * @example
 * ```ts
 * chunkDocId("src/cli/run.ts", 2); // "src/cli/run.ts#2"
 * ```
 */
export function chunkDocId(docPath: string, n: number): string {
  const room = DOC_ID_CHARS_MAX - SUFFIX_CHARS_MAX;
  if (docPath.length <= room) return `${docPath}#${n}`;
  const hash = createHash("sha256").update(docPath).digest("hex").slice(0, PATH_HASH_CHARS);
  // Never cut a surrogate pair in half: ids reject lone surrogates.
  let head = docPath.slice(0, room - PATH_HASH_CHARS - 1);
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head}~${hash}#${n}`;
}

/**
 * The upsert items of one file's text.
 *
 * @example
 * ```ts
 * fileItems("src/a.ts", source, { kind: "global" }); // [{ id: "src/a.ts#1", text, metadata }, …]
 * ```
 */
export function fileItems(
  docPath: string,
  text: string,
  scope: Scope,
  options: ChunkOptions = CHUNK_OPTIONS_DEFAULT,
): IngestItem[] {
  const chunks = chunkText(text, options);
  const language = languageOf(docPath);
  return chunks.map((chunk, i) => ({
    id: chunkDocId(docPath, i + 1),
    scope,
    text: chunk.text,
    metadata: {
      path: docPath,
      language,
      line_start: chunk.startLine,
      line_end: chunk.endLine,
      chunk: i + 1,
      chunks: chunks.length,
    },
  }));
}

/** Characters of a path every id of its chunks starts with, even when the path was too long and hashed. */
const ID_HEAD_CHARS = DOC_ID_CHARS_MAX - SUFFIX_CHARS_MAX - PATH_HASH_CHARS - 2;

/**
 * An id prefix shared by the chunk ids of every path that starts with `pathPrefix`: the prefix
 * itself, cut to the head a hashed long-path id keeps (never in the middle of a surrogate pair).
 * It over-matches (`src/a` also matches `src/ab.ts#1`): callers check each document's path.
 *
 * @example
 * ```ts
 * chunkIdPrefix("src/cli"); // "src/cli"
 * ```
 */
export function chunkIdPrefix(pathPrefix: string): string {
  if (pathPrefix.length <= ID_HEAD_CHARS) return pathPrefix;
  const head = pathPrefix.slice(0, ID_HEAD_CHARS);
  return /[\ud800-\udbff]$/.test(head) ? head.slice(0, -1) : head;
}
