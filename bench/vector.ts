/**
 * Vector search benchmark: the embedded USearch WASM index against, in the same run, a JS
 * brute-force scan and (when the optional `usearch` npm package loads) the native addon.
 *
 *   npx bun bench/vector.ts            10k and 100k × 384-d clustered vectors
 *   npx bun bench/vector.ts --quick    2k and 10k (a smoke run)
 *   npx bun bench/vector.ts --hash     the context engine's case: 10k and 100k node_modules
 *                                      chunks embedded by the `hash` embedder, the tenant's HNSW
 *                                      options, 500 one-line queries; insert cost (wall, CPU,
 *                                      RSS growth) against the native addon, serialize and load,
 *                                      and an expansionSearch × k sweep with recall@k against
 *                                      the exact scan (add --quick for 2k and 10k)
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
import { hashEmbed } from "../src/context/mod.ts";
import { TENANT_VECTOR_OPTIONS } from "../src/context/store/tenant.ts";
import { assert } from "../src/core/mod.ts";
import {
  createVectorIndex,
  loadVectorIndex,
  type VectorIndex,
  WIDEN_STEPS_DEFAULT,
  widenSearch,
} from "../src/search/mod.ts";
import { seededRandom } from "../test/support/random.ts";
import { clusteredSpace } from "../test/unit/search/clustered.ts";
import { loadChunkCorpus } from "./search/mod.ts";

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
  search(
    vector: Float32Array,
    k: number,
    threads: number,
  ): { keys: BigUint64Array; distances: Float32Array };
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

/**
 * The context engine's HNSW options (TENANT_VECTOR_OPTIONS: connectivity 20, expansionAdd
 * 64); `--graph M,EF_ADD` measures other graph options.
 */
const TENANT_HNSW = graphOption(process.argv.indexOf("--graph"));

function graphOption(at: number): { connectivity: number; expansionAdd: number } {
  if (at < 0) {
    return {
      connectivity: TENANT_VECTOR_OPTIONS.connectivity,
      expansionAdd: TENANT_VECTOR_OPTIONS.expansionAdd,
    };
  }
  const [connectivity, expansionAdd] = (process.argv[at + 1] ?? "").split(",").map(Number);
  assert(Number.isInteger(connectivity) && Number.isInteger(expansionAdd), "--graph M,EF_ADD");
  return { connectivity: connectivity as number, expansionAdd: expansionAdd as number };
}
/** Fixed widths timed beside the adaptive depth (WIDEN_STEPS_DEFAULT) in one interleaved loop. */
const ADAPTIVE_PEERS = [64, 96, 256, 512];
/** The tenants' first walk width (the adaptive depth widens from it). */
const FIRST_EXPANSION = TENANT_VECTOR_OPTIONS.expansionSearch;
const HASH_QUERY_COUNT = 500;
const HASH_SWEEP_EXPANSIONS = [32, 64, 96, 128, 256];
const HASH_SWEEP_KS = [10, 20, 40];
const HASH_INSERT_BATCH = 1000;
const CORPUS_ROOTS = [
  { dir: `${import.meta.dir}/../node_modules`, label: "node_modules" },
  { dir: "/usr/lib/node_modules", label: "usr/lib/node_modules" },
];

/** Chunks of the bench/search corpus, hash-embedded; queries are single lines of chunks. */
function hashCorpus(count: number): { data: Float32Array; queries: Float32Array } {
  const { chunks } = loadChunkCorpus(CORPUS_ROOTS, count);
  assert(chunks.length === count, `corpus has ${chunks.length} chunks, ${count} wanted`);
  const data = new Float32Array(count * DIMENSIONS);
  for (const [i, chunk] of chunks.entries()) {
    data.set(hashEmbed(chunk.text, DIMENSIONS), i * DIMENSIONS);
  }
  const random = seededRandom(SEED);
  const queries = new Float32Array(HASH_QUERY_COUNT * DIMENSIONS);
  for (let q = 0; q < HASH_QUERY_COUNT; q++) {
    const chunk = chunks[Math.floor(random() * count)];
    assert(chunk !== undefined, "query chunk missing");
    const lines = chunk.text.split("\n").filter((line) => line.trim().length > 8);
    const line = lines[Math.floor(random() * lines.length)] ?? chunk.text;
    queries.set(hashEmbed(line.trim().slice(0, 80), DIMENSIONS), q * DIMENSIONS);
  }
  return { data, queries };
}

