/**
 * Vector search benchmark: the embedded USearch WASM index against, in the same run, a JS
 * brute-force scan and (when the optional `usearch` npm package loads) the native addon.
 *
 *   npx bun bench/vector.ts            10k and 100k × 384-d clustered vectors
 *   npx bun bench/vector.ts --quick    2k and 10k (a smoke run)
 *   node/deno: the same file runs under any runtime that loads it (e.g. a bun-built bundle)
 *
 * Prints exactly one JSON object. Per size: add µs/vector, search p50/p95 µs over single
 * queries (k = 10), recall@10 against the WASM index's exact scan, memory bytes, and the
 * ratio WASM/native of search p50 (wall time, and CPU time of this process, which other load
 * on a shared machine disturbs less). Timings on a shared 2-core VM are noisy: compare ratios
 * taken in one run, not absolute figures across runs.
 */
import { arch, cpus, platform } from "node:os";
import process from "node:process";
import { assert } from "../src/core/mod.ts";
import { createVectorIndex } from "../src/search/mod.ts";
import { clusteredSpace } from "../test/unit/search/clustered.ts";

const DIMENSIONS = 384;
const K = 10;
const SEED = 20_261_125;
const HNSW = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 } as const;
/** Queries timed per engine; brute force gets fewer because each costs milliseconds. */
const QUERY_COUNT = 500;
const BRUTE_QUERY_COUNT = 50;
const FILTERED_QUERY_COUNT = 100;
const WARMUP_QUERY_COUNT = 50;
const ADD_BATCH_COUNT = 10_000;

const quick = process.argv.includes("--quick") || process.env.VLTAIR_BENCH_QUICK === "1";
const sizes = quick ? [2_000, 10_000] : [10_000, 100_000];

function percentile(sortedUs: number[], p: number): number {
  const index = Math.min(sortedUs.length - 1, Math.floor((p / 100) * sortedUs.length));
  return Number((sortedUs[index] ?? 0).toFixed(1));
}

type Search = (query: Float32Array) => ArrayLike<bigint>;

interface Timed {
  p50Us: number;
  p95Us: number;
  /** CPU time (user + system) of this process per query: less sensitive to other load. */
  cpuP50Us: number;
  cpuP95Us: number;
  results: bigint[][];
}

/**
 * Times each engine on each query, alternating which engine goes first, so that the noise of
 * a shared machine falls on all engines alike. Wall time and process CPU time per query.
 */
function timeQueries(queries: Float32Array, count: number, engines: Search[]): Timed[] {
  for (let q = 0; q < Math.min(WARMUP_QUERY_COUNT, count); q++) {
    for (const search of engines) search(queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS));
  }
  const wallUs: number[][] = engines.map(() => []);
  const cpuUs: number[][] = engines.map(() => []);
  const results: bigint[][][] = engines.map(() => []);
  for (let q = 0; q < count; q++) {
    const query = queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS);
    for (let turn = 0; turn < engines.length; turn++) {
      const e = (turn + q) % engines.length;
      const search = engines[e] as Search;
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const keys = search(query);
      wallUs[e]?.push((performance.now() - start) * 1000);
      const cpu = process.cpuUsage(cpuStart);
      cpuUs[e]?.push(cpu.user + cpu.system);
      results[e]?.push(Array.from(keys));
    }
  }
  return engines.map((_, e) => {
    const wall = (wallUs[e] ?? []).sort((a, b) => a - b);
    const cpu = (cpuUs[e] ?? []).sort((a, b) => a - b);
    return {
      p50Us: percentile(wall, 50),
      p95Us: percentile(wall, 95),
      cpuP50Us: percentile(cpu, 50),
      cpuP95Us: percentile(cpu, 95),
      results: results[e] ?? [],
    };
  });
}

