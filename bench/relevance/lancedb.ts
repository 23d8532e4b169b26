/**
 * Runs bench/relevance/lancedb-child.ts over the set in a child process with
 * `LANCE_CPU_THREADS=4` (its FTS build can hang on 2 cores with the default pool) and a
 * timeout; returns its per-query top-10 ids, or why it could not run.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { CodeSearchSet } from "./corpus.ts";

export interface LanceResults {
  version: string;
  buildMs: number;
  failures: number;
  fts: string[][];
  vector: string[][];
  hybrid: string[][];
}

const TIMEOUT_MS = 15 * 60 * 1000;
const CPU_THREADS = "4";

/** LanceDB's answers over `set`, or `{ error }`. */
export function runLanceDb(
  set: CodeSearchSet,
  docVectors: Float32Array,
  queryVectors: Float32Array,
  dimensions: number,
  k: number,
): LanceResults | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), "vltair-relevance-lance-"));
  try {
    const input = {
      ids: set.docs.map((d) => d.id),
      texts: set.docs.map((d) => d.text),
      queries: set.queries.map((q) => q.text),
      dimensions,
      k,
    };
    writeFileSync(join(dir, "input.json"), JSON.stringify(input));
    writeFileSync(join(dir, "docs.f32"), new Uint8Array(docVectors.buffer));
    writeFileSync(join(dir, "queries.f32"), new Uint8Array(queryVectors.buffer));
    const child = spawnSync(process.execPath, [join(import.meta.dir, "lancedb-child.ts"), dir], {
      env: { ...process.env, LANCE_CPU_THREADS: CPU_THREADS },
      timeout: TIMEOUT_MS,
      maxBuffer: 256 * 1024 * 1024,
      encoding: "utf8",
    });
    if (child.error !== undefined) return { error: `child: ${child.error.message}` };
    if (child.status !== 0) {
      return { error: `child exited ${child.status}: ${child.stderr.slice(-2000)}` };
    }
    return JSON.parse(child.stdout) as LanceResults;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
