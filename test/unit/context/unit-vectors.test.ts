/**
 * Cosine as `ip` over unit vectors (ADR 0026): a new tenant's index stores its vectors scaled to
 * unit length and scales each query the same way, so client vectors of any length rank and
 * score by cosine; an older `cos` index (from a snapshot) keeps its vectors as given.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { executeSearch, type SearchPlan } from "../../../src/context/search-exec.ts";
import { encodeVector, type UpsertItemRecord } from "../../../src/context/store/record.ts";
import { ContextState } from "../../../src/context/store/state.ts";
import { TenantStore } from "../../../src/context/store/tenant.ts";
import { createVectorIndex, FUSION_DEFAULT } from "../../../src/search/mod.ts";

const disposers: (() => void)[] = [];
afterEach(() => {
  for (const dispose of disposers.splice(0)) dispose();
});

const VECTORS: Record<string, number[]> = {
  east: [3, 0, 0, 0],
  diagonal: [0.5, 0.5, 0, 0],
  north: [0, 40, 0, 0],
  far: [0, 0, 0, 2],
};

function items(): UpsertItemRecord[] {
  return Object.entries(VECTORS).map(([id, v]) => ({
    id,
    scope: { kind: "global" as const },
    text: id,
    vector: encodeVector(Float32Array.from(v)),
    hash: id,
  }));
}

function densePlan(query: number[]): SearchPlan {
  return {
    k: 4,
    strategy: "dense",
    queryText: "",
    queryVector: Float32Array.from(query),
    scopeKey: null,
    predicate: null,
    admitKey: null,
    fusion: FUSION_DEFAULT,
  };
}

/** Each hit as [id, score rounded to 6 places]. */
function ranked(store: TenantStore, query: number[]): [string, number][] {
  return executeSearch(store, densePlan(query)).map((h) => [h.doc.id, Number(h.score.toFixed(6))]);
}

const COSINE_RANKING: [string, number][] = [
  ["east", 1],
  ["diagonal", Number(Math.SQRT1_2.toFixed(6))],
  ["far", 0],
  ["north", 0],
];

describe("unit vectors for cosine", () => {
  test("a new tenant's ip index ranks and scores client vectors of any length by cosine", () => {
    const state = new ContextState({ helperThread: false });
    disposers.push(() => state.dispose());
    state.apply({ op: "upsert", tenant: "t", tokenizer: "code", items: items() }, 1, 1_000);
    const store = state.tenant("t") as TenantStore;
    expect(store.vectorIndex()?.metric).toBe("ip");
    expect(store.unitVectors).toBe(true);
    expect(ranked(store, [100, 0, 0, 0])).toEqual(COSINE_RANKING);
    // The caller's query is not scaled in place.
    const query = Float32Array.from([100, 0, 0, 0]);
    expect(store.vectorQuery(query)).not.toBe(query);
    expect(Array.from(query)).toEqual([100, 0, 0, 0]);
  });

  test("an older cos index gets its vectors and queries as given, with the same ranking", () => {
    const store = new TenantStore("t", "code", { helperThread: false });
    disposers.push(() => store.dispose());
    store.attachVectorIndex(
      createVectorIndex({ dimensions: 4, metric: "cos", helperThread: false }),
    );
    store.applyUpsert(items(), 1, 1_000);
    expect(store.unitVectors).toBe(false);
    const query = Float32Array.from([100, 0, 0, 0]);
    expect(store.vectorQuery(query)).toBe(query);
    expect(ranked(store, [100, 0, 0, 0])).toEqual(COSINE_RANKING);
  });
});
