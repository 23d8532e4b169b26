/** `vltair ingest --prune` and batch deletes: which listed documents are candidates, paging, halving. */
import { describe, expect, test } from "bun:test";
import type {
  ContextClient,
  DeleteBatchRequest,
  ListPage,
  ListQuery,
} from "../../../src/cli/context-client.ts";
import { DELETE_BATCH_ITEMS_MAX, deleteIds } from "../../../src/cli/ingest-deletes.ts";
import {
  ingestedPath,
  type ListedDoc,
  pruneFilter,
  relativeTo,
  staleIds,
} from "../../../src/cli/ingest-prune.ts";
import { chunkDocId, chunkIdPrefix } from "../../../src/context/ingest/items.ts";
import { DOC_ID_CHARS_MAX, type Scope } from "../../../src/context/mod.ts";
import { VltairError } from "../../../src/core/mod.ts";

/** A document as ingest writes it. */
const doc = (docPath: string, chunk = 1): ListedDoc => ({
  id: chunkDocId(docPath, chunk),
  metadata: { path: docPath, chunk, chunks: chunk },
});

describe("prune candidates", () => {
  test("an id prefix over-matches: the path must be the PATH or below it", () => {
    const dir = pruneFilter({ docPath: "src/a", kind: "dir" }, []);
    expect(dir(doc("src/a/x.ts"))).toBe(true);
    expect(dir(doc("src/a/deep/y.md", 3))).toBe(true);
    expect(dir(doc("src/ab.ts"))).toBe(false);
    expect(dir(doc("src/a-b/x.ts"))).toBe(false);
    expect(dir(doc("src/a.ts"))).toBe(false);
    // A file that became a directory of the same name: its old chunks are under the PATH.
    expect(dir(doc("src/a"))).toBe(true);
    const file = pruneFilter({ docPath: "src/a", kind: "file" }, []);
    expect(file(doc("src/a", 2))).toBe(true);
    expect(file(doc("src/ab.ts"))).toBe(false);
    expect(file(doc("src/a/x.ts"))).toBe(false);
    const cwd = pruneFilter({ docPath: "", kind: "dir" }, []);
    expect(cwd(doc("anything/at/all.ts"))).toBe(true);
  });

  test("only documents ingest names are candidates", () => {
    const all = pruneFilter({ docPath: "", kind: "dir" }, []);
    expect(all({ id: "note-7" })).toBe(false);
    expect(all({ id: "a.ts#1", metadata: { path: "a.ts" } })).toBe(false);
    expect(all({ id: "a.ts#1", metadata: { path: "a.ts", chunk: "1" } })).toBe(false);
    expect(all({ id: "a.ts#2", metadata: { path: "a.ts", chunk: 1 } })).toBe(false);
    expect(all({ id: "b.ts#1", metadata: { path: "a.ts", chunk: 1 } })).toBe(false);
    expect(all({ id: "a.ts#1", metadata: { path: "a.ts", chunk: 1.5 } })).toBe(false);
    expect(ingestedPath(doc("a.ts", 4))).toBe("a.ts");
    const long = `${"d/".repeat(200)}f.ts`;
    expect(ingestedPath(doc(long, 9))).toBe(long);
  });

  test("--include narrows candidates under a directory, relative to it; a file PATH ignores it", () => {
    const md = pruneFilter({ docPath: "docs", kind: "dir" }, ["**/*.md"]);
    expect(md(doc("docs/guide.md"))).toBe(true);
    expect(md(doc("docs/deep/.hidden.md"))).toBe(true);
    expect(md(doc("docs/tool.ts"))).toBe(false);
    const top = pruneFilter({ docPath: "docs", kind: "dir" }, ["*.md"]);
    expect(top(doc("docs/guide.md"))).toBe(true);
    expect(top(doc("docs/deep/guide.md"))).toBe(false);
    const file = pruneFilter({ docPath: "docs/tool.ts", kind: "file" }, ["**/*.md"]);
    expect(file(doc("docs/tool.ts", 2))).toBe(true);
    expect(relativeTo({ docPath: "docs", kind: "dir" }, "docs/a/b.md")).toBe("a/b.md");
    expect(relativeTo({ docPath: "docs", kind: "dir" }, "docsx/b.md")).toBeNull();
  });

  test("the id prefix of a long path is the head its hashed ids keep", () => {
    expect(chunkIdPrefix("src/cli")).toBe("src/cli");
    const long = `${"d/".repeat(200)}file.ts`;
    for (const cut of [10, 226, 227, 228, 300, long.length]) {
      const prefix = chunkIdPrefix(long.slice(0, cut));
      expect(chunkDocId(long, 7).startsWith(prefix)).toBe(true);
      expect(prefix.length).toBeLessThanOrEqual(DOC_ID_CHARS_MAX);
    }
    const emoji = `${"x".repeat(226)}${"😀".repeat(20)}`;
    const prefix = chunkIdPrefix(emoji);
    expect(prefix).toBe("x".repeat(226));
    expect(chunkDocId(emoji, 1).startsWith(prefix)).toBe(true);
  });
});

