/**
 * Where a hybrid search's time goes: the same steps the service runs (query embedding, filter
 * compilation, the sparse half, the dense half, fusion, the whole execution with sorting, the
 * rendering of hits), each timed alone per query, next to the service call itself.
 */

import { FILTER_LIMITS_DEFAULT } from "../../src/context/filters/mod.ts";
import { hashEmbed, prepareFilter } from "../../src/context/mod.ts";
import { candidatesFor, executeSearch, type SearchPlan } from "../../src/context/search-exec.ts";
import { admitKeyOf, renderHits } from "../../src/context/search-plan.ts";
import type { TenantStore } from "../../src/context/store/tenant.ts";
import { fuse, type HalfHit, RRF_K_DEFAULT } from "../../src/search/mod.ts";
import { callAs } from "../../test/support/call.ts";
import { percentiles } from "./stats.ts";
import { DIMENSIONS, type VltairEngine } from "./vltair.ts";

type Step =
  | "embedQuery"
  | "prepareFilter"
  | "sparseHalf"
  | "denseHalf"
  | "fuse"
  | "execute"
  | "render"
  | "service"
  | "sparseAdmitCalls"
  | "denseAdmitCalls";

function lap(samples: Map<Step, number[]>, step: Step, start: number): number {
  const now = performance.now();
  samples.get(step)?.push((now - start) * 1000);
  return now;
}

/** p50/p95 µs of each step of a hybrid search at `k`, with an optional filter. */
export async function profileHybrid(
  engine: VltairEngine,
  store: TenantStore,
  queries: readonly string[],
  k: number,
  filter: unknown,
): Promise<Record<Step, { p50Us: number; p95Us: number }>> {
  const steps: Step[] = [
    "embedQuery",
    "prepareFilter",
    "sparseHalf",
    "denseHalf",
    "fuse",
    "execute",
    "render",
    "service",
    "sparseAdmitCalls",
    "denseAdmitCalls",
  ];
  const samples = new Map<Step, number[]>(steps.map((s) => [s, []]));
  const n = candidatesFor(k);
  const vectors = store.vectorIndex();
  if (vectors === null) throw new Error("the tenant has no vector index");
  for (const query of queries) {
    let t = performance.now();
    const vector = hashEmbed(query, DIMENSIONS);
    t = lap(samples, "embedQuery", t);
    const prepared = filter === null ? null : prepareFilter(filter, FILTER_LIMITS_DEFAULT);
    const predicate = prepared?.predicate ?? null;
    t = lap(samples, "prepareFilter", t);
    let admitCalls = 0;
    const admit =
      predicate === null
        ? null
        : (key: number) => {
            admitCalls += 1;
            const doc = store.byKey.get(key);
            return doc !== undefined && predicate(doc);
          };
    const sparseOptions =
      admit === null ? {} : { allow: (docKey: string) => admit(Number(docKey)) };
    const sparse: HalfHit[] = store.text
      .search(query, n, sparseOptions)
      .map((m) => ({ id: m.docKey, score: m.score }));
    t = lap(samples, "sparseHalf", t);
    samples.get("sparseAdmitCalls")?.push(admitCalls);
    admitCalls = 0;
    const denseOptions =
      admit === null ? {} : { filter: { predicate: (key: bigint) => admit(Number(key)) } };
    const found = vectors.search(vector, Math.min(n, vectors.size()), denseOptions);
    const dense: HalfHit[] = [];
    for (let i = 0; i < found.keys.length; i++) {
      dense.push({ id: String(found.keys[i]), score: 1 - (found.distances[i] as number) });
    }
    t = lap(samples, "denseHalf", t);
    samples.get("denseAdmitCalls")?.push(admitCalls);
    fuse(dense, sparse, { method: "rrf", rrfK: RRF_K_DEFAULT }, dense.length + sparse.length);
    t = lap(samples, "fuse", t);
    const plan: SearchPlan = {
      k,
      strategy: "hybrid",
      queryText: query,
      queryVector: vector,
      scopeKey: null,
      predicate,
      // The service's admission-view key: all scopes, then the canonical filter.
      admitKey: admitKeyOf(null, prepared?.canonical ?? null),
      fusion: { method: "rrf", rrfK: RRF_K_DEFAULT },
    };
    const hits = executeSearch(store, plan);
    t = lap(samples, "execute", t);
    renderHits(hits, undefined);
    t = lap(samples, "render", t);
    const request = { query, k, strategy: "hybrid" as const };
    await engine.context.search(
      callAs("default"),
      filter === null ? request : { ...request, filters: filter },
    );
    lap(samples, "service", t);
  }
  const out = {} as Record<Step, { p50Us: number; p95Us: number }>;
  for (const step of steps) out[step] = percentiles(samples.get(step) ?? []);
  return out;
}

