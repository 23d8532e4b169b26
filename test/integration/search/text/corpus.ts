/**
 * Real-text corpora for the FTS5 parity test and bench/text.ts: `.ts`, `.js` and `.md` files
 * under node_modules directories, walked in sorted order (deterministic for a given tree) and
 * cut into line windows, plus identifier queries sampled with a fixed seed, and the FTS5 side
 * (bun:sqlite) of every comparison.
 */

import { Database } from "bun:sqlite";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tokenizeUnicode61 } from "../../../../src/search/text/mod.ts";
import { seededRandom } from "../../../support/random.ts";

/** A chunk of a file: lines [lineStart, lineStart + chunkLines). */
export interface Chunk {
  /** Zero-padded rank, so that key order equals FTS5 rowid order. */
  docKey: string;
  rowid: number;
  text: string;
}

/** How to cut files into chunks. */
export interface CorpusOptions {
  roots: string[];
  chunkLines: number;
  /** Lines between chunk starts; below `chunkLines` the windows overlap. */
  strideLines: number;
  chunksMax: number;
}

const EXTENSIONS = [".ts", ".js", ".md"];
/** Files over this size are skipped (bundles, generated tables). */
const FILE_BYTES_MAX = 512 * 1024;
/** Files whose mean line is longer than this are minified; skipped. */
const MEAN_LINE_CHARS_MAX = 200;
const CHUNK_CHARS_MAX = 16_384;
const FILES_MAX = 200_000;

/** Appends the corpus files under `root` (sorted walk; `.ts`/`.js`/`.md`, ≤ 512 KiB) to `files`. */
export function listFiles(root: string, files: string[]): void {
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return;
  }
  for (const name of names) {
    if (files.length >= FILES_MAX) return;
    const path = join(root, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (stat.isDirectory()) listFiles(path, files);
    else if (
      stat.isFile() &&
      stat.size <= FILE_BYTES_MAX &&
      EXTENSIONS.some((e) => name.endsWith(e))
    ) {
      files.push(path);
    }
  }
}

/** Chunks of the corpus, in walk order, keys `"00000000"`, `"00000001"`, … */
export function loadCorpus(options: CorpusOptions): Chunk[] {
  const files: string[] = [];
  for (const root of options.roots) listFiles(root, files);
  const chunks: Chunk[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    if (text.length / Math.max(1, lines.length) > MEAN_LINE_CHARS_MAX) continue;
    for (let start = 0; start < lines.length; start += options.strideLines) {
      if (chunks.length >= options.chunksMax) return chunks;
      const body = lines
        .slice(start, start + options.chunkLines)
        .join("\n")
        .slice(0, CHUNK_CHARS_MAX);
      if (body.trim().length === 0) continue;
      const rowid = chunks.length + 1;
      chunks.push({ docKey: String(rowid).padStart(8, "0"), rowid, text: body });
      if (start + options.chunkLines >= lines.length) break;
    }
  }
  return chunks;
}

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]{2,}/g;

/** `count` queries of 1–3 identifiers drawn with `seed` from the identifiers of the chunks. */
export function sampleQueries(chunks: readonly Chunk[], count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const queries: string[] = [];
  while (queries.length < count) {
    const words: string[] = [];
    const wordCount = 1 + Math.floor(random() * 3);
    for (let attempt = 0; words.length < wordCount && attempt < 100; attempt++) {
      const chunk = chunks[Math.floor(random() * chunks.length)];
      const identifiers = chunk?.text.match(IDENTIFIER) ?? [];
      const identifier = identifiers[Math.floor(random() * identifiers.length)];
      if (identifier !== undefined) words.push(identifier);
    }
    if (words.length > 0) queries.push(words.join(" "));
  }
  return queries;
}

/** FTS5's query for our OR semantics: the distinct unicode61 tokens, quoted, joined by OR. */
export function fts5Query(query: string): string | null {
  const limits = { tokenCharsMax: 256, tokensMax: 4096 };
  const tokens = [...new Set(tokenizeUnicode61(query, limits).tokens)];
  return tokens.length === 0 ? null : tokens.map((token) => `"${token}"`).join(" OR ");
}

/** An FTS5 table over the chunks (rowid = chunk rowid). */
export class Fts5Reference {
  readonly #db = new Database(":memory:");
  readonly #search;

  constructor(chunks: readonly Chunk[]) {
    this.#db.run("CREATE VIRTUAL TABLE docs USING fts5(body)");
    const insert = this.#db.prepare("INSERT INTO docs(rowid, body) VALUES (?, ?)");
    this.#db.transaction(() => {
      for (const chunk of chunks) insert.run(chunk.rowid, chunk.text);
    })();
    this.#search = this.#db.prepare(
      "SELECT rowid, -rank AS score FROM docs WHERE docs MATCH ? ORDER BY rank, rowid LIMIT ?",
    );
  }

  /** Top-k rowids and scores (negated rank) for our query text. */
  search(query: string, k: number): { rowid: number; score: number }[] {
    const match = fts5Query(query);
    if (match === null) return [];
    return this.searchMatch(match, k);
  }

  /** Top-k rowids and scores for a raw FTS5 MATCH expression. */
  searchMatch(match: string, k: number): { rowid: number; score: number }[] {
    return this.#search.all(match, k) as { rowid: number; score: number }[];
  }

  /** Deletes a row (to check statistics after removal). */
  remove(rowid: number): void {
    this.#db.run("DELETE FROM docs WHERE rowid = ?", [rowid]);
  }

  close(): void {
    this.#db.close();
  }
}

/** |A ∩ B| / max(|A|, |B|); 1 when both are empty. */
export function overlap(left: readonly string[], right: readonly string[]): number {
  const size = Math.max(left.length, right.length);
  if (size === 0) return 1;
  const rightSet = new Set(right);
  return left.filter((key) => rightSet.has(key)).length / size;
}

export { seededRandom };