/** An in-memory engine of one scope with a small page and batch limit. */
function fakeClient(ids: string[], batchItemsMax: number | null, refuseAbove = Infinity) {
  const at = (id: string) => id.lastIndexOf("#");
  const docs = new Map(
    ids.map((id) => [id, doc(id.slice(0, at(id)), Number(id.slice(at(id) + 1)))]),
  );
  const calls = { list: [] as ListQuery[], deletes: [] as number[] };
  let walIndex = 10;
  const client: ContextClient = {
    via: "data_dir",
    url: null,
    batchItemsMax,
    upsert: () => Promise.reject(new Error("unused")),
    search: () => Promise.reject(new Error("unused")),
    get: () => Promise.reject(new Error("unused")),
    delete: () => Promise.reject(new Error("unused")),
    close: () => Promise.resolve(),
    list: (query: ListQuery): Promise<ListPage> => {
      calls.list.push(query);
      const pageSize = 2; // small pages: paging is exercised
      const sorted = [...docs.keys()]
        .filter((id) => id.startsWith(query.prefix))
        .filter((id) => query.cursor === null || id > query.cursor)
        .sort();
      const page = sorted.slice(0, pageSize);
      return Promise.resolve({
        documents: page.map((id) => ({
          ...(docs.get(id) as ListedDoc),
          scope: { kind: "global" as const },
          version: 1,
          content_hash: "h",
          updated_at: "2026-01-01T00:00:00.000Z",
        })),
        next_cursor: sorted.length > pageSize ? (page.at(-1) as string) : null,
        wal_index: walIndex,
      });
    },
    deleteBatch: (request: DeleteBatchRequest) => {
      if (request.items.length > refuseAbove)
        return Promise.reject(new VltairError("payload_too_large", "too many"));
      calls.deletes.push(request.items.length);
      const missing = request.items.filter((item) => !docs.has(item.id));
      const present = request.items.filter((item) => docs.delete(item.id));
      if (present.length > 0) walIndex += 1;
      return Promise.resolve({ deleted: present.length, missing, wal_index: walIndex });
    },
  };
  return { client, calls, docs };
}

const GLOBAL: Scope = { kind: "global" };

describe("listing and deleting", () => {
  test("staleIds pages through each PATH's prefix and keeps what this run produced", async () => {
    const { client, calls } = fakeClient(
      ["src/a/x.ts#1", "src/a/x.ts#2", "src/a/y.ts#1", "src/ab.ts#1", "src/a.md#1", "lib/z.ts#1"],
      null,
    );
    const produced = new Set(["src/a/x.ts#1"]);
    const roots = [{ docPath: "src/a", kind: "dir" as const }];
    expect(await staleIds(client, GLOBAL, roots, [], produced)).toEqual([
      "src/a/x.ts#2",
      "src/a/y.ts#1",
    ]);
    expect(calls.list.map((q) => [q.prefix, q.cursor !== null])).toEqual([
      ["src/a", false],
      ["src/a", true],
      ["src/a", true],
    ]);
    expect(calls.list.every((q) => q.scope === GLOBAL)).toBe(true);
  });

  test("deleteIds splits at the batch limit, halves what the engine refuses, reports missing", async () => {
    const ids = Array.from({ length: 9 }, (_, i) => `f.ts#${i + 1}`);
    const small = fakeClient(ids, 4);
    const outcome = await deleteIds(small.client, GLOBAL, [...ids, "gone.ts#1"]);
    expect(outcome.deleted).toBe(9);
    expect([...outcome.missing]).toEqual(["gone.ts#1"]);
    expect(small.calls.deletes).toEqual([4, 4, 2]);
    expect(outcome.walIndex).toBe(13);

    const refusing = fakeClient(ids, null, 3);
    const halved = await deleteIds(refusing.client, GLOBAL, ids);
    expect(halved.deleted).toBe(9);
    expect(refusing.calls.deletes).toEqual([3, 2, 2, 2]);
    expect(refusing.docs.size).toBe(0);

    const none = await deleteIds(fakeClient([], null).client, GLOBAL, ["a#1"]);
    expect(none).toEqual({ deleted: 0, missing: new Set(["a#1"]), walIndex: null });
    expect(DELETE_BATCH_ITEMS_MAX).toBe(1000);
  });
});
