import { describe, expect, test } from "bun:test";
import type { StoredDoc } from "../../../src/context/store/doc.ts";
import { DocMap } from "../../../src/context/store/doc-map.ts";

const doc = (scopeKey: string, id: string, version = 1): StoredDoc =>
  ({ scopeKey, id, version }) as StoredDoc;

describe("DocMap", () => {
  test("keys by scope and id; replacing keeps the size and the place", () => {
    const docs = new DocMap();
    docs.set(doc("global", "a"));
    docs.set(doc("repo:r1", "a"));
    docs.set(doc("global", "b"));
    docs.set(doc("global", "a", 2));
    expect(docs.size).toBe(3);
    expect(docs.get("global", "a")?.version).toBe(2);
    expect(docs.get("repo:r1", "a")?.version).toBe(1);
    expect(docs.has("repo:r1", "b")).toBe(false);
    expect(docs.get("repo:r2", "a")).toBeUndefined();
    expect([...docs.values()].map((d) => `${d.scopeKey}/${d.id}@${d.version}`)).toEqual([
      "global/a@2",
      "global/b@1",
      "repo:r1/a@1",
    ]);
  });

  test("delete reports what it removed and forgets empty scopes", () => {
    const docs = new DocMap();
    docs.set(doc("repo:r1", "a"));
    expect(docs.delete("repo:r1", "b")).toBe(false);
    expect(docs.delete("global", "a")).toBe(false);
    expect(docs.delete("repo:r1", "a")).toBe(true);
    expect(docs.size).toBe(0);
    expect([...docs.values()]).toEqual([]);
    docs.set(doc("repo:r1", "a", 3));
    expect(docs.size).toBe(1);
    expect(docs.get("repo:r1", "a")?.version).toBe(3);
  });

  test("an id holding the separator of the old flat key does not collide", () => {
    const docs = new DocMap();
    docs.set(doc("global", "x\u0000y"));
    docs.set(doc("global\u0000x", "y"));
    expect(docs.size).toBe(2);
  });
});
