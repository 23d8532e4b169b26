/** A token of one tenant never reads, lists, searches, versions, merges or deletes another's documents. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ContextTestApp, contextApp, type Json } from "../../support/context.ts";

let t: ContextTestApp;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  t = await contextApp();
  tokenA = await t.tokenFor("tenant-a", "writer");
  tokenB = await t.tokenFor("tenant-b", "writer");
  const items = [
    { id: "secret", text: "tenant a secret plans about zeppelins", metadata: { owner: "a" } },
    { id: "secret", scope: { kind: "session", id: "s" }, text: "zeppelins in a session" },
  ];
  expect((await t.post("/v1/context/docs:upsert", { items }, tokenA)).status).toBe(200);
  await t.post(
    "/v1/context/docs:upsert",
    { items: [{ id: "secret", text: "zeppelins v2" }] },
    tokenA,
  );
});
afterAll(() => t.app.close());

describe("tenant B sees nothing of tenant A", () => {
  test.each([
    ["GET", "/v1/context/docs/secret"],
    ["GET", "/v1/context/docs/secret?scope=session:s"],
    ["GET", "/v1/context/docs/secret/versions"],
    ["GET", "/v1/context/docs/secret/versions/1"],
    ["DELETE", "/v1/context/docs/secret"],
  ])("%s %s -> 404", async (method, path) => {
    const r = await t.call(method, path, tokenB);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
    expect(JSON.stringify(r.body)).not.toContain("zeppelin");
  });

  test.each(["sparse", "dense", "hybrid", "auto"])(
    "search (%s) returns none of A's documents",
    async (strategy) => {
      const r = await t.post(
        "/v1/context/search",
        { query: "zeppelins secret plans", strategy, k: 50 },
        tokenB,
      );
      expect(r.status).toBe(200);
      expect(r.body.results).toEqual([]);
    },
  );

  test("list shows nothing of A; batch delete of A's ids deletes nothing", async () => {
    const list = await t.call("GET", "/v1/context/docs", tokenB);
    expect(list.body.documents.filter((d: { id: string }) => d.id === "secret")).toHaveLength(
      list.body.documents.length,
    );
    expect(JSON.stringify(list.body)).not.toContain('"owner":"a"');
    expect(
      list.body.documents.every((d: { scope: { kind: string } }) => d.scope.kind === "global"),
    ).toBe(true);
    const before = t.app.storage.lastIndex;
    const del = await t.post(
      "/v1/context/docs:delete",
      { items: [{ id: "secret", scope: { kind: "session", id: "s" } }] },
      tokenB,
    );
    expect(del.body).toMatchObject({ deleted: 0, wal_index: before });
    expect((await t.call("GET", "/v1/context/docs/secret?scope=session:s", tokenA)).status).toBe(
      200,
    );
  });

  test("merge by versions -> 404", async () => {
    const r = await t.post(
      "/v1/context/merge",
      { id: "secret", base_version: 1, ours_version: 2, theirs: "x" },
      tokenB,
    );
    expect(r.status).toBe(404);
  });

  test("upserting the same id in B makes B's own document; A's is unchanged", async () => {
    const r = await t.post(
      "/v1/context/docs:upsert",
      { items: [{ id: "secret", text: "b's own", expected_version: 0 }] },
      tokenB,
    );
    expect(r.body.items[0]).toMatchObject({ status: "inserted", version: 1 });
    const a = await t.call("GET", "/v1/context/docs/secret", tokenA);
    expect(a.body).toMatchObject({ text: "zeppelins v2", version: 2 });
    const b = await t.post(
      "/v1/context/search",
      { query: "zeppelins", strategy: "sparse" },
      tokenB,
    );
    expect(b.body.results).toEqual([]);
  });

  test("time travel of B does not reveal A's past", async () => {
    const r = await t.post(
      "/v1/context/search",
      { query: "zeppelins", at: { wal_index: 1 }, k: 10 },
      tokenB,
    );
    expect(r.body.results).toEqual([]);
  });

  test("A still sees its own documents", async () => {
    const r: Json = await t.post(
      "/v1/context/search",
      { query: "zeppelins", strategy: "sparse" },
      tokenA,
    );
    const scopes = r.body.results.map((h: { scope: unknown }) => JSON.stringify(h.scope));
    expect(scopes.sort()).toEqual(['{"kind":"global"}', '{"kind":"session","id":"s"}']);
  });
});