function recallAt(results: bigint[][], truth: bigint[][]): number {
  let hits = 0;
  let total = 0;
  for (let q = 0; q < results.length; q++) {
    const expected = new Set(truth[q]);
    total += expected.size;
    for (const key of results[q] ?? []) if (expected.has(key)) hits++;
  }
  return Number((hits / Math.max(total, 1)).toFixed(4));
}

/** Exact top-k by a JS scan of unit vectors (cos distance = 1 − dot). */
function bruteForce(data: Float32Array, count: number, query: Float32Array): bigint[] {
  const best: { key: number; distance: number }[] = [];
  for (let n = 0; n < count; n++) {
    let dot = 0;
    const base = n * DIMENSIONS;
    for (let i = 0; i < DIMENSIONS; i++) dot += (data[base + i] as number) * (query[i] as number);
    const distance = 1 - dot;
    if (best.length < K || distance < (best[best.length - 1]?.distance ?? 0)) {
      best.push({ key: n, distance });
      best.sort((a, b) => a.distance - b.distance);
      if (best.length > K) best.pop();
    }
  }
  return best.map((b) => BigInt(b.key));
}

interface NativeIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array };
}
type NativeModule = { Index: new (config: Record<string, unknown>) => NativeIndex };

async function loadNative(): Promise<{ module?: NativeModule; error?: string }> {
  try {
    const name = "usearch";
    const module = (await import(name)) as NativeModule;
    return { module };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function rssBytes(): number {
  return process.memoryUsage().rss;
}

function addWasm(count: number, keys: BigUint64Array, data: Float32Array) {
  const index = createVectorIndex({
    dimensions: DIMENSIONS,
    metric: "cos",
    ...HNSW,
    capacity: count,
  });
  const start = performance.now();
  for (let first = 0; first < count; first += ADD_BATCH_COUNT) {
    const end = Math.min(count, first + ADD_BATCH_COUNT);
    index.addBatch(
      Array.from(keys.subarray(first, end)),
      data.subarray(first * DIMENSIONS, end * DIMENSIONS),
    );
  }
  return { index, addUs: ((performance.now() - start) * 1000) / count };
}

function addNative(native: NativeModule, count: number, keys: BigUint64Array, data: Float32Array) {
  const rssBefore = rssBytes();
  const index = new native.Index({
    dimensions: DIMENSIONS,
    metric: "cos",
    quantization: "f32",
    connectivity: HNSW.connectivity,
    expansion_add: HNSW.expansionAdd,
    expansion_search: HNSW.expansionSearch,
    multi: false,
  });
  const start = performance.now();
  // One thread, like the WASM module, so that add times compare like for like.
  index.add(keys, data, 1);
  const addUs = ((performance.now() - start) * 1000) / count;
  return { index, addUs, rssDeltaBytes: rssBytes() - rssBefore };
}

function benchSize(count: number, native: NativeModule | undefined) {
  const space = clusteredSpace({ dimensions: DIMENSIONS, seed: SEED + count });
  const data = space.sample(count);
  const queries = space.sample(QUERY_COUNT);
  const keys = new BigUint64Array(count);
  for (let n = 0; n < count; n++) keys[n] = BigInt(n);

  const wasmBuilt = addWasm(count, keys, data);
  const index = wasmBuilt.index;
  const truth: bigint[][] = [];
  for (let q = 0; q < QUERY_COUNT; q++) {
    const query = queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS);
    truth.push(Array.from(index.exactSearch(query, K).keys));
  }
  const nativeBuilt = native === undefined ? undefined : addNative(native, count, keys, data);
  const engines: Search[] = [(query) => index.search(query, K).keys];
  if (nativeBuilt !== undefined)
    engines.push((query) => nativeBuilt.index.search(query, K, 1).keys);
  const [wasm, nativeTimed] = timeQueries(queries, QUERY_COUNT, engines);
  assert(wasm !== undefined, "wasm timings missing");
  const memory = index.memoryUsage();
  const [exact, brute] = timeQueries(queries, BRUTE_QUERY_COUNT, [
    (query) => index.exactSearch(query, K).keys,
    (query) => bruteForce(data, count, query),
  ]);
  assert(exact !== undefined && brute !== undefined, "scan timings missing");
  // Filters inside the walk: 1 key in 100 admitted by an allowed-key set, 1 in 10 by a predicate.
  const allowedKeys = Array.from({ length: Math.ceil(count / 100) }, (_, i) => i * 100);
  const [allowed, predicate] = timeQueries(queries, FILTERED_QUERY_COUNT, [
    (query) => index.search(query, K, { filter: { allowedKeys } }).keys,
    (query) => index.search(query, K, { filter: { predicate: (key) => key % 10n === 0n } }).keys,
  ]);
  assert(allowed !== undefined && predicate !== undefined, "filtered timings missing");
  index.dispose();

  const nativeResult =
    nativeBuilt === undefined || nativeTimed === undefined
      ? { available: false }
      : {
          available: true,
          add_us_per_vector: Number(nativeBuilt.addUs.toFixed(1)),
          search_p50_us: nativeTimed.p50Us,
          search_p95_us: nativeTimed.p95Us,
          search_cpu_p50_us: nativeTimed.cpuP50Us,
          search_cpu_p95_us: nativeTimed.cpuP95Us,
          recall_at_10: recallAt(nativeTimed.results, truth),
          rss_delta_bytes: nativeBuilt.rssDeltaBytes,
        };
  return {
    vectors: count,
    dimensions: DIMENSIONS,
    wasm: {
      add_us_per_vector: Number(wasmBuilt.addUs.toFixed(1)),
      search_p50_us: wasm.p50Us,
      search_p95_us: wasm.p95Us,
      search_cpu_p50_us: wasm.cpuP50Us,
      search_cpu_p95_us: wasm.cpuP95Us,
      recall_at_10: recallAt(wasm.results, truth),
      exact_search_p50_us: exact.p50Us,
      filtered_allowed_1pct_p50_us: allowed.p50Us,
      filtered_predicate_10pct_p50_us: predicate.p50Us,
      index_bytes: memory.indexBytes,
      wasm_memory_bytes: memory.wasmMemoryBytes,
    },
    js_brute_force: {
      search_p50_us: brute.p50Us,
      search_p95_us: brute.p95Us,
      recall_at_10: recallAt(brute.results, truth.slice(0, BRUTE_QUERY_COUNT)),
      data_bytes: data.byteLength,
    },
    native: nativeResult,
    ratio_wasm_native_search_p50:
      nativeTimed !== undefined && nativeTimed.p50Us > 0
        ? Number((wasm.p50Us / nativeTimed.p50Us).toFixed(3))
        : null,
    ratio_wasm_native_search_cpu_p50:
      nativeTimed !== undefined && nativeTimed.cpuP50Us > 0
        ? Number((wasm.cpuP50Us / nativeTimed.cpuP50Us).toFixed(3))
        : null,
    ratio_brute_wasm_search_p50: Number((brute.p50Us / Math.max(wasm.p50Us, 0.1)).toFixed(1)),
  };
}

async function main(): Promise<void> {
  const native = await loadNative();
  const results = [];
  for (const size of sizes) results.push(benchSize(size, native.module));
  const runtime =
    typeof process.versions.bun === "string"
      ? `bun ${process.versions.bun}`
      : `${process.release.name} ${process.versions.node}`;
  const report = {
    bench: "vector",
    quick,
    runtime,
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      platform: platform(),
      arch: arch(),
    },
    workload: {
      dimensions: DIMENSIONS,
      k: K,
      clusters: 100,
      subspace_dimensions: 32,
      seed: SEED,
      metric: "cos",
      ...HNSW,
    },
    native_addon:
      native.module === undefined
        ? { available: false, reason: native.error }
        : { available: true },
    sizes: results,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
