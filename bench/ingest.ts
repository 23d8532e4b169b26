/**
 * Durable ingest over HTTP (issue 14 item 5): bench/search's code chunks posted to a real vltair
 * server (child process, `wal_fsync: always`, the default hash embedder) as
 * `POST /v1/context/docs:upsert` batches of ≤ 500 chunks and ≤ 3 MiB — with one client, then
 * with 4 concurrent clients into a fresh data directory — then the server restarted: time to
 * ready and RSS when ready. Peers in the same run, on the same chunks: LanceDB 0.31 (a table of
 * the chunks and their hash vectors plus its IVF-HNSW-SQ vector index and FTS index, built in a
 * child process, bench/search/lancedb-server.ts) and SQLite FTS5 (text only, one transaction).
 *
 * Prints one JSON object.
 *
 *   npx bun bench/ingest.ts            100k chunks
 *   npx bun bench/ingest.ts --quick    10k chunks
 *   npx bun bench/ingest.ts --no-lance without the LanceDB peer
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { hashEmbed } from "../src/context/mod.ts";
import { startLancePeer } from "./search/lancedb-peer.ts";
import { type BenchChunk, buildFts5, loadChunkCorpus, metadataOf } from "./search/mod.ts";
import { type BenchServer, startVltair } from "./vltair-server.ts";

const quick = process.argv.includes("--quick");
const CHUNK_COUNT = quick ? 10_000 : 100_000;
const BATCH = { itemsMax: 500, bytesMax: 3 * 1024 * 1024 };
const DIMENSIONS = 384;
const TOKEN = "bench-ingest-admin-token-0123456789abcdef";
const ROOTS = [
  { dir: `${import.meta.dir}/../node_modules`, label: "node_modules" },
  { dir: "/usr/lib/node_modules", label: "usr/lib/node_modules" },
];
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const TARGETS = {
  oneClientChunksPerS: 4000,
  fourClientsChunksPerS: 6000,
  rssReadyBytesMax: 600 * 2 ** 20,
};

/** Progress on stderr (stdout is the one JSON object). */
function progress(message: string): void {
  process.stderr.write(`[ingest ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The request bodies: batches as the ingest CLI cuts them, encoded once, before any clock. */
function batchesOf(chunks: readonly BenchChunk[]): { body: string; count: number }[] {
  const out: { body: string; count: number }[] = [];
  let items: unknown[] = [];
  let bytes = 0;
  const flush = () => {
    if (items.length === 0) return;
    out.push({ body: JSON.stringify({ items }), count: items.length });
    items = [];
    bytes = 0;
  };
  for (const c of chunks) {
    const item = { id: c.id, text: c.text, metadata: metadataOf(c) };
    const itemBytes = Buffer.byteLength(JSON.stringify(item));
    if (items.length >= BATCH.itemsMax || (items.length > 0 && bytes + itemBytes > BATCH.bytesMax))
      flush();
    items.push(item);
    bytes += itemBytes;
  }
  flush();
  return out;
}

/** Posts every batch with `clients` concurrent clients; chunks/s over the whole ingest. */
async function ingest(
  server: BenchServer,
  batches: readonly { body: string; count: number }[],
  clients: number,
) {
  let next = 0;
  let chunks = 0;
  const start = performance.now();
  const client = async () => {
    for (let i = next++; i < batches.length; i = next++) {
      const batch = batches[i] as { body: string; count: number };
      const response = await fetch(`${server.url}/v1/context/docs:upsert`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: batch.body,
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`upsert ${response.status}: ${text.slice(0, 300)}`);
      chunks += batch.count;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const ms = performance.now() - start;
  return { chunks, ms: Math.round(ms), chunks_per_s: Math.round((chunks / ms) * 1000) };
}

function rssBytesOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? 0) * 1024;
}

/** One ingest into a fresh data directory, then a restart of the server on it. */
async function measure(batches: readonly { body: string; count: number }[], clients: number) {
  const dataDir = mkdtempSync(join(os.tmpdir(), "vltair-bench-ingest-"));
  try {
    const server = await startVltair(dataDir, TOKEN);
    let figures: Awaited<ReturnType<typeof ingest>>;
    let rssAfterIngestBytes: number;
    try {
      figures = await ingest(server, batches, clients);
      rssAfterIngestBytes = rssBytesOf(server.pid);
    } finally {
      await server.stop();
    }
    const restartStart = performance.now();
    const restarted = await startVltair(dataDir, TOKEN);
    const readyMs = Math.round(performance.now() - restartStart);
    const rssReadyBytes = rssBytesOf(restarted.pid);
    await restarted.stop();
    return {
      clients,
      ...figures,
      rss_after_ingest_bytes: rssAfterIngestBytes,
      restart_ready_ms: readyMs,
      rss_ready_bytes: rssReadyBytes,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function lancePeer(chunks: readonly BenchChunk[]) {
  if (process.argv.includes("--no-lance")) return { error: "--no-lance" };
  const docVectors = new Float32Array(chunks.length * DIMENSIONS);
  chunks.forEach((c, i) => {
    docVectors.set(hashEmbed(c.text, DIMENSIONS), i * DIMENSIONS);
  });
  const peer = await startLancePeer({
    ids: chunks.map((c) => c.id),
    texts: chunks.map((c) => c.text),
    docVectors,
    queryVectors: new Float32Array(DIMENSIONS),
    dimensions: DIMENSIONS,
    k: 10,
  });
  if ("error" in peer) return peer;
  peer.close();
  return {
    version: peer.version,
    build_ms: peer.buildMs,
    chunks_per_s: Math.round((chunks.length / peer.buildMs) * 1000),
    note: "createTable + IVF-HNSW-SQ vector index + FTS index, in-process in its child; vectors precomputed (not timed)",
  };
}

function fts5Peer(chunks: readonly BenchChunk[]) {
  const start = performance.now();
  const db = buildFts5(chunks);
  const ms = performance.now() - start;
  db.close();
  return {
    ms: Math.round(ms),
    chunks_per_s: Math.round((chunks.length / ms) * 1000),
    note: "text only, in-process, one transaction",
  };
}

async function main(): Promise<void> {
  // The API refuses lone surrogates (400 `validation_failed`): some chunks of the corpus cut a
  // surrogate pair, which the ingest CLI never sends (it decodes files as UTF-8).
  const chunks = loadChunkCorpus(ROOTS, CHUNK_COUNT).chunks.map((c) => ({
    ...c,
    text: c.text.replace(LONE_SURROGATE, "\ufffd"),
  }));
  const batches = batchesOf(chunks);
  progress(`corpus: ${chunks.length} chunks in ${batches.length} batches`);
  const one = await measure(batches, 1);
  progress(`one client: ${one.chunks_per_s} chunks/s`);
  const four = await measure(batches, 4);
  progress(`four clients: ${four.chunks_per_s} chunks/s`);
  const lance = await lancePeer(chunks);
  progress("lancedb done");
  const fts5 = fts5Peer(chunks);
  const ratio = (a: number, b: number | undefined) =>
    b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;
  const lanceRate = "chunks_per_s" in lance ? lance.chunks_per_s : undefined;
  console.log(
    JSON.stringify({
      bench: "ingest",
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? "unknown",
        os: `${os.type()} ${os.release()}`,
      },
      runtime: `bun ${process.versions.bun ?? "?"}`,
      chunks: chunks.length,
      batches: batches.length,
      vltair: { one_client: one, four_clients: four },
      lancedb: lance,
      sqlite_fts5: fts5,
      ratios: {
        one_client_over_lancedb: ratio(one.chunks_per_s, lanceRate),
        four_clients_over_lancedb: ratio(four.chunks_per_s, lanceRate),
      },
      targets: {
        one_client: {
          target: TARGETS.oneClientChunksPerS,
          met: one.chunks_per_s >= TARGETS.oneClientChunksPerS,
        },
        four_clients: {
          target: TARGETS.fourClientsChunksPerS,
          met: four.chunks_per_s >= TARGETS.fourClientsChunksPerS,
        },
        rss_ready: {
          target_bytes: TARGETS.rssReadyBytesMax,
          met: one.rss_ready_bytes <= TARGETS.rssReadyBytesMax,
        },
      },
    }),
  );
}

await main();