const mib = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));

/** Recall@k that counts a result as a hit when it is no farther than the exact k-th (ties). */
function recallByDistance(found: Float32Array[], exactKth: number[]): number {
  let hits = 0;
  let total = 0;
  found.forEach((distances, q) => {
    const kth = exactKth[q] ?? 0;
    total += Math.max(distances.length, 1);
    for (const distance of distances) if (distance <= kth + 1e-6) hits++;
  });
  return Number((hits / Math.max(total, 1)).toFixed(4));
}

function hashSize(
  count: number,
  native: NativeModule | undefined,
  corpus: ReturnType<typeof hashCorpus>,
) {
  const data = corpus.data.subarray(0, count * DIMENSIONS);
  const queries = corpus.queries;
  const rssBefore = rssBytes();
  // The tenants' metric: `ip` over unit vectors (hashEmbed's are; ADR 0026).
  const index = createVectorIndex({
    dimensions: DIMENSIONS,
    metric: TENANT_VECTOR_OPTIONS.metric,
    ...TENANT_HNSW,
  });
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let first = 0; first < count; first += HASH_INSERT_BATCH) {
    const end = Math.min(count, first + HASH_INSERT_BATCH);
    index.addBatch(
      Array.from({ length: end - first }, (_, i) => first + i),
      data.subarray(first * DIMENSIONS, end * DIMENSIONS),
    );
  }
  const addUs = ((performance.now() - start) * 1000) / count;
  const cpu = process.cpuUsage(cpuStart);
  const rssGrowth = rssBytes() - rssBefore;
  const memory = index.memoryUsage();
  const serializeStart = performance.now();
  const bytes = index.serialize();
  const serializeMs = performance.now() - serializeStart;
  const afterSerialize = index.memoryUsage().wasmMemoryBytes;
  const loadStart = performance.now();
  const loaded = loadVectorIndex(bytes, TENANT_HNSW);
  const loadMs = performance.now() - loadStart;
  const loadedMemory = loaded.memoryUsage().wasmMemoryBytes;
  loaded.dispose();

  const query = (q: number) => queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS);
  const kMax = Math.max(...HASH_SWEEP_KS);
  const exact = Array.from({ length: HASH_QUERY_COUNT }, (_, q) =>
    index.exactSearch(query(q), kMax),
  );
  const sweep = [];
  for (const expansionSearch of HASH_SWEEP_EXPANSIONS) {
    index.setExpansionSearch(expansionSearch);
    for (const k of HASH_SWEEP_KS) {
      const [timed] = timeQueries(queries, HASH_QUERY_COUNT, [(q) => index.search(q, k).keys]);
      assert(timed !== undefined, "sweep timings missing");
      const found = Array.from(
        { length: HASH_QUERY_COUNT },
        (_, q) => index.search(query(q), k).distances,
      );
      const kth = exact.map((e) => e.distances[k - 1] ?? 0);
      const truth = exact.map((e) => Array.from(e.keys.subarray(0, k)));
      sweep.push({
        expansion_search: expansionSearch,
        k,
        p50_us: timed.p50Us,
        p95_us: timed.p95Us,
        recall_by_key: recallAt(timed.results, truth),
        recall_by_distance: recallByDistance(found, kth),
      });
    }
  }
  const adaptive = adaptiveDepth(index, queries, exact);
  index.dispose();

  let nativeResult: Record<string, unknown> = { available: false };
  if (native !== undefined) {
    const nativeRss = rssBytes();
    const nativeIndex = new native.Index({
      dimensions: DIMENSIONS,
      metric: TENANT_VECTOR_OPTIONS.metric,
      quantization: "f32",
      connectivity: TENANT_HNSW.connectivity,
      expansion_add: TENANT_HNSW.expansionAdd,
      expansion_search: 64,
      multi: false,
    });
    const keys = BigUint64Array.from({ length: count }, (_, i) => BigInt(i));
    const nativeCpu = process.cpuUsage();
    const nativeStart = performance.now();
    for (let first = 0; first < count; first += HASH_INSERT_BATCH) {
      const end = Math.min(count, first + HASH_INSERT_BATCH);
      nativeIndex.add(
        keys.subarray(first, end),
        data.subarray(first * DIMENSIONS, end * DIMENSIONS),
        1,
      );
    }
    const nativeUs = ((performance.now() - nativeStart) * 1000) / count;
    const nativeCpuUsed = process.cpuUsage(nativeCpu);
    const found = Array.from(
      { length: HASH_QUERY_COUNT },
      (_, q) => nativeIndex.search(query(q), 10, 1).distances,
    );
    nativeResult = {
      available: true,
      add_us_per_vector: Number(nativeUs.toFixed(1)),
      add_cpu_us_per_vector: Number(
        ((nativeCpuUsed.user + nativeCpuUsed.system) / count).toFixed(1),
      ),
      rss_growth_mb: mib(rssBytes() - nativeRss),
      recall_by_distance_k10_ef64: recallByDistance(
        found,
        exact.map((e) => e.distances[9] ?? 0),
      ),
    };
  }
  return {
    vectors: count,
    wasm: {
      add_us_per_vector: Number(addUs.toFixed(1)),
      add_cpu_us_per_vector: Number(((cpu.user + cpu.system) / count).toFixed(1)),
      rss_growth_mb: mib(rssGrowth),
      index_mb: mib(memory.indexBytes),
      wasm_memory_mb: mib(memory.wasmMemoryBytes),
      serialized_mb: mib(bytes.length),
      serialize_ms: Math.round(serializeMs),
      wasm_memory_after_serialize_mb: mib(afterSerialize),
      load_ms: Math.round(loadMs),
      loaded_wasm_memory_mb: mib(loadedMemory),
    },
    native: nativeResult,
    sweep,
    adaptive,
  };
}

