/** Search through the HTTP route: strategies, fusion, include, filters, scope, validation (CE-3/4/7/8/9). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hashEmbed } from "../../../src/context/mod.ts";
import { type ContextTestApp, contextApp, type Json } from "../../support/context.ts";
import { seededRandom } from "../../support/random.ts";

const UPSERT = "/v1/context/docs:upsert";
const SEARCH = "/v1/context/search";
const DIMS = 8;

const ids = (body: Json): string[] => body.results.map((r: { id: string }) => r.id);

describe("with client vectors (embedder none)", () => {
  let t: ContextTestApp;
  const random = seededRandom(7);
  const vectors = new Map<string, number[]>();
  beforeAll(async () => {
    t = await contextApp({ embedder: '{"provider":"none"}' });
    const items = [];
    for (let i = 0; i < 300; i++) {
      const id = `d${String(i).padStart(3, "0")}`;
      const vector = Array.from({ length: DIMS }, () => random() * 2 - 1);
      vectors.set(id, vector);
      items.push({
        id,
        text: `chunk ${id} ${i % 3 === 0 ? "parseConfig loader" : "render widget"} number ${i}`,
        vector,
        metadata: {
          n: i,
          lang: i % 3 === 0 ? "ts" : "md",
          tags: [`t${i % 5}`],
          path: `src/f${i % 7}.ts`,
        },
        ...(i % 10 === 0 ? { scope: { kind: "session", id: "s1" } } : {}),
      });
    }
    expect((await t.post(UPSERT, { items })).body.inserted).toBe(300);
  });
  afterAll(() => t.app.close());

  const cosine = (a: number[], b: number[]) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += (a[i] as number) * (b[i] as number);
      na += (a[i] as number) ** 2;
      nb += (b[i] as number) ** 2;
    }
    return dot / Math.sqrt(na * nb);
  };
  const exact = (query: number[], admit: (id: string) => boolean, k: number) =>
    [...vectors.entries()]
      .filter(([id]) => admit(id))
      .map(([id, v]) => ({ id, s: cosine(query, v) }))
      .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
      .slice(0, k)
      .map((x) => x.id);

  test("dense returns the exact nearest neighbours (small index)", async () => {
    const query = vectors.get("d042") as number[];
    const r = await t.post(SEARCH, { vector: query, k: 10, strategy: "dense" });
    expect(r.body.strategy_used).toBe("dense");
    expect(ids(r.body)).toEqual(exact(query, () => true, 10));
    expect(r.body.results[0].scores.dense).toBeCloseTo(1, 5);
  });

  test("a filter applies inside the walk: k results when k admitted documents exist", async () => {
    const query = vectors.get("d001") as number[];
    const filters = { field: "metadata.lang", op: "eq", value: "ts" };
    const r = await t.post(SEARCH, { vector: query, k: 25, strategy: "dense", filters });
    const admitted = (id: string) => Number(id.slice(1)) % 3 === 0;
    expect(ids(r.body)).toEqual(exact(query, admitted, 25));
  });

  test("auto picks by input: vector only -> dense, text only -> sparse, both -> hybrid", async () => {
    const v = vectors.get("d003") as number[];
    expect((await t.post(SEARCH, { vector: v })).body.strategy_used).toBe("dense");
    expect((await t.post(SEARCH, { query: "parseConfig" })).body.strategy_used).toBe("sparse");
    const both = await t.post(SEARCH, { query: "parseConfig", vector: v, include: ["scores"] });
    expect(both.body.strategy_used).toBe("hybrid");
    const top = both.body.results[0];
    expect(top.scores.fused).toBe(top.score);
  });

  test("scope restricts both halves", async () => {
    const r = await t.post(SEARCH, {
      query: "chunk",
      vector: vectors.get("d010"),
      k: 50,
      scope: { kind: "session", id: "s1" },
    });
    expect(r.body.results.length).toBe(30);
    for (const hit of r.body.results) expect(hit.scope).toEqual({ kind: "session", id: "s1" });
  });

  test("include: default metadata+scores; explicit list gives exactly those fields", async () => {
    const plain = await t.post(SEARCH, { query: "parseConfig", k: 1 });
    expect(Object.keys(plain.body.results[0]).sort()).toEqual([
      "id",
      "metadata",
      "scope",
      "score",
      "scores",
      "version",
    ]);
    const bare = await t.post(SEARCH, { query: "parseConfig", k: 1, include: [] });
    expect(Object.keys(bare.body.results[0]).sort()).toEqual(["id", "scope", "score", "version"]);
    const text = await t.post(SEARCH, { query: "parseConfig", k: 1, include: ["text"] });
    expect(text.body.results[0].text).toContain("parseConfig");
  });

  test("a filter as a JSON string equals the same filter as an object (CE-9)", async () => {
    const filter = {
      and: [
        { field: "metadata.n", op: "gte", value: 100 },
        { field: "metadata.lang", op: "eq", value: "md" },
      ],
    };
    const asObject = await t.post(SEARCH, { query: "render", k: 20, filters: filter });
    const asString = await t.post(SEARCH, {
      query: "render",
      k: 20,
      filters: JSON.stringify(filter),
    });
    expect(ids(asString.body)).toEqual(ids(asObject.body));
    expect(asObject.body.results.length).toBe(20);
    for (const hit of asObject.body.results) expect(hit.metadata.n).toBeGreaterThanOrEqual(100);
  });

  test.each([
    ["eq", { field: "metadata.lang", op: "eq", value: "ts" }, (n: number) => n % 3 === 0],
    ["ne", { field: "metadata.lang", op: "ne", value: "ts" }, (n: number) => n % 3 !== 0],
    ["lt", { field: "metadata.n", op: "lt", value: 10 }, (n: number) => n < 10],
    ["lte", { field: "metadata.n", op: "lte", value: 10 }, (n: number) => n <= 10],
    ["gt", { field: "metadata.n", op: "gt", value: 290 }, (n: number) => n > 290],
    ["gte", { field: "metadata.n", op: "gte", value: 290 }, (n: number) => n >= 290],
    [
      "in",
      { field: "metadata.n", op: "in", value: [1, 2, 250] },
      (n: number) => [1, 2, 250].includes(n),
    ],
    ["nin", { field: "metadata.tags", op: "nin", value: ["t0"] }, () => true],
    ["exists", { field: "metadata.missing", op: "exists", value: false }, () => true],
    [
      "prefix",
      { field: "metadata.path", op: "prefix", value: "src/f1" },
      (n: number) => n % 7 === 1,
    ],
    [
      "contains (array)",
      { field: "metadata.tags", op: "contains", value: "t4" },
      (n: number) => n % 5 === 4,
    ],
    [
      "contains (string)",
      { field: "id", op: "contains", value: "d29" },
      (n: number) => String(n).padStart(3, "0").startsWith("29"),
    ],
    ["not", { not: { field: "metadata.lang", op: "eq", value: "ts" } }, (n: number) => n % 3 !== 0],
    [
      "or",
      {
        or: [
          { field: "metadata.n", op: "eq", value: 5 },
          { field: "id", op: "eq", value: "d007" },
        ],
      },
      (n: number) => n === 5 || n === 7,
    ],
    [
      "scope.kind",
      { field: "scope.kind", op: "eq", value: "session" },
      (n: number) => n % 10 === 0,
    ],
  ])("filter op %s selects exactly the matching documents", async (_, filters, admit) => {
    const r = await t.post(SEARCH, {
      query: "chunk",
      k: 300,
      strategy: "sparse",
      filters,
      include: [],
    });
    const expected = [...vectors.keys()].filter((id) => admit(Number(id.slice(1)))).sort();
    expect(ids(r.body).sort()).toEqual(expected);
  });

  test.each([
    [{ field: "metadata.n", op: "near", value: 1 }, "$.op"],
    [{ and: [{ field: "id", op: "eq" }] }, "$.and[0].value"],
    [{ field: "colour", op: "eq", value: 1 }, "$.field"],
    ["{not json", "$"],
  ])("an invalid filter -> 400 filters_invalid with details.path %#", async (filters, path) => {
    const r = await t.post(SEARCH, { query: "x", filters });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("filters_invalid");
    expect(r.body.error.details.path).toBe(path);
  });

  test.each([
    [{ query: "x", k: 0 }, "k"],
    [{ query: "x", k: 1.5 }, "k"],
    [{ query: "x", strategy: "magic" }, "strategy"],
    [{ query: "x", fusion: { method: "rrf", rrf_k: 0 } }, "fusion.rrf_k"],
    [{ query: "x", fusion: { method: "weighted", dense_weight: 1.5 } }, "fusion.dense_weight"],
    [{ query: "x", fusion: { method: "weighted", dense_weight: 0, sparse_weight: 0 } }, "fusion"],
    [{ query: "x", fusion: { method: "borda" } }, "fusion.method"],
    [{ query: "x", include: ["vectors"] }, "include.0"],
    [{ strategy: "sparse", vector: [1, 2, 3, 4, 5, 6, 7, 8] }, "query"],
    [{ query: "x", strategy: "dense" }, "vector"],
    [{}, "query"],
    [{ query: "x", at: { wal_index: 999 } }, "at.wal_index"],
    [{ query: "x", at: { timestamp: "yesterday" } }, "at.timestamp"],
  ])("invalid search %j -> 400 validation_failed naming %s", async (body, field) => {
    const r = await t.post(SEARCH, body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("validation_failed");
    expect(r.body.error.details.field).toBe(field);
  });

  test("weighted fusion min-max normalises each half", async () => {
    const r = await t.post(SEARCH, {
      query: "parseConfig",
      vector: vectors.get("d000"),
      k: 5,
      fusion: { method: "weighted", dense_weight: 1, sparse_weight: 0 },
    });
    expect(r.body.results[0].id).toBe("d000");
    expect(r.body.results[0].score).toBeCloseTo(1, 9);
  });
});

describe("with the hash embedder", () => {
  let t: ContextTestApp;
  beforeAll(async () => {
    t = await contextApp();
  });
  afterAll(() => t.app.close());

  test("equal scores order by id ascending, identically on every run (CE-7)", async () => {
    const items = ["t-c", "t-a", "t-b", "t-e", "t-d"].map((id) => ({
      id,
      text: "same words here",
    }));
    await t.post(UPSERT, { items });
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await t.post(SEARCH, { query: "same words", k: 5 }));
    expect(ids(runs[0]?.body)).toEqual(["t-a", "t-b", "t-c", "t-d", "t-e"]);
    for (const r of runs) expect(r.body.results).toEqual(runs[0]?.body.results);
    expect(runs[0]?.body.strategy_used).toBe("hybrid");
  });

  test("time travel: at a past wal_index answers as the store stood then", async () => {
    const first = await t.post(UPSERT, {
      items: [{ id: "tt", text: "original words about kettles" }],
    });
    const then = await t.post(SEARCH, { query: "kettles", include: ["text"] });
    await t.post(UPSERT, { items: [{ id: "tt", text: "rewritten about teapots" }] });
    await t.post(UPSERT, { items: [{ id: "tt2", text: "more kettles" }] });
    const past = await t.post(SEARCH, {
      query: "kettles",
      include: ["text"],
      at: { wal_index: first.body.wal_index },
    });
    expect(past.body.wal_index).toBe(first.body.wal_index);
    expect(past.body.results).toEqual(then.body.results);
    const now = await t.post(SEARCH, { query: "kettles", strategy: "sparse" });
    expect(ids(now.body)).toEqual(["tt2"]);
    const byTime = await t.post(SEARCH, {
      query: "kettles",
      include: ["text"],
      at: { timestamp: "2000-01-01T00:00:00Z" },
    });
    expect(byTime.body).toMatchObject({ wal_index: 0, results: [] });
  });
});

describe("when the embedder fails", () => {
  let t: ContextTestApp;
  beforeAll(async () => {
    t = await contextApp({
      embedder: JSON.stringify({
        provider: "openai",
        base_url: "http://127.0.0.1:9",
        model: "m",
        dimensions: 4,
        retries: 0,
        timeout_ms: 2000,
      }),
    });
  });
  afterAll(() => t.app.close());

  test("upsert needing embeddings -> 503 embedding_unavailable, nothing applied", async () => {
    const r = await t.post(UPSERT, { items: [{ id: "a", text: "needs a vector" }] });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("embedding_unavailable");
    expect(t.app.storage.lastIndex).toBe(0);
  });

  test("auto falls back to sparse and says so; explicit dense and hybrid get 503", async () => {
    await t.post(UPSERT, { items: [{ id: "a", text: "stored without a vector" }], embed: false });
    const auto = await t.post(SEARCH, { query: "stored" });
    expect(auto.status).toBe(200);
    expect(auto.body.strategy_used).toBe("sparse");
    expect(auto.body.warnings[0].code).toBe("embedding_unavailable");
    expect(ids(auto.body)).toEqual(["a"]);
    for (const strategy of ["dense", "hybrid"]) {
      const r = await t.post(SEARCH, { query: "stored", strategy });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("embedding_unavailable");
    }
  });
});

describe("with an OpenAI-compatible embedder (a fake server on 127.0.0.1)", () => {
  let t: ContextTestApp;
  let failing = false;
  const seenAuth: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      seenAuth.push(request.headers.get("authorization") ?? "");
      if (failing) return new Response("overloaded", { status: 503 });
      const body = (await request.json()) as { input: string[]; dimensions: number };
      return Response.json({
        data: body.input.map((text, index) => ({ index, embedding: [...hashEmbed(text, 16)] })),
      });
    },
  });
  const API_KEY = "sk-embedder-secret-0123456789";
  beforeAll(async () => {
    t = await contextApp(
      {
        embedder: JSON.stringify({
          provider: "openai",
          base_url: `http://127.0.0.1:${server.port}`,
          model: "fake",
          dimensions: 16,
          retries: 1,
          backoff_ms: 1,
        }),
      },
      { VLTAIR_EMBEDDER_API_KEY: API_KEY },
    );
  });
  afterAll(async () => {
    await t.app.close();
    server.stop(true);
  });

  test("upserts are embedded by the endpoint; hybrid search uses its query vector", async () => {
    const up = await t.post(UPSERT, {
      items: [
        { id: "k1", text: "kettle boils water" },
        { id: "k2", text: "teapot pours tea" },
      ],
    });
    expect(up.body.inserted).toBe(2);
    expect((await t.call("GET", "/v1/context/docs/k1")).body.has_vector).toBe(true);
    const r = await t.post(SEARCH, { query: "kettle", include: ["scores"] });
    expect(r.body.strategy_used).toBe("hybrid");
    expect(r.body.results[0]).toMatchObject({ id: "k1" });
    expect(r.body.results[0].scores.dense).toBeGreaterThan(0);
    expect(seenAuth.every((h) => h === `Bearer ${API_KEY}`)).toBe(true);
  });

  test("when it fails: upsert 503 with nothing applied, auto falls back, the key is never logged", async () => {
    failing = true;
    const before = t.app.storage.lastIndex;
    const up = await t.post(UPSERT, { items: [{ id: "k3", text: "new" }] });
    expect(up.body.error.code).toBe("embedding_unavailable");
    expect(t.app.storage.lastIndex).toBe(before);
    const auto = await t.post(SEARCH, { query: "kettle" });
    expect(auto.body).toMatchObject({ strategy_used: "sparse" });
    expect(auto.body.results[0].id).toBe("k1");
    failing = false;
    expect(t.logs.join("\n")).not.toContain(API_KEY);
  });
});

describe("a repeated filter follows every write (admission views)", () => {
  let t: ContextTestApp;
  beforeAll(async () => {
    t = await contextApp({ embedder: '{"provider":"none"}' });
  });
  afterAll(() => t.app.close());

  test("inserts, updates that leave or enter the filter, and deletes are all seen", async () => {
    const doc = (id: string, lang: string, v: number[]) => ({
      id,
      text: `word ${id}`,
      vector: v,
      metadata: { lang },
    });
    await t.post(UPSERT, {
      items: [doc("a", "md", [1, 0]), doc("b", "ts", [0, 1]), doc("c", "md", [1, 1])],
    });
    const run = async () => {
      const out: string[][] = [];
      for (const strategy of ["sparse", "dense", "hybrid"]) {
        const r = await t.post(SEARCH, {
          query: "word",
          vector: [1, 0.5],
          strategy,
          k: 10,
          filters: { field: "metadata.lang", op: "eq", value: "md" },
        });
        out.push(ids(r.body).sort());
      }
      return out;
    };
    expect(await run()).toEqual([
      ["a", "c"],
      ["a", "c"],
      ["a", "c"],
    ]);
    await t.post(UPSERT, {
      items: [doc("d", "md", [0.5, 0.5]), doc("a", "ts", [1, 0]), doc("b", "md", [0, 1])],
    });
    expect(await run()).toEqual([
      ["b", "c", "d"],
      ["b", "c", "d"],
      ["b", "c", "d"],
    ]);
    await t.call("DELETE", "/v1/context/docs/c");
    expect(await run()).toEqual([
      ["b", "d"],
      ["b", "d"],
      ["b", "d"],
    ]);
    const none = await t.post(SEARCH, {
      query: "word",
      vector: [1, 0],
      filters: { field: "metadata.lang", op: "eq", value: "go" },
    });
    expect(none.body.results).toEqual([]);
  });
});

describe("time travel past the retained history", () => {
  test("a target before the oldest kept snapshot is 404 not_found (history_unavailable)", async () => {
    const t = await contextApp({
      storage_limits: JSON.stringify({
        snapshots_kept: 1,
        segment_bytes: 65536,
        record_bytes_max: 32768,
      }),
    });
    try {
      let fortieth = 0;
      for (let i = 0; i < 40; i++) {
        const up = await t.post(UPSERT, {
          items: [{ id: `h${i}`, text: `history ${"x".repeat(2000)} ${i}` }],
        });
        fortieth = up.body.wal_index;
      }
      const snap = await t.post("/v1/admin/snapshot", {});
      expect(snap.status).toBe(200);
      expect(snap.body.segments_removed).toBeGreaterThan(0);
      const old = await t.post(SEARCH, { query: "history", at: { wal_index: 1 } });
      expect(old.status).toBe(404);
      expect(old.body.error).toMatchObject({
        code: "not_found",
        details: { reason: "history_unavailable" },
      });
      const kept = await t.post(SEARCH, {
        query: "history",
        strategy: "sparse",
        k: 100,
        at: { wal_index: fortieth },
      });
      expect(kept.body.results).toHaveLength(40);
    } finally {
      await t.app.close();
    }
  });
});
