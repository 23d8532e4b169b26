/** The context engine's routes (API.md, "Context engine"): every one scoped to the caller's tenant. */
import * as v from "valibot";
import {
  type ContextService,
  DeleteBatchRequestSchema,
  DeleteBatchResponseSchema,
  DeleteResponseSchema,
  DOC_ID_CHARS_MAX,
  DocumentSchema,
  isValidId,
  ListQuerySchema,
  ListResponseSchema,
  MergeRequestSchema,
  MergeResponseSchema,
  parseScopeParam,
  SearchRequestSchema,
  SearchResponseSchema,
  StatsResponseSchema,
  UpsertRequestSchema,
  UpsertResponseSchema,
  VersionsResponseSchema,
  VersionTextSchema,
} from "../../context/mod.ts";
import { VltairError } from "../../core/mod.ts";
import type { AppContext } from "../env.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";

const ScopeQuerySchema = v.strictObject({
  /** `global` (default), `session:<id>` or `task:<id>`. */
  scope: v.optional(v.string()),
});

const TAG = "context";

/** The `:id` of a route: a document id (1-256 characters, no control characters). */
function docIdParam(c: AppContext): string {
  const id = c.req.param("id") ?? "";
  if (!isValidId(id, DOC_ID_CHARS_MAX)) {
    throw new VltairError(
      "validation_failed",
      `id must be 1-${DOC_ID_CHARS_MAX} characters without control characters`,
      {
        details: { field: "id" },
      },
    );
  }
  return id;
}

function versionParam(text: string | undefined = ""): number {
  const version = Number(text);
  if (!/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(version)) {
    throw new VltairError("validation_failed", "version must be a positive integer", {
      details: { field: "version", value: text.slice(0, 32) },
    });
  }
  return version;
}

/** The context routes. */
export function contextRoutes(deps: { context: ContextService }): AnyRoute[] {
  const { context } = deps;
  return [
    defineRoute({
      method: "POST",
      path: "/v1/context/docs:upsert",
      tool: {
        name: "context_upsert",
        title: "Upsert documents",
        readOnly: false,
        destructive: false,
        idempotent: true,
      },
      summary:
        "Insert or update a batch of documents atomically; identical repeats are skipped, expected_version guards updates.",
      tag: TAG,
      access: "writer",
      body: UpsertRequestSchema,
      responses: { 200: { description: "What each item became", schema: UpsertResponseSchema } },
      handler: async (c, { body }) => c.json(await context.upsert(callOf(c), body)),
    }),
    defineRoute({
      method: "POST",
      path: "/v1/context/docs:delete",
      tool: {
        name: "context_delete_batch",
        title: "Delete documents",
        readOnly: false,
        destructive: true,
        idempotent: true,
      },
      summary:
        "Delete a batch of documents atomically; ids that name no document are reported as missing (idempotent pruning).",
      tag: TAG,
      access: "writer",
      body: DeleteBatchRequestSchema,
      responses: { 200: { description: "What was deleted", schema: DeleteBatchResponseSchema } },
      handler: async (c, { body }) => c.json(await context.deleteBatch(callOf(c), body)),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/context/docs",
      tool: {
        name: "context_list",
        title: "List documents",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary:
        "List the caller's documents in (scope, id) order, a page at a time, optionally by scope and id prefix.",
      tag: TAG,
      access: "reader",
      query: ListQuerySchema,
      responses: { 200: { description: "A page of documents", schema: ListResponseSchema } },
      handler: (c, { query }) =>
        c.json(
          context.list(callOf(c), {
            scope: query.scope === undefined ? null : parseScopeParam(query.scope),
            prefix: query.prefix ?? "",
            limit: query.limit ?? 100,
            cursor: query.cursor ?? null,
          }),
        ),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/context/stats",
      tool: {
        name: "context_stats",
        title: "Context stats",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary:
        "What the caller's tenant holds: documents, versions, documents per scope, the recorded and configured embedder, tokenizer, index sizes, last wal_index.",
      tag: TAG,
      access: "reader",
      responses: { 200: { description: "The tenant's stats", schema: StatsResponseSchema } },
      handler: (c) => c.json(context.stats(callOf(c))),
    }),
    defineRoute({
      method: "POST",
      path: "/v1/context/search",
      tool: {
        name: "context_search",
        title: "Search context",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "Sparse (BM25), dense (HNSW) or hybrid search with scope, filters and time travel.",
      tag: TAG,
      access: "reader",
      body: SearchRequestSchema,
      responses: { 200: { description: "Results, best first", schema: SearchResponseSchema } },
      handler: async (c, { body }) => c.json(await context.search(callOf(c), body)),
    }),
    defineRoute({
      method: "POST",
      path: "/v1/context/merge",
      tool: {
        name: "context_merge",
        title: "Three-way merge",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "Line-based three-way merge of strings or of two versions of a document.",
      tag: TAG,
      access: "reader",
      body: MergeRequestSchema,
      responses: { 200: { description: "The merge", schema: MergeResponseSchema } },
      handler: (c, { body }) => c.json(context.merge(callOf(c), body)),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/context/docs/:id",
      tool: {
        name: "context_get",
        title: "Get a document",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "The current version of a document.",
      tag: TAG,
      access: "reader",
      query: ScopeQuerySchema,
      responses: { 200: { description: "The document", schema: DocumentSchema } },
      handler: (c, { query }) =>
        c.json(context.get(callOf(c), parseScopeParam(query.scope), docIdParam(c))),
    }),
    defineRoute({
      method: "DELETE",
      path: "/v1/context/docs/:id",
      tool: {
        name: "context_delete",
        title: "Delete a document",
        readOnly: false,
        destructive: true,
        idempotent: false,
      },
      summary: "Delete a document (its versions go with it).",
      tag: TAG,
      access: "writer",
      query: ScopeQuerySchema,
      responses: { 200: { description: "Deleted", schema: DeleteResponseSchema } },
      handler: async (c, { query }) =>
        c.json(await context.delete(callOf(c), parseScopeParam(query.scope), docIdParam(c))),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/context/docs/:id/versions",
      tool: {
        name: "context_versions",
        title: "Document versions",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "A document's versions, newest first.",
      tag: TAG,
      access: "reader",
      query: ScopeQuerySchema,
      responses: { 200: { description: "The versions", schema: VersionsResponseSchema } },
      handler: (c, { query }) =>
        c.json(context.versions(callOf(c), parseScopeParam(query.scope), docIdParam(c))),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/context/docs/:id/versions/:version",
      tool: {
        name: "context_version",
        title: "A document version",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "One version of a document, with its text.",
      tag: TAG,
      access: "reader",
      query: ScopeQuerySchema,
      responses: { 200: { description: "The version", schema: VersionTextSchema } },
      handler: (c, { query }) =>
        c.json(
          context.version(
            callOf(c),
            parseScopeParam(query.scope),
            docIdParam(c),
            versionParam(c.req.param("version")),
          ),
        ),
    }),
  ];
}
