/**
 * `vltair ingest --prune`: after the walk, the documents of the ingest's scope under each PATH
 * that this run did not produce (files deleted, renamed, now ignored, excluded or skipped, and
 * chunk numbers past a file's count) are found by listing ids with the PATH's prefix and deleted.
 *
 * Only documents ingest itself names are candidates: `metadata.path` a string, `metadata.chunk`
 * an integer, and the id exactly `chunkDocId(metadata.path, metadata.chunk)`; anything else in
 * the scope (a note upserted by hand) is never touched. An id prefix over-matches (`src/a`
 * lists `src/ab.ts#1`), so each document's path is checked to be the PATH or under it. Under a
 * directory PATH with `--include` globs, only paths matching them (relative to the PATH) are
 * candidates: a narrower run prunes only what it could have ingested. `--exclude` does not
 * shield documents: excluded files are left out of the engine like ignored ones.
 */
import picomatch from "picomatch";
import { chunkDocId, chunkIdPrefix, LIST_LIMIT_MAX, type Scope } from "../context/mod.ts";
import type { ContextClient, ListPage } from "./context-client.ts";
import type { SourceRoot } from "./ingest-sources.ts";

/** A listed document, as far as pruning looks at it. */
export type ListedDoc = Pick<ListPage["documents"][number], "id" | "metadata">;

/** The document path of a document ingest wrote, or null when ingest did not write it. */
export function ingestedPath(doc: ListedDoc): string | null {
  const docPath = doc.metadata?.path;
  const chunk = doc.metadata?.chunk;
  if (typeof docPath !== "string" || typeof chunk !== "number" || !Number.isSafeInteger(chunk))
    return null;
  return chunkDocId(docPath, chunk) === doc.id ? docPath : null;
}

/** `docPath` relative to `root` when it is the root or below it; null otherwise. */
export function relativeTo(root: SourceRoot, docPath: string): string | null {
  if (docPath === root.docPath) return "";
  if (root.kind === "file") return null;
  if (root.docPath === "") return docPath;
  return docPath.startsWith(`${root.docPath}/`) ? docPath.slice(root.docPath.length + 1) : null;
}

/**
 * A predicate: is `doc` a prune candidate under `root` (ingest wrote it, its path is the root or
 * below it, and, under a directory, it matches `include` when any is given)? Whether this run
 * produced it is checked separately.
 *
 * @example
 * ```ts
 * const under = pruneFilter({ docPath: "src/a", kind: "dir" }, []);
 * under({ id: "src/ab.ts#1", metadata: { path: "src/ab.ts", chunk: 1 } }); // false
 * ```
 */
export function pruneFilter(
  root: SourceRoot,
  include: readonly string[],
): (doc: ListedDoc) => boolean {
  const matches = include.length === 0 ? () => true : picomatch([...include], { dot: true });
  return (doc) => {
    const docPath = ingestedPath(doc);
    if (docPath === null) return false;
    const rel = relativeTo(root, docPath);
    if (rel === null) return false;
    return rel === "" || matches(rel);
  };
}

/**
 * Ids of `scope` under the roots that are candidates and not in `produced`, sorted, each once.
 * Pages through `list` with the id prefix of each root.
 */
export async function staleIds(
  client: ContextClient,
  scope: Scope,
  roots: readonly SourceRoot[],
  include: readonly string[],
  produced: ReadonlySet<string>,
): Promise<string[]> {
  const stale = new Set<string>();
  for (const root of roots) {
    const candidate = pruneFilter(root, include);
    const prefix = chunkIdPrefix(root.docPath);
    let cursor: string | null = null;
    do {
      const page: ListPage = await client.list({ scope, prefix, limit: LIST_LIMIT_MAX, cursor });
      for (const doc of page.documents)
        if (!produced.has(doc.id) && candidate(doc)) stale.add(doc.id);
      cursor = page.next_cursor;
    } while (cursor !== null);
  }
  return [...stale].sort();
}
