/**
 * `GET /v1/context/stats`: what a tenant holds — documents, versions, documents per scope, the
 * recorded and the configured embedder, the tokenizer, the index sizes and the last WAL index.
 * Operators read it to see which embedder a data directory needs (409 `embedder_mismatch`).
 */
import * as v from "valibot";
import { type Embedder, EmbedderIdentitySchema, identityOf } from "./embed/mod.ts";
import { type Scope, ScopeSchema } from "./scope.ts";
import type { TenantStore } from "./store/tenant.ts";

/** The wire shape of the stats. */
export const StatsResponseSchema = v.object({
  tenant: v.string(),
  documents: v.number(),
  /** Every stored version, current ones included. */
  versions: v.number(),
  /** Documents (current versions) per scope, in scope order. */
  scopes: v.array(v.object({ scope: ScopeSchema, documents: v.number() })),
  /** The embedder that made the tenant's server-embedded vectors; null when none is recorded. */
  embedder: v.nullable(EmbedderIdentitySchema),
  /** The embedder this server embeds with; null when none is configured. */
  configured_embedder: v.nullable(EmbedderIdentitySchema),
  tokenizer: v.string(),
  text_index: v.object({
    documents: v.number(),
    terms: v.number(),
    postings: v.number(),
    memory_bytes: v.number(),
  }),
  vector_index: v.nullable(
    v.object({ vectors: v.number(), dimensions: v.number(), memory_bytes: v.number() }),
  ),
  wal_index: v.number(),
});

export type StatsResponse = v.InferOutput<typeof StatsResponseSchema>;

/**
 * The stats of a tenant's store (undefined: a tenant that never wrote).
 *
 * @example
 * ```ts
 * const stats = tenantStats(state.tenant("acme"), { tenant: "acme", embedder, tokenizer: "code", walIndex: 7 });
 * ```
 */
export function tenantStats(
  store: TenantStore | undefined,
  context: { tenant: string; embedder: Embedder | null; tokenizer: string; walIndex: number },
): StatsResponse {
  const configured = context.embedder === null ? null : identityOf(context.embedder);
  const base = {
    tenant: context.tenant,
    configured_embedder: configured,
    wal_index: context.walIndex,
  };
  if (store === undefined) {
    return {
      ...base,
      documents: 0,
      versions: 0,
      scopes: [],
      embedder: null,
      tokenizer: context.tokenizer,
      text_index: { documents: 0, terms: 0, postings: 0, memory_bytes: 0 },
      vector_index: null,
    };
  }
  let versions = 0;
  const perScope = new Map<string, { scope: Scope; documents: number }>();
  for (const doc of store.sortedDocs()) {
    versions += 1 + (doc.past?.length ?? 0);
    const entry = perScope.get(doc.scopeKey);
    if (entry === undefined) perScope.set(doc.scopeKey, { scope: doc.scope, documents: 1 });
    else entry.documents++;
  }
  const text = store.text.stats();
  const vectors = store.vectorIndex();
  return {
    ...base,
    documents: store.docs.size,
    versions,
    scopes: [...perScope.values()],
    embedder: store.embedder,
    tokenizer: store.text.options.tokenizer,
    text_index: {
      documents: text.docCount,
      terms: text.termCount,
      postings: text.postingCount,
      memory_bytes: text.typedArrayBytes,
    },
    vector_index:
      vectors === null
        ? null
        : {
            vectors: vectors.size(),
            dimensions: vectors.dimensions,
            memory_bytes: vectors.memoryUsage().indexBytes,
          },
  };
}