/**
 * k = 10: the adaptive depth (the first walk at the index's width, repeated wider per
 * WIDEN_STEPS_DEFAULT while the 10th match is far) against fixed widths, timed in one
 * interleaved loop; recall@10 by distance against the exact scan.
 */
function adaptiveDepth(
  index: VectorIndex,
  queries: Float32Array,
  exact: { distances: Float32Array }[],
) {
  index.setExpansionSearch(FIRST_EXPANSION);
  const fixed = (ef: number) => (q: Float32Array) => index.search(q, 10, { expansionSearch: ef });
  const adaptive = (q: Float32Array) =>
    widenSearch(index, q, 10, 10, index.search(q, 10), WIDEN_STEPS_DEFAULT);
  const searches = [...ADAPTIVE_PEERS.map(fixed), adaptive];
  const timed = timeQueries(
    queries,
    HASH_QUERY_COUNT,
    searches.map((search) => (q: Float32Array) => search(q).keys),
  );
  const kth = exact.map((e) => e.distances[9] ?? 0);
  const query = (q: number) => queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS);
  const names = [...ADAPTIVE_PEERS.map((ef) => `ef${ef}`), "adaptive"];
  return {
    steps: WIDEN_STEPS_DEFAULT,
    first_expansion_search: FIRST_EXPANSION,
    cases: searches.map((search, i) => ({
      name: names[i],
      p50_us: timed[i]?.p50Us,
      p95_us: timed[i]?.p95Us,
      recall_by_distance: recallByDistance(
        Array.from({ length: HASH_QUERY_COUNT }, (_, q) => search(query(q)).distances),
        kth,
      ),
    })),
  };
}

/** `--hash`: the context engine's vectors and HNSW options. */
function benchHashCorpus(native: NativeModule | undefined, quickRun: boolean) {
  const hashSizes = quickRun ? [2_000, 10_000] : [10_000, 100_000];
  const corpus = hashCorpus(Math.max(...hashSizes));
  return {
    bench: "vector-hash",
    quick: quickRun,
    runtime: runtimeName(),
    machine: machine(),
    workload: {
      corpus: "bench/search chunks of node_modules, hash embedder, L2-normalised",
      queries: `${HASH_QUERY_COUNT} single lines of corpus chunks, hash-embedded`,
      dimensions: DIMENSIONS,
      metric: TENANT_VECTOR_OPTIONS.metric,
      quantization: "f32",
      ...TENANT_HNSW,
      insert_batch: HASH_INSERT_BATCH,
    },
    sizes: hashSizes.map((count) => hashSize(count, native, corpus)),
  };
}

function runtimeName(): string {
  return typeof process.versions.bun === "string"
    ? `bun ${process.versions.bun}`
    : `${process.release.name} ${process.versions.node}`;
}

function machine() {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    platform: platform(),
    arch: arch(),
  };
}

async function main(): Promise<void> {
  const native = await loadNative();
  if (process.argv.includes("--hash")) {
    const report = benchHashCorpus(native.module, quick);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
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
