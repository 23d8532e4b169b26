/**
 * The recorded embedder (issue 12): a tenant records the identity of the embedder that made its
 * vectors; a request that would embed with another is 409 `embedder_mismatch` naming both, and
 * applies nothing. `GET /v1/context/stats` shows what a tenant holds.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { cli } from "../../support/cli.ts";
import { contextApp } from "../../support/context.ts";
import { tempDir } from "../../support/tmp.ts";

const HASH_V2 = { provider: "hash", model: "hash-v2", dimensions: 384, normalizer: "l2" };
const DOCS = [
  { id: "a", scope: { kind: "global" }, text: "parse the config file and merge defaults" },
  { id: "b", scope: { kind: "session", id: "s1" }, text: "queue workers drain the lock table" },
  { id: "c", scope: { kind: "session", id: "s1" }, text: "token bucket rate limiter" },
];

async function seeded(overrides: Record<string, string> = {}) {
  const t = await contextApp(overrides);
  expect((await t.post("/v1/context/docs:upsert", { items: DOCS })).status).toBe(200);
  return t;
}

describe("recorded embedder", () => {
  test("stats name the recorded and configured embedder, counts, scopes and index sizes", async () => {
    const t = await seeded();
    await t.post("/v1/context/docs:upsert", { items: [{ ...DOCS[0], text: "parse it again" }] });
    const { status, body } = await t.call("GET", "/v1/context/stats");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      tenant: "default",
      documents: 3,
      versions: 4,
      embedder: HASH_V2,
      configured_embedder: HASH_V2,
      tokenizer: "code",
      wal_index: t.app.storage.lastIndex,
    });
    expect(body.scopes).toEqual([
      { scope: { kind: "global" }, documents: 1 },
      { scope: { kind: "session", id: "s1" }, documents: 2 },
    ]);
    expect(body.text_index.documents).toBe(3);
    expect(body.text_index.terms).toBeGreaterThan(5);
    expect(body.vector_index).toMatchObject({ vectors: 3, dimensions: 384 });
    // Another tenant sees only its own (empty) store.
    const other = await t.call("GET", "/v1/context/stats", await t.tokenFor("acme", "reader"));
    expect(other.body).toMatchObject({
      tenant: "acme",
      documents: 0,
      embedder: null,
      vector_index: null,
    });
    await t.app.close();
  });

  test("another embedder on the same data directory: searches and upserts that embed are 409, nothing applied", async () => {
    const first = await seeded();
    const dataDir = first.config.data_dir;
    await first.app.close();
    // hash-v1's `auto` searches sparse only (search-plan.ts), so it embeds nothing there.
    const cases = [
      { embedder: '{"provider":"hash","dimensions":256}', refused: ["dense", "hybrid", "auto"] },
      { embedder: '{"provider":"hash","model":"hash-v1"}', refused: ["dense", "hybrid"] },
    ];
    for (const { embedder, refused } of cases) {
      const t = await contextApp({ data_dir: dataDir, embedder });
      for (const strategy of refused) {
        const r = await t.post("/v1/context/search", { query: "lock table", strategy });
        expect(r.status).toBe(409);
        expect(r.body.error.code).toBe("embedder_mismatch");
        expect(r.body.error.details.recorded).toEqual(HASH_V2);
        expect(r.body.error.details.configured.provider).toBe("hash");
        expect(r.body.error.message).toContain("hash/hash-v2 (384-d, l2)");
      }
      // The sparse half needs no embedder and still answers.
      const sparse = await t.post("/v1/context/search", {
        query: "lock table",
        strategy: "sparse",
      });
      expect(sparse.status).toBe(200);
      expect(sparse.body.results[0].id).toBe("b");
      const before = await t.call("GET", "/v1/context/stats");
      const upsert = await t.post("/v1/context/docs:upsert", {
        items: [{ id: "d", scope: { kind: "global" }, text: "a new document" }],
      });
      expect(upsert.status).toBe(409);
      expect(upsert.body.error.code).toBe("embedder_mismatch");
      const after = await t.call("GET", "/v1/context/stats");
      expect(after.body).toEqual(before.body);
      expect(t.logs.some((l) => l.includes('"context.embedder_mismatch"'))).toBe(true);
      await t.app.close();
    }
    const back = await contextApp({ data_dir: dataDir });
    expect(
      (await back.post("/v1/context/search", { query: "lock table", strategy: "dense" })).status,
    ).toBe(200);
    await back.app.close();
  });

  test("vectors of unknown origin (sent by clients) record nothing; an embedded query gets a warning", async () => {
    const first = await contextApp({ embedder: '{"provider":"none"}' });
    const vector = Array.from({ length: 384 }, (_, i) => (i % 7) / 7);
    const r = await first.post("/v1/context/docs:upsert", {
      items: [{ id: "v", scope: { kind: "global" }, text: "client vector doc", vector }],
    });
    expect(r.status).toBe(200);
    expect((await first.call("GET", "/v1/context/stats")).body.embedder).toBeNull();
    const dataDir = first.config.data_dir;
    await first.app.close();
    const t = await contextApp({ data_dir: dataDir });
    const search = await t.post("/v1/context/search", {
      query: "client vector",
      strategy: "hybrid",
    });
    expect(search.status).toBe(200);
    expect(search.body.warnings.map((w: { code: string }) => w.code)).toContain(
      "embedder_unrecorded",
    );
    // A client vector of another dimension is a 400 naming the tenant's dimension.
    const bad = await t.post("/v1/context/search", { vector: [0.1, 0.2], strategy: "dense" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    await t.app.close();
  });
});

describe("vltair search on an ingested data directory", () => {
  test("uses the recorded embedder without --embedder; a different --embedder is refused", async () => {
    const root = tempDir();
    const src = path.join(root, "src");
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, "lock.ts"), "export function acquireLock(queue: string) {}\n");
    fs.writeFileSync(path.join(src, "parse.ts"), "export function parseConfig(text: string) {}\n");
    const dataDir = path.join(root, "data");
    const ingest = await cli([
      "ingest",
      src,
      "--data-dir",
      dataDir,
      "--wal-fsync",
      "none",
      "--embedder",
      '{"provider":"hash","model":"hash-v1"}',
    ]);
    expect(ingest.code).toBe(0);
    const dense = (...extra: string[]) =>
      cli(["search", "acquire lock", "--data-dir", dataDir, "--strategy", "dense", ...extra]);
    const search = await dense("--json");
    expect(search.stderr).toBe("");
    expect(search.code).toBe(0);
    expect(JSON.parse(search.stdout).results[0].metadata.path).toEndWith("lock.ts");
    const refused = await dense("--embedder", '{"provider":"hash"}');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("embedder_mismatch");
    expect(refused.stderr).toContain("hash/hash-v1 (384-d, l2)");
  });
});
