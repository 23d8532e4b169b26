/**
 * Relevance benchmark (issue 14): a labeled code-search set built the CodeSearchNet way from the
 * JavaScript/TypeScript sources under node_modules (bench/relevance/corpus.ts: query = the first
 * sentence of a function's doc comment, target = that function's code without the comment,
 * every other function a distractor; fixed seed), and how well each engine ranks the target:
 * MRR@10 and hit@1/5/10.
 *
 *   npx bun bench/relevance.ts              the whole set (≥ 20k documents, 1,000 queries)
 *   npx bun bench/relevance.ts --no-lance   without the LanceDB peer
 *
 * Engines, all over the same documents and queries:
 * - vltair (ContextService, `code` tokenizer, the default `hash` embedder): sparse, dense,
 *   hybrid with the default fusion, with each fusion method at its defaults, and `auto`;
 *   the same with the previous embedder (`hash-v1`) for comparison;
 * - SQLite FTS5 BM25 through bun:sqlite (`unicode61`, `"a" OR "b"` over the query's tokens);
 * - LanceDB (`@lancedb/lancedb`, pinned devDependency) in a child process: its default FTS
 *   index, an exact vector search over the same hash vectors, and its hybrid query (RRF);
 * - with `VLTAIR_BENCH_EMBEDDER='{"base_url":…,"model":…,"dimensions":…}'` (an
 *   OpenAI-compatible server such as Ollama), vltair dense and hybrid with that embedder.
 *
 * The sweep fuses the tenant's two halves (top 100 of each) offline for a grid of fusion
 * settings. Settings are chosen on the `tune` half of the queries (even positions) and read
 * on the `check` half (odd positions); nothing else was used to tune them.
 *
 * Prints exactly one JSON object (progress goes to stderr).
 */

import { cpus, loadavg } from "node:os";
import process from "node:process";
import {
  createHashEmbedder,
  createOpenAiEmbedder,
  type Embedder,
  hashEmbed,
} from "../src/context/mod.ts";
import { type FusionOptions, fuse } from "../src/search/mod.ts";
import { fts5Query } from "../test/integration/search/text/corpus.ts";
import { callAs } from "../test/support/call.ts";
import { buildCodeSearchSet, type CodeSearchSet, RELEVANCE_SET } from "./relevance/corpus.ts";
import { runLanceDb } from "./relevance/lancedb.ts";
import { rankOf, summariseSplit, versus } from "./relevance/metrics.ts";
import { openRelevanceEngine, type RelevanceEngine, TENANT } from "./relevance/vltair.ts";
import { buildFts5 } from "./search/peers.ts";
import { round } from "./search/stats.ts";

const DOCS_MIN = 20_000;
const K = 10;
const { dimensions: DIMENSIONS, seed: SEED } = RELEVANCE_SET;
const SWEEP_DEPTH = 100;

const log = (message: string) => process.stderr.write(`[relevance] ${message}\n`);

type Request = Parameters<RelevanceEngine["context"]["search"]>[1];

/** The fields of a search request beside `query` and `k`. */
type Case = Pick<Request, "strategy"> & Partial<Pick<Request, "fusion">>;

/** The service cases: name → request fields beside `query` and `k`. */
const SERVICE_CASES: Record<string, Case> = {
  sparse: { strategy: "sparse" },
  dense: { strategy: "dense" },
  hybrid: { strategy: "hybrid" },
  "hybrid.rrf": { strategy: "hybrid", fusion: { method: "rrf" } },
  "hybrid.rrf_k60": { strategy: "hybrid", fusion: { method: "rrf", rrf_k: 60 } },
  "hybrid.weighted": { strategy: "hybrid", fusion: { method: "weighted" } },
  auto: { strategy: "auto" },
};

/** Runs every service case; returns ranks per case and the strategies `auto` used. */
async function serviceRanks(
  engine: RelevanceEngine,
  set: CodeSearchSet,
  cases: Record<string, Case>,
) {
  const ranks: Record<string, number[]> = {};
  const autoUsed: Record<string, number> = {};
  for (const [name, fields] of Object.entries(cases)) {
    ranks[name] = [];
    for (const q of set.queries) {
      const response = await engine.context.search(callAs(TENANT), {
        query: q.text,
        k: K,
        ...fields,
      });
      ranks[name]?.push(
        rankOf(
          response.results.map((r) => r.id),
          q.target,
        ),
      );
      if (name === "auto") {
        autoUsed[response.strategy_used] = (autoUsed[response.strategy_used] ?? 0) + 1;
      }
    }
  }
  return { ranks, autoUsed };
}

