/**
 * From a validated search request to a {@link SearchPlan}: limits (CE-8), the strategy `auto`
 * resolves to, the query vector (given or embedded) and fusion parameters; and the rendering
 * of executed hits to the wire shape.
 */
import { VltairError } from "../core/mod.ts";
import { FUSION_DEFAULT, type FusionOptions, RRF_K_DEFAULT } from "../search/mod.ts";
import type { Embedder } from "./embed/mod.ts";
import type { FilterTarget } from "./filters/mod.ts";
import type { ContextLimits } from "./limits.ts";
import type { SearchHit, SearchRequest } from "./schemas.ts";
import { scopeKey } from "./scope.ts";
import type { ExecutedHit, SearchPlan } from "./search-exec.ts";

/** A warning carried by a response that still succeeded. */
export interface SearchWarning {
  code: string;
  message: string;
}

const invalid = (field: string, message: string, extra: Record<string, unknown> = {}) =>
  new VltairError("validation_failed", `${field}: ${message}`, { details: { field, ...extra } });

/** The request's fusion: {@link FUSION_DEFAULT} when it names none, each field's default else. */
function fusionOf(request: SearchRequest): FusionOptions {
  const f = request.fusion;
  if (f === undefined) return FUSION_DEFAULT;
  if (f.method === "weighted") {
    const denseWeight = f.dense_weight ?? FUSION_DEFAULT.denseWeight;
    const sparseWeight = f.sparse_weight ?? FUSION_DEFAULT.sparseWeight;
    if (denseWeight === 0 && sparseWeight === 0) {
      throw invalid("fusion", "dense_weight and sparse_weight must not both be 0");
    }
    return { method: "weighted", denseWeight, sparseWeight };
  }
  return { method: "rrf", rrfK: f.rrf_k ?? RRF_K_DEFAULT };
}

/**
 * Embedders whose vectors made hybrid rank below the sparse half alone on bench/relevance.ts's
 * set (hash-v1, MRR@10: RRF k = 60 0.208, weighted 0.5 0.222, sparse 0.237; only a dense weight
 * of 0.3 or less came out above, 0.244): `auto` searches text with the sparse half only when
 * the query vector would come from one of them.
 */
const AUTO_SPARSE_MODELS: ReadonlySet<string> = new Set(["hash-v1"]);

/**
 * Validates limits and resolves the strategy. `auto` is hybrid when there is text and a vector
 * (given, or embedded from the text), else whichever half has input; when the embedder fails,
 * `auto` falls back to sparse with a warning, while `dense` and `hybrid` fail with 503. With
 * text, no vector and an embedder of `AUTO_SPARSE_MODELS`, `auto` is sparse.
 */
export async function planSearch(
  request: SearchRequest,
  context: {
    limits: ContextLimits;
    embedder: Embedder | null;
    predicate: ((doc: FilterTarget) => boolean) | null;
    /** The filter's canonical JSON (names the admission view), or null without a filter. */
    canonicalFilter: string | null;
    signal: AbortSignal | undefined;
  },
): Promise<{ plan: SearchPlan; warnings: SearchWarning[]; embedded: boolean }> {
  const { limits, embedder } = context;
  if (request.k > limits.kMax)
    throw invalid("k", `must be at most ${limits.kMax}`, { limit: limits.kMax });
  const queryText = request.query ?? "";
  if (queryText.length > limits.queryCharsMax) {
    throw invalid("query", `must be at most ${limits.queryCharsMax} characters`, {
      limit: limits.queryCharsMax,
    });
  }
  if (request.vector !== undefined) {
    if (request.vector.length > limits.vectorDimensionsMax) {
      throw invalid("vector", `must have at most ${limits.vectorDimensionsMax} dimensions`);
    }
    if (embedder !== null && request.vector.length !== embedder.dimensions) {
      throw invalid("vector", `must have ${embedder.dimensions} dimensions (the embedder's)`, {
        expected: embedder.dimensions,
        actual: request.vector.length,
      });
    }
  }
  const hasText = queryText.trim() !== "";
  const strategy = request.strategy;
  const warnings: SearchWarning[] = [];
  if (!hasText && request.vector === undefined)
    throw invalid("query", "a query or a vector is required");
  if ((strategy === "sparse" || strategy === "hybrid") && !hasText) {
    throw invalid("query", `strategy ${strategy} needs a query text`);
  }
  let queryVector: Float32Array | null =
    request.vector === undefined ? null : Float32Array.from(request.vector);
  let embedded = false;
  const autoSparse =
    strategy === "auto" &&
    hasText &&
    queryVector === null &&
    embedder !== null &&
    AUTO_SPARSE_MODELS.has(embedder.model);
  const wantsDense = strategy !== "sparse" && !autoSparse;
  if (wantsDense && queryVector === null) {
    if (embedder === null) {
      if (strategy !== "auto") {
        throw invalid("vector", `strategy ${strategy} needs a vector: no embedder is configured`);
      }
    } else {
      try {
        const options = context.signal === undefined ? {} : { signal: context.signal };
        queryVector = (await embedder.embed([queryText], options))[0] ?? null;
        embedded = queryVector !== null;
      } catch (error) {
        if (strategy !== "auto" || !(error instanceof VltairError)) throw error;
        warnings.push({
          code: "embedding_unavailable",
          message: `the embedder failed, so auto used sparse only: ${error.message}`,
        });
      }
    }
  }
  const resolved: SearchPlan["strategy"] =
    strategy !== "auto"
      ? strategy
      : queryVector !== null && hasText
        ? "hybrid"
        : queryVector !== null
          ? "dense"
          : "sparse";
  return {
    plan: {
      k: request.k,
      strategy: resolved,
      queryText,
      queryVector,
      scopeKey: request.scope === undefined ? null : scopeKey(request.scope),
      predicate: context.predicate,
      admitKey: admitKeyOf(
        request.scope === undefined ? null : scopeKey(request.scope),
        context.canonicalFilter,
      ),
      fusion: fusionOf(request),
    },
    warnings,
    embedded,
  };
}

/** Names the admission view of a (scope, canonical filter) pair; null when neither restricts. */
export function admitKeyOf(scope: string | null, canonicalFilter: string | null): string | null {
  if (scope === null && canonicalFilter === null) return null;
  return `${scope ?? "*"}\u0000${canonicalFilter ?? ""}`;
}

const DEFAULT_INCLUDE = ["metadata", "scores"] as const;

/** Wire results; `include` (default metadata and scores) adds text, metadata and per-half scores. */
export function renderHits(
  hits: readonly ExecutedHit[],
  include: SearchRequest["include"],
): SearchHit[] {
  const fields = new Set<string>(include ?? DEFAULT_INCLUDE);
  return hits.map((h) => {
    const out: SearchHit = {
      id: h.doc.id,
      scope: h.doc.scope,
      score: h.score,
      version: h.doc.version,
    };
    if (fields.has("scores")) {
      const scores: NonNullable<SearchHit["scores"]> = { fused: h.fused };
      if (h.dense !== undefined) scores.dense = h.dense;
      if (h.sparse !== undefined) scores.sparse = h.sparse;
      out.scores = scores;
    }
    if (fields.has("metadata") && h.doc.metadata !== undefined) out.metadata = h.doc.metadata;
    if (fields.has("text")) out.text = h.doc.text;
    return out;
  });
}
