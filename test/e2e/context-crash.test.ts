/** Every acknowledged upsert survives SIGKILL of the server mid-stream; nothing half-applied appears. */
import { describe, expect, test } from "bun:test";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { CrashServer } from "../support/crash-server.ts";
import { poll } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

const TOKEN = "context-crash-admin-token-0123456789";
const BATCH_ITEMS = 5;

describe.if(hasPosixSignals())("context writes under SIGKILL", () => {
  test("acknowledged batches are all present after a restart; every batch is whole", async () => {
    const cwd = tempDir();
    const first = await CrashServer.start(cwd, TOKEN);
    const acked: number[] = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let b = 0; !stop; b++) {
        const batch = w * 10_000 + b;
        const items = Array.from({ length: BATCH_ITEMS }, (_, i) => ({
          id: `b${batch}-i${i}`,
          text: `crash batch${batch} item ${i} durable words`,
          metadata: { batch },
        }));
        try {
          const r = await first.fetch("/v1/context/docs:upsert", { items });
          if (r.status === 200) acked.push(batch);
        } catch {
          return;
        }
      }
    });
    await poll(() => (acked.length >= 40 ? true : undefined), 30_000, "40 acknowledged batches");
    const killed = first.kill();
    stop = true;
    await killed;
    await Promise.all(writers);

    const second = await CrashServer.start(cwd, TOKEN);
    const r = await second.json("/v1/context/search", {
      query: "durable",
      strategy: "sparse",
      k: 1000,
      include: ["metadata"],
    });
    const body = r.body as { results: { metadata: { batch: number } }[] };
    const perBatch = new Map<number, number>();
    for (const hit of body.results) {
      perBatch.set(hit.metadata.batch, (perBatch.get(hit.metadata.batch) ?? 0) + 1);
    }
    for (const batch of acked) expect(perBatch.get(batch)).toBe(BATCH_ITEMS);
    for (const count of perBatch.values()) expect(count).toBe(BATCH_ITEMS);
    expect(await second.stop()).toBe(0);
  });
});
