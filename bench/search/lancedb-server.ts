/**
 * LanceDB as a peer of bench/search.ts, in a child process (its FTS index build can hang on a
 * 2-core machine with its default CPU pool: the parent sets `LANCE_CPU_THREADS`). Reads
 * `<dir>/input.json` (`ids`, `texts`, `dimensions`, `vectorIndex`) and `<dir>/docs.f32`,
 * `<dir>/queries.f32` (the hash vectors vltair computes), builds a table with an IVF-HNSW-SQ
 * vector index (when `vectorIndex`) and its default FTS index, prints one line
 * `{"ready":true,"version","build_ms"}`, then answers one JSON line per stdin line
 * `{"mode":"fts"|"vector"|"hybrid","q":N,"text"}` with `{"keys":[…],"us":N}` — `us` timed here,
 * in process, so the pipe's cost is not LanceDB's.
 *
 *   bun bench/search/lancedb-server.ts <dir>
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import * as lancedb from "@lancedb/lancedb";

interface Input {
  ids: string[];
  texts: string[];
  dimensions: number;
  k: number;
  vectorIndex: boolean;
}

const dir = process.argv[2] ?? "";
const input = JSON.parse(readFileSync(join(dir, "input.json"), "utf8")) as Input;
const floats = (name: string) => {
  const bytes = readFileSync(join(dir, name));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
const docVectors = floats("docs.f32");
const queryVectors = floats("queries.f32");
const d = input.dimensions;
const vectorOf = (all: Float32Array, i: number) => Array.from(all.subarray(i * d, (i + 1) * d));

const buildStart = performance.now();
const db = await lancedb.connect(join(dir, "db"));
const rows = input.ids.map((id, i) => ({
  id,
  text: input.texts[i] ?? "",
  vector: vectorOf(docVectors, i),
}));
const table = await db.createTable("docs", rows);
if (input.vectorIndex) {
  await table.createIndex("vector", {
    config: lancedb.Index.hnswSq({ distanceType: "cosine" }),
  });
}
await table.createIndex("text", { config: lancedb.Index.fts() });
const buildMs = Math.round(performance.now() - buildStart);
const version = JSON.parse(
  readFileSync(join(import.meta.dir, "../../node_modules/@lancedb/lancedb/package.json"), "utf8"),
).version as string;
process.stdout.write(`${JSON.stringify({ ready: true, version, build_ms: buildMs })}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const ask = JSON.parse(line) as { mode: "fts" | "vector" | "hybrid"; q: number; text: string };
  const v = vectorOf(queryVectors, ask.q);
  const start = performance.now();
  let keys: string[] = [];
  try {
    const found =
      ask.mode === "fts"
        ? await table.search(ask.text, "fts").select(["id"]).limit(input.k).toArray()
        : ask.mode === "vector"
          ? await table.query().nearestTo(v).select(["id"]).limit(input.k).toArray()
          : await table
              .query()
              .fullTextSearch(ask.text)
              .nearestTo(v)
              .select(["id"])
              .limit(input.k)
              .toArray();
    keys = (found as { id: string }[]).map((row) => row.id);
  } catch {
    keys = [];
  }
  const us = Math.round((performance.now() - start) * 1000);
  process.stdout.write(`${JSON.stringify({ keys, us })}\n`);
}
