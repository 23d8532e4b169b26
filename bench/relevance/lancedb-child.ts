/**
 * The LanceDB side of bench/relevance.ts, run as a child process (its FTS index build can hang
 * with the default CPU pool on a 2-core machine: the parent sets `LANCE_CPU_THREADS` and a
 * timeout). Reads `<dir>/input.json` (ids, texts, queries) and `<dir>/docs.f32`,
 * `<dir>/queries.f32` (the same hash vectors vltair computes), builds a table with a default
 * FTS index over the text (no vector index: the vector half is exact), and prints one JSON
 * object: the top-10 ids per query of its full-text, vector and hybrid (RRF reranker, its
 * default) searches, and the build time.
 *
 *   bun bench/relevance/lancedb-child.ts <dir>
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import * as lancedb from "@lancedb/lancedb";

interface Input {
  ids: string[];
  texts: string[];
  queries: string[];
  dimensions: number;
  k: number;
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
await table.createIndex("text", { config: lancedb.Index.fts() });
const buildMs = performance.now() - buildStart;

const fts: string[][] = [];
const vector: string[][] = [];
const hybrid: string[][] = [];
let failures = 0;
/** The ids of a query's rows; a query LanceDB refuses counts as a failure with no hits. */
async function ids(run: () => Promise<{ id: string }[]>): Promise<string[]> {
  try {
    return (await run()).map((row) => row.id);
  } catch {
    failures += 1;
    return [];
  }
}
for (const [q, text] of input.queries.entries()) {
  const v = vectorOf(queryVectors, q);
  fts.push(await ids(() => table.search(text, "fts").select(["id"]).limit(input.k).toArray()));
  vector.push(await ids(() => table.query().nearestTo(v).select(["id"]).limit(input.k).toArray()));
  hybrid.push(
    await ids(() =>
      table.query().fullTextSearch(text).nearestTo(v).select(["id"]).limit(input.k).toArray(),
    ),
  );
}
const version = JSON.parse(
  readFileSync(join(import.meta.dir, "../../node_modules/@lancedb/lancedb/package.json"), "utf8"),
).version as string;
const out = { version, buildMs: Math.round(buildMs), failures, fts, vector, hybrid };
process.stdout.write(`${JSON.stringify(out)}\n`);
