/**
 * The peers of bench/search.ts, built over the same chunks: SQLite FTS5 through bun:sqlite
 * (full-text), MiniSearch (full-text) and Orama 3 (full-text, vector and hybrid over the same
 * 384-d hash vectors vltair computes).
 */
import { Database } from "bun:sqlite";
import { create, insertMultiple, search as oramaSearch } from "@orama/orama";
import MiniSearch from "minisearch";
import type { BenchChunk } from "./corpus.ts";
import { DIMENSIONS } from "./vltair.ts";

/** FTS5 over the chunks (rowid = chunk rowid); `search` takes a prepared MATCH expression. */
export function buildFts5(chunks: readonly Pick<BenchChunk, "rowid" | "text">[]) {
  const db = new Database(":memory:");
  db.run("CREATE VIRTUAL TABLE docs USING fts5(body)");
  const insert = db.prepare("INSERT INTO docs(rowid, body) VALUES (?, ?)");
  db.transaction(() => {
    for (const chunk of chunks) insert.run(chunk.rowid, chunk.text);
  })();
  const statement = db.prepare(
    "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rank, rowid LIMIT ?",
  );
  return {
    search: (match: string, k: number): string[] =>
      (statement.all(match, k) as { rowid: number }[]).map((row) =>
        String(row.rowid).padStart(8, "0"),
      ),
    close: () => db.close(),
  };
}

/** MiniSearch 7 with its defaults over the chunk texts (OR semantics). */
export function buildMiniSearch(chunks: readonly BenchChunk[]) {
  const mini = new MiniSearch<BenchChunk>({ fields: ["text"], idField: "id" });
  mini.addAll(chunks);
  return {
    search: (query: string, k: number): string[] =>
      mini
        .search(query, { combineWith: "OR" })
        .slice(0, k)
        .map((r) => String(r.id)),
  };
}

/** Orama's vector similarity floor for our queries: below its default 0.8, see the README. */
export const ORAMA_SIMILARITY = 0.1;

/** Orama 3 over text, language and the chunk vectors (`vectors`: DIMENSIONS floats per chunk). */
export async function buildOrama(chunks: readonly BenchChunk[], vectors: Float32Array) {
  const db = create({
    schema: { text: "string", language: "enum", embedding: `vector[${DIMENSIONS}]` } as const,
  });
  const docs = chunks.map((c, i) => ({
    id: c.id,
    text: c.text,
    language: c.language,
    embedding: Array.from(vectors.subarray(i * DIMENSIONS, (i + 1) * DIMENSIONS)),
  }));
  await insertMultiple(db, docs, 1000);
  const ids = (result: { hits: { id: string }[] }): string[] => result.hits.map((h) => h.id);
  const vectorOf = (value: number[]) => ({ value, property: "embedding" });
  return {
    fulltext: async (term: string, k: number): Promise<string[]> =>
      ids(await oramaSearch(db, { term, limit: k })),
    vector: async (value: number[], k: number, language: string | null): Promise<string[]> => {
      const params = {
        mode: "vector" as const,
        vector: vectorOf(value),
        similarity: ORAMA_SIMILARITY,
        limit: k,
      };
      if (language === null) return ids(await oramaSearch(db, params));
      return ids(await oramaSearch(db, { ...params, where: { language: { eq: language } } }));
    },
    hybrid: async (
      term: string,
      value: number[],
      k: number,
      language: string | null,
    ): Promise<string[]> => {
      const params = {
        mode: "hybrid" as const,
        term,
        vector: vectorOf(value),
        similarity: ORAMA_SIMILARITY,
        limit: k,
      };
      if (language === null) return ids(await oramaSearch(db, params));
      return ids(await oramaSearch(db, { ...params, where: { language: { eq: language } } }));
    },
  };
}
