/** The search plan's relevance defaults (issue 14): fusion when none is named, what auto picks. */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import type { Embedder } from "../../../src/context/embed/mod.ts";
import { createHashEmbedder, resolveContextLimits } from "../../../src/context/mod.ts";
import { SearchRequestSchema } from "../../../src/context/schemas.ts";
import { planSearch } from "../../../src/context/search-plan.ts";

const limits = resolveContextLimits();

async function plan(request: Record<string, unknown>, embedder: Embedder | null) {
  const parsed = v.parse(SearchRequestSchema, request);
  const context = { limits, embedder, predicate: null, canonicalFilter: null, signal: undefined };
  return (await planSearch(parsed, context)).plan;
}

/** Counts the embedder's calls. */
function counted(embedder: Embedder): Embedder & { calls: number } {
  const out = {
    ...embedder,
    calls: 0,
    embed: (texts: readonly string[]) => {
      out.calls += 1;
      return embedder.embed(texts);
    },
  };
  return out;
}

describe("search plan defaults", () => {
  test("no fusion named: weighted, dense 0.6 / sparse 0.4", async () => {
    const p = await plan({ query: "parse the config" }, createHashEmbedder({ dimensions: 16 }));
    expect(p.strategy).toBe("hybrid");
    expect(p.fusion).toEqual({ method: "weighted", denseWeight: 0.6, sparseWeight: 0.4 });
  });

  test("a named method takes its own defaults; given fields win", async () => {
    const embedder = createHashEmbedder({ dimensions: 16 });
    const rrf = await plan({ query: "x", fusion: { method: "rrf" } }, embedder);
    expect(rrf.fusion).toEqual({ method: "rrf", rrfK: 5 });
    const k60 = await plan({ query: "x", fusion: { method: "rrf", rrf_k: 60 } }, embedder);
    expect(k60.fusion).toEqual({ method: "rrf", rrfK: 60 });
    const weighted = await plan(
      { query: "x", fusion: { method: "weighted", sparse_weight: 1 } },
      embedder,
    );
    expect(weighted.fusion).toEqual({ method: "weighted", denseWeight: 0.6, sparseWeight: 1 });
  });

  test("auto with hash-v1 searches text with the sparse half only, without embedding", async () => {
    const v1 = counted(createHashEmbedder({ dimensions: 16, model: "hash-v1" }));
    const auto = await plan({ query: "parse the config" }, v1);
    expect([auto.strategy, auto.queryVector, v1.calls]).toEqual(["sparse", null, 0]);
    const hybrid = await plan({ query: "parse the config", strategy: "hybrid" }, v1);
    expect([hybrid.strategy, v1.calls]).toEqual(["hybrid", 1]);
    const withVector = await plan({ query: "x", vector: Array(16).fill(0.25) }, v1);
    expect(withVector.strategy).toBe("hybrid");
    const v2 = counted(createHashEmbedder({ dimensions: 16 }));
    expect((await plan({ query: "parse the config" }, v2)).strategy).toBe("hybrid");
    expect(v2.calls).toBe(1);
  });
});