/**
 * Cost of the admission predicate alone (ns per call): the key lookup plus the compiled filter,
 * over every key of the tenant, as the service builds it (search-exec.ts `admission`).
 */
export function predicateNsPerCall(store: TenantStore, filter: unknown): number {
  const predicate = prepareFilter(filter, FILTER_LIMITS_DEFAULT).predicate;
  const keys = [...store.byKey.keys()];
  let admitted = 0;
  const start = performance.now();
  for (const key of keys) {
    const doc = store.byKey.get(key);
    if (doc !== undefined && predicate(doc)) admitted += 1;
  }
  const ns = ((performance.now() - start) * 1e6) / Math.max(1, keys.length);
  return admitted >= 0 ? Math.round(ns) : 0;
}

/**
 * A filtered half three ways, p50/p95 µs: with the service's predicate (key lookup + compiled
 * filter, a JS call per candidate), with a precomputed key set behind a JS predicate (the cost of
 * the call itself, not of the filter), and — dense only — as an allowed-key list checked inside
 * the WASM module (no JS call per node), walked or — `exactSearch` — measured key by key (what
 * the index does for lists under 5% of its size); and a predicate admitting everything (the
 * cost of the filtered code path itself).
 */
export function profileFilterPaths(
  store: TenantStore,
  queries: readonly string[],
  k: number,
  filter: unknown,
) {
  const predicate = prepareFilter(filter, FILTER_LIMITS_DEFAULT).predicate;
  const admitted = new Set<number>();
  for (const [key, doc] of store.byKey) if (predicate(doc)) admitted.add(key);
  const allowedKeys = [...admitted].map((key) => BigInt(key));
  const vectors = store.vectorIndex();
  if (vectors === null) throw new Error("the tenant has no vector index");
  const n = candidatesFor(k);
  const service = (key: number) => {
    const doc = store.byKey.get(key);
    return doc !== undefined && predicate(doc);
  };
  const names = [
    "dense.servicePredicate",
    "dense.keySetPredicate",
    "dense.allowedKeysInModule",
    "dense.allowedKeysMeasuredDirectly",
    "dense.predicateAlwaysTrue",
    "sparse.servicePredicate",
    "sparse.keySetPredicate",
    "sparse.allowAlwaysTrue",
  ] as const;
  const samples = new Map<string, number[]>(names.map((name) => [name, []]));
  const time = (name: string, run: () => unknown) => {
    const start = performance.now();
    run();
    samples.get(name)?.push((performance.now() - start) * 1000);
  };
  for (const query of queries) {
    const vector = hashEmbed(query, DIMENSIONS);
    const size = Math.min(n, vectors.size());
    time("dense.servicePredicate", () =>
      vectors.search(vector, size, { filter: { predicate: (key) => service(Number(key)) } }),
    );
    time("dense.keySetPredicate", () =>
      vectors.search(vector, size, { filter: { predicate: (key) => admitted.has(Number(key)) } }),
    );
    time("dense.allowedKeysInModule", () =>
      vectors.search(vector, size, { filter: { allowedKeys } }),
    );
    time("dense.allowedKeysMeasuredDirectly", () =>
      vectors.exactSearch(vector, size, { filter: { allowedKeys } }),
    );
    time("dense.predicateAlwaysTrue", () =>
      vectors.search(vector, size, { filter: { predicate: () => true } }),
    );
    time("sparse.servicePredicate", () =>
      store.text.search(query, n, { allow: (docKey) => service(Number(docKey)) }),
    );
    time("sparse.keySetPredicate", () =>
      store.text.search(query, n, { allow: (docKey) => admitted.has(Number(docKey)) }),
    );
    time("sparse.allowAlwaysTrue", () => store.text.search(query, n, { allow: () => true }));
  }
  const out: Record<string, { p50Us: number; p95Us: number } | number> = {
    admittedFraction: Math.round((admitted.size / Math.max(1, store.byKey.size)) * 10_000) / 10_000,
  };
  for (const name of names) out[name] = percentiles(samples.get(name) ?? []);
  return out;
}
