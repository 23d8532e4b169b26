/**
 * Ingest of a directory tree the server holds (a sandbox workspace): the same walk (gitignore,
 * include/exclude, binary and size skips) and the same chunk ids as `vltair ingest`, upserted
 * with the caller's Call in bounded batches — each batch one commit, so a crash keeps every
 * batch written before it and a re-ingest skips what did not change. `onProgress` hears after
 * every batch (the route streams it; the MCP tool turns it into progress notifications).
 */
import * as path from "node:path";
import * as v from "valibot";
import { type Call, VltairError } from "../../core/mod.ts";
import type { UpsertRequest, UpsertResponse } from "../schemas.ts";
import { type Scope, ScopeSchema } from "../scope.ts";
import { fileItems, type IngestItem } from "./items.ts";
import { type SkippedFile, WALK_OPTIONS_DEFAULT, walkTree } from "./walk.ts";

/** Patterns of one include or exclude list. */
const PATTERNS_MAX = 64;
/** Skipped files an answer lists (the count is exact). */
export const SKIPPED_LISTED_MAX = 100;
/** Bytes of document text in one upsert batch (besides the context's `batch_items_max`). */
export const INGEST_BATCH_BYTES_MAX = 4 * 1024 * 1024;

const Pattern = v.pipe(v.string(), v.minLength(1), v.maxLength(1024));

export const IngestRequestSchema = v.strictObject({
  /** The workspace to read (`default`: the tenant's default workspace). */
  workspace: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), "default"),
  /** A directory inside it (relative, no `..`); documents' paths stay relative to the root. */
  path: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(4096),
      v.check(
        (p) => !path.posix.isAbsolute(p) && !p.split("/").includes(".."),
        "must be a relative path inside the workspace (no leading /, no ..)",
      ),
    ),
    ".",
  ),
  include: v.optional(v.pipe(v.array(Pattern), v.maxLength(PATTERNS_MAX)), []),
  exclude: v.optional(v.pipe(v.array(Pattern), v.maxLength(PATTERNS_MAX)), []),
  scope: v.optional(ScopeSchema, { kind: "global" }),
});
export type IngestRequest = v.InferOutput<typeof IngestRequestSchema>;

export const IngestResponseSchema = v.object({
  files: v.number(),
  chunks: v.number(),
  inserted: v.number(),
  updated: v.number(),
  unchanged: v.number(),
  skipped: v.array(v.object({ path: v.string(), reason: v.string() })),
  skipped_count: v.number(),
});
export type IngestResponse = v.InferOutput<typeof IngestResponseSchema>;

/** What ingest needs of the context engine. */
export interface IngestTarget {
  readonly limits: { batchItemsMax: number };
  upsert(call: Call, request: UpsertRequest): Promise<UpsertResponse>;
}

/** Progress after a batch: files walked and chunks written so far. */
export type IngestProgress = (done: { files: number; chunks: number }) => Promise<void> | void;

/**
 * Ingests the tree at `root` (already resolved to the caller's workspace).
 *
 * @example
 * ```ts
 * const answer = await ingestTree(call, tree, request, context, ({ files }) => log(files));
 * ```
 */
export async function ingestTree(
  call: Call,
  root: string,
  request: IngestRequest,
  context: IngestTarget,
  onProgress: IngestProgress = () => undefined,
): Promise<IngestResponse> {
  const start = path.resolve(root, request.path);
  if (start !== root && !start.startsWith(`${root}${path.sep}`))
    throw new VltairError("validation_failed", "path: must stay inside the workspace", {
      details: { field: "path" },
    });
  const answer: IngestResponse = {
    files: 0,
    chunks: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    skipped: [],
    skipped_count: 0,
  };
  const onSkip = (skipped: SkippedFile) => {
    answer.skipped_count += 1;
    if (answer.skipped.length < SKIPPED_LISTED_MAX) answer.skipped.push(skipped);
  };
  let batch: IngestItem[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const written = await context.upsert(call, { items: batch });
    answer.inserted += written.inserted;
    answer.updated += written.updated;
    answer.unchanged += written.skipped;
    answer.chunks += batch.length;
    batch = [];
    batchBytes = 0;
    await onProgress({ files: answer.files, chunks: answer.chunks });
  };
  const options = { ...WALK_OPTIONS_DEFAULT, include: request.include, exclude: request.exclude };
  for (const file of walkTree(start, options, onSkip)) {
    answer.files += 1;
    const docPath = path.posix.join(request.path === "." ? "" : request.path, file.path);
    for (const item of fileItems(docPath, file.text, request.scope as Scope)) {
      const bytes = item.text.length;
      if (
        batch.length >= context.limits.batchItemsMax ||
        batchBytes + bytes > INGEST_BATCH_BYTES_MAX
      )
        await flush();
      batch.push(item);
      batchBytes += bytes;
    }
  }
  await flush();
  return answer;
}
