/**
 * vltair's side of bench/relevance.ts: a ContextService over a temporary data directory (fsync
 * `none`: relevance, not durability, is measured), the set upserted in batches, and searches
 * through the whole service path (`search` with a strategy and fusion) or straight from the
 * tenant's two indexes with deep candidate lists (for the fusion sweep).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContextService,
  createContextMachine,
  type Embedder,
  resolveContextLimits,
} from "../../src/context/mod.ts";
import type { ContextState } from "../../src/context/store/state.ts";
import type { HalfHit } from "../../src/search/mod.ts";
import { createStorage, openDataDir, type Storage } from "../../src/storage/mod.ts";
import { callAs } from "../../test/support/call.ts";
import type { CodeDoc } from "./corpus.ts";

export const TENANT = "relevance";
const BATCH_ITEMS = 500;

/** An open engine; `close` removes its data directory. */
export interface RelevanceEngine {
  context: ContextService;
  storage: Storage;
  /** The tenant's halves for `query`: the top `depth` of each (dense by the HNSW walk). */
  halves(
    query: string,
    vector: Float32Array,
    depth: number,
  ): { sparse: HalfHit[]; dense: HalfHit[] };
  close(): Promise<void>;
}

/** Opens a fresh engine with `embedder` and upserts `docs` (ids are the docs' ids). */
export async function openRelevanceEngine(
  docs: readonly CodeDoc[],
  embedder: Embedder,
): Promise<RelevanceEngine> {
  const dir = mkdtempSync(join(tmpdir(), "vltair-relevance-"));
  const storage = createStorage(openDataDir(dir, {}), { fsync: "none" });
  const machine = storage.register(createContextMachine());
  await storage.recover();
  const context = new ContextService({
    machine,
    storage,
    embedder,
    limits: resolveContextLimits(),
    tokenizer: "code",
  });
  for (let at = 0; at < docs.length; at += BATCH_ITEMS) {
    const items = docs.slice(at, at + BATCH_ITEMS).map((d) => ({
      id: d.id,
      scope: { kind: "global" as const },
      text: d.text,
      metadata: { path: d.path, name: d.name, line: d.line },
    }));
    await context.upsert(callAs(TENANT), { items });
  }
  const store = () => {
    const tenant = (storage.stateOf("context") as ContextState).tenant(TENANT);
    if (tenant === undefined) throw new Error("the relevance tenant is missing");
    return tenant;
  };
  const idOf = (key: number | bigint) => store().byKey.get(Number(key))?.id ?? "";
  return {
    context,
    storage,
    halves(query, vector, depth) {
      const tenant = store();
      const sparse = tenant.text
        .search(query, depth)
        .map((m) => ({ id: idOf(Number(m.docKey)), score: m.score }));
      // As executeSearch does: the index compares unit vectors (ADR 0026).
      const found = tenant.vectorIndex()?.search(tenant.vectorQuery(vector), depth);
      const dense = Array.from(found?.keys ?? [], (key, i) => ({
        id: idOf(key),
        score: 1 - (found?.distances[i] ?? 1),
      }));
      return { sparse, dense };
    },
    async close() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
