/**
 * The vector helper thread (config `vector_thread`) changes where vector work runs, never the
 * answers: the same upserts give the same hybrid, dense and filtered results with it on and off.
 */
import { expect, test } from "bun:test";
import { type ContextTestApp, contextApp, type Json } from "../../support/context.ts";
import { seededRandom } from "../../support/random.ts";

const WORDS = [
  "kettle",
  "teapot",
  "parseConfig",
  "read_file",
  "buffer",
  "stream",
  "vector",
  "index",
];

function corpus(count: number): { id: string; text: string; metadata: { group: string } }[] {
  const random = seededRandom(20261126);
  return Array.from({ length: count }, (_, i) => ({
    id: `doc-${String(i).padStart(4, "0")}`,
    text: Array.from({ length: 12 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" "),
    metadata: { group: i % 3 === 0 ? "a" : "b" },
  }));
}

async function answers(vectorThread: "true" | "false"): Promise<Json[]> {
  const t: ContextTestApp = await contextApp({ vector_thread: vectorThread });
  try {
    const docs = corpus(300);
    for (let i = 0; i < docs.length; i += 100) {
      const r = await t.post("/v1/context/docs:upsert", { items: docs.slice(i, i + 100) });
      expect(r.status).toBe(200);
    }
    const out: Json[] = [];
    for (const query of ["kettle teapot", "parseConfig buffer", "stream vector index"]) {
      for (const extra of [
        { strategy: "hybrid" },
        { strategy: "dense" },
        { strategy: "hybrid", filters: { field: "metadata.group", op: "eq", value: "a" } },
      ]) {
        const r = await t.post("/v1/context/search", {
          query,
          k: 10,
          include: ["scores"],
          ...extra,
        });
        expect(r.status).toBe(200);
        expect(r.body.results.length).toBe(10);
        out.push(r.body.results);
      }
    }
    return out;
  } finally {
    await t.app.close();
  }
}

test("hybrid, dense and filtered answers are identical with the vector thread on and off", async () => {
  const on = await answers("true");
  const off = await answers("false");
  expect(on).toEqual(off);
}, 60_000);
