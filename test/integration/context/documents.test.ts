/** Upsert, get, versions, delete and merge through the HTTP routes (API.md, "Context engine"). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ContextTestApp, contextApp } from "../../support/context.ts";

let t: ContextTestApp;
beforeAll(async () => {
  t = await contextApp();
});
afterAll(() => t.app.close());

const UPSERT = "/v1/context/docs:upsert";

describe("upsert", () => {
  test("inserts, skips identical repeats within and across calls, updates on change", async () => {
    const first = await t.post(UPSERT, {
      items: [
        { id: "u1", text: "alpha", metadata: { b: 1, a: [1, "x"] } },
        { id: "u1", text: "alpha", metadata: { a: [1, "x"], b: 1 } },
        { id: "u2", scope: { kind: "session", id: "s1" }, text: "beta" },
      ],
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ inserted: 2, updated: 0, skipped: 1 });
    expect(first.body.items.map((i: { status: string }) => i.status)).toEqual([
      "inserted",
      "skipped",
      "inserted",
    ]);
    const again = await t.post(UPSERT, {
      items: [{ id: "u1", text: "alpha", metadata: { a: [1, "x"], b: 1 } }],
    });
    expect(again.body).toMatchObject({
      inserted: 0,
      updated: 0,
      skipped: 1,
      wal_index: first.body.wal_index,
    });
    const changed = await t.post(UPSERT, { items: [{ id: "u1", text: "alpha two" }] });
    expect(changed.body.items[0]).toEqual({
      id: "u1",
      scope: { kind: "global" },
      version: 2,
      status: "updated",
    });
    expect(changed.body.wal_index).toBeGreaterThan(first.body.wal_index);
    expect(changed.body.wal_index).toBe(t.app.storage.lastIndex);
  });

  test("get returns metadata exactly, per scope", async () => {
    await t.post(UPSERT, {
      items: [
        { id: "g1", text: "gamma", metadata: { n: 1.5, s: "é", nested: { deep: [null, true] } } },
      ],
    });
    const doc = await t.call("GET", "/v1/context/docs/g1");
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({
      id: "g1",
      scope: { kind: "global" },
      text: "gamma",
      version: 1,
      has_vector: true,
    });
    expect(doc.body.metadata).toEqual({ n: 1.5, s: "é", nested: { deep: [null, true] } });
    expect(doc.body.content_hash).toMatch(/^[0-9a-f]{64}$/);
    const session = await t.call("GET", "/v1/context/docs/u2?scope=session:s1");
    expect(session.body.text).toBe("beta");
    expect((await t.call("GET", "/v1/context/docs/u2")).status).toBe(404);
    const bad = await t.call("GET", "/v1/context/docs/u2?scope=galaxy:1");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
  });

  test("expected_version: a conflict rejects the whole batch and applies nothing", async () => {
    await t.post(UPSERT, { items: [{ id: "ev", text: "one" }] });
    const conflict = await t.post(UPSERT, {
      items: [
        { id: "ev-new", text: "would be inserted" },
        { id: "ev", text: "two", expected_version: 7 },
      ],
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe("version_conflict");
    expect(conflict.body.error.details).toMatchObject({
      index: 1,
      expected_version: 7,
      current_version: 1,
    });
    expect((await t.call("GET", "/v1/context/docs/ev-new")).status).toBe(404);
    expect((await t.call("GET", "/v1/context/docs/ev")).body.version).toBe(1);
    const ok = await t.post(UPSERT, { items: [{ id: "ev", text: "two", expected_version: 1 }] });
    expect(ok.body.items[0].version).toBe(2);
    const mustNotExist = await t.post(UPSERT, {
      items: [{ id: "ev", text: "three", expected_version: 0 }],
    });
    expect(mustNotExist.body.error.code).toBe("version_conflict");
  });

  test.each([
    [
      "an invalid item names its index",
      {
        items: [
          { id: "ok", text: "x" },
          { id: "", text: "y" },
        ],
      },
      400,
      "validation_failed",
      1,
    ],
    [
      "a control character in an id",
      { items: [{ id: "a\u0001b", text: "y" }] },
      400,
      "validation_failed",
      0,
    ],
    ["a missing text", { items: [{ id: "a" }] }, 400, "validation_failed", 0],
    [
      "a non-finite vector value",
      { items: [{ id: "a", text: "t", vector: [1, "x"] }] },
      400,
      "validation_failed",
      0,
    ],
    [
      "a wrong vector dimension",
      {
        items: [
          { id: "ok", text: "x" },
          { id: "a", text: "t", vector: [1, 2, 3] },
        ],
      },
      400,
      "validation_failed",
      1,
    ],
    [
      "an unknown field",
      { items: [{ id: "a", text: "t", colour: "red" }] },
      400,
      "validation_failed",
      0,
    ],
    [
      "metadata that is not an object",
      { items: [{ id: "a", text: "t", metadata: [1] }] },
      400,
      "validation_failed",
      0,
    ],
    ["an empty batch", { items: [] }, 400, "validation_failed", undefined],
  ])("%s -> nothing applied", async (_, body, status, code, index) => {
    const before = t.app.storage.lastIndex;
    const response = await t.post(UPSERT, body);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    if (index !== undefined) expect(response.body.error.details.index).toBe(index);
    expect(t.app.storage.lastIndex).toBe(before);
    expect((await t.call("GET", "/v1/context/docs/ok")).status).toBe(404);
  });

  test("a reader cannot write", async () => {
    const reader = await t.tokenFor("default", "reader");
    const response = await t.post(UPSERT, { items: [{ id: "r", text: "x" }] }, reader);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("forbidden");
  });
});

describe("limits", () => {
  let small: ContextTestApp;
  beforeAll(async () => {
    small = await contextApp({
      context_limits: JSON.stringify({
        batch_items_max: 2,
        text_chars_max: 10,
        metadata_bytes_max: 16,
        k_max: 5,
      }),
    });
  });
  afterAll(() => small.app.close());

  test.each([
    [
      "batch size",
      {
        items: [
          { id: "a", text: "1" },
          { id: "b", text: "2" },
          { id: "c", text: "3" },
        ],
      },
      413,
      "payload_too_large",
      undefined,
    ],
    [
      "text length",
      {
        items: [
          { id: "a", text: "1" },
          { id: "b", text: "12345678901" },
        ],
      },
      400,
      "validation_failed",
      1,
    ],
    [
      "metadata size",
      { items: [{ id: "a", text: "1", metadata: { k: "0123456789abcdef" } }] },
      400,
      "validation_failed",
      0,
    ],
  ])("%s over its limit -> %i %s", async (_, body, status, code, index) => {
    const response = await small.post(UPSERT, body);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.details.index).toBe(index);
    expect(small.app.storage.lastIndex).toBe(0);
  });

  test("k over k_max -> validation_failed naming k", async () => {
    const response = await small.post("/v1/context/search", { query: "x", k: 6 });
    expect(response.status).toBe(400);
    expect(response.body.error.details.field).toBe("k");
  });
});

describe("versions, delete, merge", () => {
  beforeAll(async () => {
    for (const text of [
      "line1\nline2\nline3",
      "line1\nLINE2\nline3",
      "line1\nline2\nline3\nline4",
    ]) {
      await t.post(UPSERT, { items: [{ id: "m", scope: { kind: "task", id: "t1" }, text }] });
    }
  });

  test("versions newest first, with the text of any past version", async () => {
    const versions = await t.call("GET", "/v1/context/docs/m/versions?scope=task:t1");
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    const walIndexes = versions.body.versions.map((v: { wal_index: number }) => v.wal_index);
    expect([...walIndexes].sort((a, b) => b - a)).toEqual(walIndexes);
    const v2 = await t.call("GET", "/v1/context/docs/m/versions/2?scope=task:t1");
    expect(v2.body).toMatchObject({ id: "m", version: 2, text: "line1\nLINE2\nline3" });
    expect((await t.call("GET", "/v1/context/docs/m/versions/9?scope=task:t1")).status).toBe(404);
    const bad = await t.call("GET", "/v1/context/docs/m/versions/x?scope=task:t1");
    expect(bad.body.error.code).toBe("validation_failed");
  });

  test("merge by strings: clean and conflicting", async () => {
    const clean = await t.post("/v1/context/merge", {
      base: "a\nb\nc",
      ours: "A\nb\nc",
      theirs: "a\nb\nC",
    });
    expect(clean.body).toEqual({
      merged: "A\nb\nC",
      conflicts: 0,
      added: 2,
      removed: 2,
      clean: true,
    });
    const conflict = await t.post("/v1/context/merge", {
      base: "a\nb",
      ours: "x\nb",
      theirs: "y\nb",
    });
    expect(conflict.body.merged).toBe("<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\nb");
    expect(conflict.body).toMatchObject({ conflicts: 1, clean: false });
  });

  test("merge by versions of a document", async () => {
    const merged = await t.post("/v1/context/merge", {
      id: "m",
      scope: { kind: "task", id: "t1" },
      base_version: 1,
      ours_version: 2,
      theirs: "line1\nline2\nline3\nline4",
    });
    expect(merged.body).toMatchObject({ merged: "line1\nLINE2\nline3\nline4", clean: true });
    const missing = await t.post("/v1/context/merge", {
      id: "m",
      base_version: 1,
      ours_version: 2,
      theirs: "",
    });
    expect(missing.status).toBe(404);
  });

  test("delete removes the document; a second delete is 404 and writes nothing", async () => {
    const deleted = await t.call("DELETE", "/v1/context/docs/m?scope=task:t1");
    expect(deleted.body).toEqual({ deleted: true, wal_index: t.app.storage.lastIndex });
    const before = t.app.storage.lastIndex;
    expect((await t.call("DELETE", "/v1/context/docs/m?scope=task:t1")).status).toBe(404);
    expect(t.app.storage.lastIndex).toBe(before);
    expect((await t.call("GET", "/v1/context/docs/m/versions?scope=task:t1")).status).toBe(404);
  });
});

describe("list and batch delete", () => {
  let l: ContextTestApp;
  beforeAll(async () => {
    l = await contextApp();
    const items = [];
    for (let i = 0; i < 25; i++)
      items.push({
        id: `src/f${String(i).padStart(2, "0")}.ts#1`,
        text: `file ${i}`,
        metadata: { i },
      });
    items.push({ id: "notes", scope: { kind: "session", id: "s1" }, text: "a note" });
    await l.post(UPSERT, { items });
  });
  afterAll(() => l.app.close());

  test("pages in (scope, id) order with a cursor; scope and prefix narrow it", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "" : `&cursor=${cursor}`;
      const page = await l.call("GET", `/v1/context/docs?limit=10${query}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.documents.map((d: { id: string }) => d.id));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(26);
    // Scope first ("global" < "session:s1"), then id.
    expect(seen[0]).toBe("src/f00.ts#1");
    expect(seen[25]).toBe("notes");
    const prefixed = await l.call("GET", "/v1/context/docs?prefix=src/f1&scope=global");
    expect(prefixed.body.documents.map((d: { id: string }) => d.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `src/f1${i}.ts#1`),
    );
    expect(prefixed.body.documents[0]).toMatchObject({ version: 1, metadata: { i: 10 } });
  });

  test.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["cursor=nonsense", "cursor"],
    ["scope=planet:x", "scope"],
  ])("GET /v1/context/docs?%s -> validation_failed naming %s", async (query, field) => {
    const r = await l.call("GET", `/v1/context/docs?${query}`);
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe(field);
  });

  test("batch delete is one record; missing ids are reported, not errors", async () => {
    const before = l.app.storage.lastIndex;
    const r = await l.post("/v1/context/docs:delete", {
      items: [
        { id: "src/f00.ts#1" },
        { id: "src/f01.ts#1" },
        { id: "nope" },
        { id: "notes", scope: { kind: "session", id: "s1" } },
      ],
    });
    // One context record, and its audit record in the same batch.
    expect(r.body).toEqual({
      deleted: 3,
      missing: [{ id: "nope", scope: { kind: "global" } }],
      wal_index: before + 2,
    });
    const again = await l.post("/v1/context/docs:delete", { items: [{ id: "src/f00.ts#1" }] });
    expect(again.body).toMatchObject({ deleted: 0, wal_index: before + 2 });
    expect((await l.call("GET", "/v1/context/docs")).body.documents).toHaveLength(23);
  });
});
