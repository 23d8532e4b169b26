/**
 * The context state as a fold of the WAL: restart from a snapshot answers identically without
 * re-indexing, time travel answers as the store stood, concurrent writers never expose half a
 * batch and do not change the final ranking (CE-7, CE-12, CE-15).
 */

import { describe, expect, test } from "bun:test";
import {
  ContextService,
  createContextMachine,
  createHashEmbedder,
  resolveContextLimits,
  type SearchRequest,
} from "../../../src/context/mod.ts";
import { createStorage, openDataDir, type Storage } from "../../../src/storage/mod.ts";
import { callAs } from "../../support/call.ts";
import { seededRandom } from "../../support/random.ts";
import { tempDir } from "../../support/tmp.ts";

const WORDS =
  "parse config loader render widget kettle teapot zeppelin buffer stream token cache index query".split(
    " ",
  );

async function open(
  dir: string,
): Promise<{ storage: Storage; context: ContextService; replayedRecords: number }> {
  const storage = createStorage(openDataDir(dir), { fsync: "none" });
  const machine = storage.register(createContextMachine());
  const { replayedRecords } = await storage.recover();
  const context = new ContextService({
    machine,
    storage,
    embedder: createHashEmbedder({ dimensions: 32 }),
    limits: resolveContextLimits(),
    tokenizer: "code",
  });
  return { storage, context, replayedRecords };
}

function sentence(random: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

const QUERIES: SearchRequest[] = [
  { query: "config loader", k: 10, strategy: "sparse" },
  { query: "kettle teapot", k: 10, strategy: "dense" },
  { query: "render widget cache", k: 10, strategy: "hybrid" },
  {
    query: "token stream",
    k: 5,
    strategy: "hybrid",
    fusion: { method: "weighted", dense_weight: 0.3, sparse_weight: 0.7 },
  },
  {
    query: "index",
    k: 10,
    strategy: "auto",
    filters: { field: "metadata.n", op: "lt", value: 40 },
    include: ["text", "metadata", "scores"],
  },
];

async function answers(context: ContextService, tenant: string, at?: SearchRequest["at"]) {
  const out = [];
  for (const q of QUERIES) {
    const r = await context.search(callAs(tenant), at === undefined ? q : { ...q, at });
    out.push({ results: r.results, strategy_used: r.strategy_used, wal_index: r.wal_index });
  }
  return out;
}

describe("fold, snapshot and replay", () => {
  test("restart from a snapshot plus a log tail answers identically, without re-indexing", async () => {
    const dir = tempDir();
    const random = seededRandom(11);
    let { storage, context } = await open(dir);
    for (let batch = 0; batch < 6; batch++) {
      const items = Array.from({ length: 20 }, (_, i) => ({
        id: `doc-${(batch * 13 + i) % 90}`,
        scope: { kind: "global" as const },
        text: sentence(random, 12),
        metadata: { n: batch * 20 + i },
      }));
      await context.upsert(callAs("t1"), { items });
      if (batch === 3) await storage.takeSnapshot();
    }
    await context.delete(callAs("t1"), { kind: "global" }, "doc-5");
    const before = await answers(context, "t1");
    const walIndex = storage.lastIndex;
    await storage.close();
    let replayedRecords: number;
    ({ storage, context, replayedRecords } = await open(dir));
    expect(storage.lastIndex).toBe(walIndex);
    // The snapshot after batch 3 carries the indexes: only batches 4, 5 and the delete replay.
    expect(replayedRecords).toBe(3);
    expect(await answers(context, "t1")).toEqual(before);
    await storage.takeSnapshot();
    await storage.close();
    ({ storage, context, replayedRecords } = await open(dir));
    expect(replayedRecords).toBe(0);
    expect(await answers(context, "t1")).toEqual(before);
    await storage.close();
  });

  test("time travel at every index equals the live answers recorded then", async () => {
    const dir = tempDir();
    const random = seededRandom(12);
    const { storage, context } = await open(dir);
    const recorded = new Map<number, unknown>();
    for (let step = 0; step < 8; step++) {
      const items = Array.from({ length: 10 }, (_, i) => ({
        id: `d${(step * 7 + i) % 25}`,
        scope: { kind: "global" as const },
        text: sentence(random, 10),
        metadata: { n: step * 10 + i },
      }));
      await context.upsert(callAs("t1"), { items });
      if (step === 4) await storage.takeSnapshot();
      if (step % 3 === 2)
        await context.delete(callAs("t1"), { kind: "global" }, `d${step}`).catch(() => undefined);
      recorded.set(storage.lastIndex, await answers(context, "t1"));
    }
    for (const [walIndex, expected] of recorded) {
      const past = await answers(context, "t1", { wal_index: walIndex });
      expect(past).toEqual(expected as typeof past);
    }
    await storage.close();
  });
});

describe("8 concurrent writers", () => {
  async function runWriters(seed: number): Promise<{ final: unknown; checks: number }> {
    const { storage, context } = await open(tempDir());
    const random = seededRandom(seed);
    const plans = Array.from({ length: 8 }, (_, w) =>
      Array.from({ length: 6 }, (_, b) =>
        Array.from({ length: 8 }, (_, i) => ({
          id: `w${w}-b${b}-i${i}`,
          scope: { kind: "global" as const },
          text: `${sentence(random, 6)} batch${w}x${b}`,
          metadata: { writer: w, batch: b },
        })),
      ),
    );
    const observed: { walIndex: number; results: unknown }[] = [];
    const writers = plans.map(async (batches) => {
      for (const items of batches) {
        await context.upsert(callAs("t1"), { items });
        const r = await context.search(callAs("t1"), {
          query: "cache token",
          k: 400,
          strategy: "sparse",
          include: ["metadata"],
        });
        observed.push({ walIndex: r.wal_index, results: r.results });
        // Every batch is whole in every answer: 8 documents per batch, all or none.
        const all = await context.search(callAs("t1"), {
          query: "batch",
          k: 1000,
          strategy: "sparse",
          include: ["metadata"],
        });
        expect(all.results.length % 8).toBe(0);
      }
    });
    await Promise.all(writers);
    let checks = 0;
    for (const o of observed.slice(0, 12)) {
      const again = await context.search(callAs("t1"), {
        query: "cache token",
        k: 400,
        strategy: "sparse",
        include: ["metadata"],
        at: { wal_index: o.walIndex },
      });
      expect(again.results).toEqual(o.results as typeof again.results);
      checks += 1;
    }
    const final = await context.search(callAs("t1"), {
      query: "cache token kettle",
      k: 50,
      strategy: "sparse",
    });
    await storage.close();
    return { final: final.results, checks };
  }

  test("no answer sees half a batch; the final ranking is the same whatever the interleaving", async () => {
    const first = await runWriters(5);
    const second = await runWriters(5);
    expect(first.checks).toBe(12);
    expect(second.final).toEqual(first.final);
  });
});
