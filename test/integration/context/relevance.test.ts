/**
 * Hybrid search never ranks worse than its own sparse half (issue 14), on a fixture drawn from
 * bench/relevance.ts's labeled code-search set (relevance-fixture.json, written by
 * bench/relevance/fixture.ts: 60 queries = doc-comment first sentences, each with its target
 * function and the documents either half ranks near the top for it). The whole service path
 * runs: ContextService with the default `hash` embedder and `code` tokenizer.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContextService,
  createContextMachine,
  createHashEmbedder,
  resolveContextLimits,
} from "../../../src/context/mod.ts";
import { createStorage, openDataDir, type Storage } from "../../../src/storage/mod.ts";
import { callAs } from "../../support/call.ts";
import fixture from "./relevance-fixture.json";

const TENANT = "relevance";
const K = 10;

interface Summary {
  mrr: number;
  hit1: number;
  hit5: number;
  hit10: number;
}

function summarise(ranks: readonly number[]): Summary {
  const share = (cut: number) => ranks.filter((r) => r > 0 && r <= cut).length / ranks.length;
  const mrr = ranks.reduce((sum, r) => sum + (r > 0 ? 1 / r : 0), 0) / ranks.length;
  return { mrr, hit1: share(1), hit5: share(5), hit10: share(10) };
}

let storage: Storage;
let context: ContextService;
// Removed after the storage is closed (closing may still write to it).
const dir = mkdtempSync(join(tmpdir(), "vltair-relevance-"));

beforeAll(async () => {
  storage = createStorage(openDataDir(dir), { fsync: "none" });
  const machine = storage.register(createContextMachine());
  await storage.recover();
  context = new ContextService({
    machine,
    storage,
    embedder: createHashEmbedder({ dimensions: 384 }),
    limits: resolveContextLimits(),
    tokenizer: "code",
  });
  const items = fixture.docs.map((d) => ({
    id: d.id,
    scope: { kind: "global" as const },
    text: d.text,
  }));
  await context.upsert(callAs(TENANT), { items });
});
afterAll(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ranks(strategy: "sparse" | "auto"): Promise<{ ranks: number[]; used: string[] }> {
  const out: number[] = [];
  const used: string[] = [];
  for (const q of fixture.queries) {
    const response = await context.search(callAs(TENANT), { query: q.text, k: K, strategy });
    out.push(response.results.findIndex((r) => r.id === q.target) + 1);
    used.push(response.strategy_used);
  }
  return { ranks: out, used };
}

describe("relevance on the labeled code-search fixture", () => {
  test("auto picks hybrid, and hybrid is no worse than sparse on MRR@10 and hit@1/5/10", async () => {
    const sparse = summarise((await ranks("sparse")).ranks);
    const auto = await ranks("auto");
    expect(new Set(auto.used)).toEqual(new Set(["hybrid"]));
    const hybrid = summarise(auto.ranks);
    expect(hybrid.mrr).toBeGreaterThanOrEqual(sparse.mrr);
    expect(hybrid.hit1).toBeGreaterThanOrEqual(sparse.hit1);
    expect(hybrid.hit5).toBeGreaterThanOrEqual(sparse.hit5);
    expect(hybrid.hit10).toBeGreaterThanOrEqual(sparse.hit10);
  });
});
