/**
 * The child process of bench/search.ts's restart-to-ready figure: opens a data directory that
 * the parent snapshotted and closed, recovers it (snapshot load + log tail replay), collects
 * garbage as the server does before it reports ready (src/app/app.ts), answers one hybrid search,
 * and prints one JSON object with the timings and this process's RSS.
 *
 *   bun bench/search/restart.ts DATA_DIR QUERY
 */

import process from "node:process";
import {
  ContextService,
  createContextMachine,
  createHashEmbedder,
  resolveContextLimits,
} from "../../src/context/mod.ts";
import { collectGarbage } from "../../src/platform/mod.ts";
import { createStorage, openDataDir } from "../../src/storage/mod.ts";
import { callAs } from "../../test/support/call.ts";
import { profileRecovery } from "./recovery-profile.ts";

async function main(): Promise<void> {
  const [dir, query] = process.argv.slice(2);
  if (dir === undefined || query === undefined) {
    process.stderr.write("usage: restart.ts DATA_DIR QUERY\n");
    process.exit(2);
  }
  const rssStartBytes = process.memoryUsage().rss;
  const start = performance.now();
  const storage = createStorage(openDataDir(dir, {}), { fsync: "always" });
  const machine = storage.register(createContextMachine());
  const report = await storage.recover();
  const recoveredMs = performance.now() - start;
  collectGarbage();
  const collectedMs = performance.now() - start;
  const context = new ContextService({
    machine,
    storage,
    embedder: createHashEmbedder({ dimensions: 384 }),
    limits: resolveContextLimits(),
    tokenizer: "code",
  });
  const response = await context.search(callAs("default"), { query, k: 10, strategy: "hybrid" });
  const readyMs = performance.now() - start;
  const rssReadyBytes = process.memoryUsage().rss;
  collectGarbage();
  const rssAfterGcBytes = process.memoryUsage().rss;
  await storage.close();
  let steps: Record<string, number | string>;
  try {
    steps = profileRecovery(dir);
  } catch (error) {
    steps = { error: String(error) };
  }
  process.stdout.write(
    `${JSON.stringify({
      recoverMs: Math.round(recoveredMs),
      gcMs: Math.round(collectedMs - recoveredMs),
      firstSearchMs: Math.round((readyMs - collectedMs) * 10) / 10,
      readyMs: Math.round(readyMs),
      firstSearchHits: response.results.length,
      rssStartBytes,
      rssReadyBytes,
      rssAfterGcBytes,
      recovery: report,
      snapshotDecodeSteps: steps,
    })}\n`,
  );
}

await main();
