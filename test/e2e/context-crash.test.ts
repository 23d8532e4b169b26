/** Every acknowledged upsert survives SIGKILL of the server mid-stream; nothing half-applied appears. */
import { describe, expect, test } from "bun:test";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, MAIN, poll, readyUrl, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

const TOKEN = "context-crash-admin-token-0123456789";
const env = { VLTAIR_ADMIN_TOKEN: TOKEN };
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const BATCH_ITEMS = 5;

async function serve(cwd: string): Promise<{ child: ReturnType<typeof start>; url: string }> {
  const child = start(BUN, [MAIN, "serve", "--port", "0"], { cwd, env });
  const url = await readyUrl(child);
  await poll(() => (child.stdout().includes('"server.ready"') ? true : undefined), 20_000, "ready");
  return { child, url };
}

describe.if(hasPosixSignals())("context writes under SIGKILL", () => {
  test("acknowledged batches are all present after a restart; every batch is whole", async () => {
    const cwd = tempDir();
    const first = await serve(cwd);
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
          const r = await fetch(`${first.url}/v1/context/docs:upsert`, {
            method: "POST",
            headers,
            body: JSON.stringify({ items }),
          });
          if (r.status === 200) acked.push(batch);
        } catch {
          return;
        }
      }
    });
    await poll(() => (acked.length >= 40 ? true : undefined), 30_000, "40 acknowledged batches");
    first.child.proc.kill("SIGKILL");
    stop = true;
    await first.child.exited;
    await Promise.all(writers);

    const second = await serve(cwd);
    const r = await fetch(`${second.url}/v1/context/search`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        query: "durable",
        strategy: "sparse",
        k: 1000,
        include: ["metadata"],
      }),
    });
    const body = (await r.json()) as { results: { metadata: { batch: number } }[] };
    const perBatch = new Map<number, number>();
    for (const hit of body.results) {
      perBatch.set(hit.metadata.batch, (perBatch.get(hit.metadata.batch) ?? 0) + 1);
    }
    for (const batch of acked) expect(perBatch.get(batch)).toBe(BATCH_ITEMS);
    for (const count of perBatch.values()) expect(count).toBe(BATCH_ITEMS);
    second.child.proc.kill("SIGTERM");
    expect(await second.child.exited).toBe(0);
  });
});