function fts5Ranks(set: CodeSearchSet): number[] {
  const fts = buildFts5(set.docs.map((d, i) => ({ rowid: i + 1, text: d.text })));
  try {
    return set.queries.map((q) => {
      const match = fts5Query(q.text);
      if (match === null) return 0;
      const ids = fts.search(match, K).map((rowid) => String(Number(rowid) - 1).padStart(6, "0"));
      return rankOf(ids, q.target);
    });
  } finally {
    fts.close();
  }
}

function lanceRanks(set: CodeSearchSet) {
  const docVectors = new Float32Array(set.docs.length * DIMENSIONS);
  for (const [i, d] of set.docs.entries()) {
    docVectors.set(hashEmbed(d.text, DIMENSIONS), i * DIMENSIONS);
  }
  const queryVectors = new Float32Array(set.queries.length * DIMENSIONS);
  for (const [i, q] of set.queries.entries()) {
    queryVectors.set(hashEmbed(q.text, DIMENSIONS), i * DIMENSIONS);
  }
  const result = runLanceDb(set, docVectors, queryVectors, DIMENSIONS, K);
  if ("error" in result) return result;
  const ranksOf = (lists: string[][]) =>
    set.queries.map((q, i) => rankOf(lists[i] ?? [], q.target));
  return {
    version: result.version,
    buildMs: result.buildMs,
    failures: result.failures,
    ranks: {
      fts: ranksOf(result.fts),
      vector: ranksOf(result.vector),
      hybrid: ranksOf(result.hybrid),
    },
  };
}

/** The fusion grid: RRF k and weighted dense weights at several candidate depths. */
function sweepSettings(): { name: string; depth: number; fusion: FusionOptions }[] {
  const out: { name: string; depth: number; fusion: FusionOptions }[] = [];
  for (const depth of [10, 20, 40, 100]) {
    for (const rrfK of [1, 2, 5, 10, 20, 30, 60, 100]) {
      out.push({ name: `rrf k=${rrfK} depth=${depth}`, depth, fusion: { method: "rrf", rrfK } });
    }
    for (const denseWeight of [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]) {
      out.push({
        name: `weighted dense=${denseWeight} depth=${depth}`,
        depth,
        fusion: { method: "weighted", denseWeight, sparseWeight: round(1 - denseWeight, 2) },
      });
    }
  }
  return out;
}

function sweep(engine: RelevanceEngine, set: CodeSearchSet, embedder: (t: string) => Float32Array) {
  const halves = set.queries.map((q) => engine.halves(q.text, embedder(q.text), SWEEP_DEPTH));
  const rows = sweepSettings().map((setting) => {
    const ranks = set.queries.map((q, i) => {
      const h = halves[i] as ReturnType<RelevanceEngine["halves"]>;
      const fused = fuse(
        h.dense.slice(0, setting.depth),
        h.sparse.slice(0, setting.depth),
        setting.fusion,
        K,
      );
      return rankOf(
        fused.map((f) => f.id),
        q.target,
      );
    });
    const split = summariseSplit(ranks);
    return {
      setting: setting.name,
      tune_mrr: split.tune.mrr_at_10,
      check_mrr: split.check.mrr_at_10,
      all_mrr: split.all.mrr_at_10,
      hit_at_10: split.all.hit_at_10,
    };
  });
  rows.sort((a, b) => b.tune_mrr - a.tune_mrr);
  return {
    depth: SWEEP_DEPTH,
    best_by_tune: rows.slice(0, 8),
    columns: ["setting", "tune_mrr", "check_mrr", "all_mrr", "hit_at_10"],
    grid: rows.map((r) => [r.setting, r.tune_mrr, r.check_mrr, r.all_mrr, r.hit_at_10]),
  };
}

function optionalEmbedder(): Embedder | null {
  const raw = process.env.VLTAIR_BENCH_EMBEDDER;
  if (raw === undefined || raw === "") return null;
  const e = JSON.parse(raw) as { base_url: string; model: string; dimensions: number };
  return createOpenAiEmbedder({
    baseUrl: e.base_url,
    model: e.model,
    dimensions: e.dimensions,
    batchSize: 64,
    timeoutMs: 60_000,
    retries: 2,
    backoffMs: 200,
    apiKey: process.env.VLTAIR_BENCH_EMBEDDER_API_KEY ?? null,
  });
}

