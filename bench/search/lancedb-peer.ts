/**
 * The parent side of bench/search/lancedb-server.ts: starts the child over the same chunks and
 * vectors (`LANCE_CPU_THREADS=4`, a build timeout), and asks it one query at a time, so LanceDB
 * is timed in the same rotating rounds as every other engine (with its own in-process time).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";

/** A started LanceDB peer. */
export interface LancePeer {
  version: string;
  buildMs: number;
  ask(
    mode: "fts" | "vector" | "hybrid",
    q: number,
    text: string,
  ): Promise<{ keys: string[]; us: number }>;
  close(): void;
}

const BUILD_TIMEOUT_MS = 20 * 60 * 1000;

/** Starts the peer, or says why it could not. */
export async function startLancePeer(options: {
  ids: readonly string[];
  texts: readonly string[];
  docVectors: Float32Array;
  queryVectors: Float32Array;
  dimensions: number;
  k: number;
}): Promise<LancePeer | { error: string }> {
  const dir = mkdtempSync(join(tmpdir(), "vltair-bench-lance-"));
  writeFileSync(
    join(dir, "input.json"),
    JSON.stringify({
      ids: options.ids,
      texts: options.texts,
      dimensions: options.dimensions,
      k: options.k,
      vectorIndex: true,
    }),
  );
  writeFileSync(join(dir, "docs.f32"), new Uint8Array(options.docVectors.buffer));
  writeFileSync(join(dir, "queries.f32"), new Uint8Array(options.queryVectors.buffer));
  const child = spawn(process.execPath, [join(import.meta.dir, "lancedb-server.ts"), dir], {
    env: { ...process.env, LANCE_CPU_THREADS: "4" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  const cleanup = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = await Promise.race([
    next(),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), BUILD_TIMEOUT_MS);
    }),
    new Promise<null>((resolve) => child.once("exit", () => resolve(null))),
  ]);
  // The build's deadline must not keep the process alive once the peer answered.
  clearTimeout(timer);
  if (ready === null) {
    cleanup();
    return { error: `lancedb child did not get ready: ${stderr}` };
  }
  const info = JSON.parse(ready) as { version: string; build_ms: number };
  return {
    version: info.version,
    buildMs: info.build_ms,
    async ask(mode, q, text) {
      const answer = next();
      child.stdin.write(`${JSON.stringify({ mode, q, text })}\n`);
      return JSON.parse(await answer) as { keys: string[]; us: number };
    },
    close: cleanup,
  };
}