async function main() {
  const startedMs = performance.now();
  log("building the set");
  const set = buildCodeSearchSet();
  if (set.docs.length < DOCS_MIN) throw new Error(`only ${set.docs.length} documents`);
  const cases: Record<string, ReturnType<typeof summariseSplit>> = {};
  const ranksByCase: Record<string, number[]> = {};
  const record = (name: string, ranks: number[]) => {
    ranksByCase[name] = ranks;
    cases[name] = summariseSplit(ranks);
  };

  log(`vltair (hash-v2) over ${set.docs.length} documents`);
  const engine = await openRelevanceEngine(
    set.docs,
    createHashEmbedder({ dimensions: DIMENSIONS }),
  );
  const service = await serviceRanks(engine, set, SERVICE_CASES);
  for (const [name, ranks] of Object.entries(service.ranks)) record(`vltair.${name}`, ranks);
  log("fusion sweep");
  const fusionSweep = sweep(engine, set, (t) => hashEmbed(t, DIMENSIONS));
  await engine.close();

  log("vltair (hash-v1)");
  const v1 = await openRelevanceEngine(
    set.docs,
    createHashEmbedder({ dimensions: DIMENSIONS, model: "hash-v1" }),
  );
  const v1Ranks = await serviceRanks(v1, set, {
    dense: { strategy: "dense" },
    "hybrid.rrf_k60": { strategy: "hybrid", fusion: { method: "rrf", rrf_k: 60 } },
  });
  await v1.close();
  for (const [name, ranks] of Object.entries(v1Ranks.ranks))
    record(`vltair_hash_v1.${name}`, ranks);

  const remote = optionalEmbedder();
  if (remote !== null) {
    log(`vltair with ${remote.model}`);
    const r = await openRelevanceEngine(set.docs, remote);
    const rRanks = await serviceRanks(r, set, {
      dense: { strategy: "dense" },
      hybrid: { strategy: "hybrid" },
      "hybrid.rrf": { strategy: "hybrid", fusion: { method: "rrf" } },
    });
    await r.close();
    for (const [name, ranks] of Object.entries(rRanks.ranks))
      record(`vltair_${remote.model}.${name}`, ranks);
  }

  log("SQLite FTS5");
  record("fts5.bm25", fts5Ranks(set));

  let lance: Record<string, unknown> = { skipped: "--no-lance" };
  if (!process.argv.includes("--no-lance")) {
    log("LanceDB (child process)");
    const result = lanceRanks(set);
    if ("error" in result) lance = { error: result.error };
    else {
      lance = { version: result.version, build_ms: result.buildMs, failures: result.failures };
      for (const [name, ranks] of Object.entries(result.ranks)) record(`lancedb.${name}`, ranks);
    }
  }

  const sparse = ranksByCase["vltair.sparse"] ?? [];
  const against_sparse: Record<string, { better: number; worse: number }> = {};
  for (const name of Object.keys(ranksByCase)) {
    if (name.includes("hybrid")) against_sparse[name] = versus(ranksByCase[name] ?? [], sparse);
  }
  const mrr = (name: string) => cases[name]?.all.mrr_at_10 ?? Number.NaN;
  const hybrid = mrr("vltair.hybrid");
  const fts5 = mrr("fts5.bm25");
  const lanceHybrid = mrr("lancedb.hybrid");
  const metric = (name: string, key: "mrr_at_10" | "hit_at_1" | "hit_at_5" | "hit_at_10") =>
    cases[name]?.all[key] ?? Number.NaN;
  const notBelowSparse = (["mrr_at_10", "hit_at_1", "hit_at_5", "hit_at_10"] as const).every(
    (key) => metric("vltair.hybrid", key) >= metric("vltair.sparse", key),
  );
  const report = {
    bench: "relevance",
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      runtime: `bun ${Bun.version}`,
      loadAverage1mAtEnd: round(loadavg()[0] ?? 0, 2),
    },
    set: {
      seed: SEED,
      documents: set.docs.length,
      queries: set.queries.length,
      ...set.stats,
      k: K,
    },
    auto_used: service.autoUsed,
    cases,
    hybrid_vs_sparse_queries: against_sparse,
    lancedb: lance,
    fusion_sweep: fusionSweep,
    targets: {
      hybrid_mrr_over_fts5: round(hybrid / fts5, 3),
      hybrid_mrr_over_fts5_met: hybrid >= 1.2 * fts5,
      hybrid_mrr_over_lancedb_hybrid: round(hybrid / lanceHybrid, 3),
      hybrid_mrr_over_lancedb_hybrid_met: Number.isNaN(lanceHybrid) ? null : hybrid >= lanceHybrid,
      hybrid_not_below_sparse_met: notBelowSparse,
    },
    elapsed_s: round((performance.now() - startedMs) / 1000, 1),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
