/**
 * The corpus of bench/search.ts: `.ts`, `.js` and `.md` files under node_modules trees (sorted
 * walk, minified files and files over 512 KiB skipped, as in test/integration/search/text/corpus.ts),
 * cut by the ingest chunker (`chunkText`, src/context/ingest/chunker.ts).
 *
 * The two node_modules trees of this machine give only ~11k chunks with the chunker's defaults
 * (~0.47M lines of eligible files), so a 100k corpus needs more than one pass: pass 0 is the
 * chunker's default output; each further pass chunks every file again starting a few lines in
 * (`shiftLines`) with another chunk size (`linesMax`), so its windows start and end elsewhere.
 * A window (same file, same line range) already taken by an earlier pass is skipped, so no two
 * chunks are the same window of the same file. Chunks are taken pass by pass, so `--quick`
 * (10k) holds only the chunker's default output.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { CHUNK_OPTIONS_DEFAULT, chunkText, languageOf } from "../../src/context/mod.ts";
import { listFiles } from "../../test/integration/search/text/corpus.ts";

/** One chunk, with the metadata the ingest CLI attaches. */
export interface BenchChunk {
  /** 1-based rank in the corpus; FTS5's rowid. */
  rowid: number;
  /** Zero-padded rowid: document id order equals rowid order (the tie-break of both engines). */
  id: string;
  path: string;
  language: string;
  startLine: number;
  endLine: number;
  text: string;
}

/** A chunk's metadata as the ingest CLI sets it (and as vltair's benchmarks upsert it). */
export function metadataOf(c: BenchChunk): Record<string, string | number> {
  return { path: c.path, language: c.language, start_line: c.startLine, end_line: c.endLine };
}

/** One chunking pass. */
export interface ChunkPass {
  shiftLines: number;
  linesMax: number;
}

/** What a pass contributed. */
export interface PassReport extends ChunkPass {
  chunks: number;
  duplicateWindowsSkipped: number;
}

const MEAN_LINE_CHARS_MAX = 200;

/** Pass 0 is the chunker's default; then shifted starts with other chunk sizes. */
export const CHUNK_PASSES: readonly ChunkPass[] = [
  { shiftLines: 0, linesMax: CHUNK_OPTIONS_DEFAULT.linesMax },
  { shiftLines: 7, linesMax: 48 },
  { shiftLines: 13, linesMax: 56 },
  { shiftLines: 19, linesMax: 40 },
  { shiftLines: 26, linesMax: 52 },
  { shiftLines: 31, linesMax: 44 },
  { shiftLines: 37, linesMax: 36 },
  { shiftLines: 3, linesMax: 32 },
  { shiftLines: 23, linesMax: 28 },
  { shiftLines: 11, linesMax: 24 },
  { shiftLines: 17, linesMax: 20 },
  { shiftLines: 5, linesMax: 16 },
  { shiftLines: 29, linesMax: 12 },
];

/** A tree to walk, and the name its files get in `metadata.path` (`<label>/<relative path>`). */
export interface CorpusRoot {
  dir: string;
  label: string;
}

interface SourceFile {
  path: string;
  lines: string[];
}

function readSources(roots: readonly CorpusRoot[]): SourceFile[] {
  const sources: SourceFile[] = [];
  for (const root of roots) {
    const paths: string[] = [];
    listFiles(root.dir, paths);
    for (const path of paths) {
      const text = readFileSync(path, "utf8");
      const lines = text.split("\n");
      if (text.length / Math.max(1, lines.length) > MEAN_LINE_CHARS_MAX) continue;
      sources.push({ path: `${root.label}/${relative(root.dir, path)}`, lines });
    }
  }
  return sources;
}

/** The corpus: up to `chunksMax` chunks, pass by pass, file by file. */
export function loadChunkCorpus(
  roots: readonly CorpusRoot[],
  chunksMax: number,
): { chunks: BenchChunk[]; passes: PassReport[]; files: number; lines: number } {
  const sources = readSources(roots);
  const chunks: BenchChunk[] = [];
  const passes: PassReport[] = [];
  const seen = new Set<string>();
  for (const pass of CHUNK_PASSES) {
    if (chunks.length >= chunksMax) break;
    const report: PassReport = { ...pass, chunks: 0, duplicateWindowsSkipped: 0 };
    passes.push(report);
    const options = { ...CHUNK_OPTIONS_DEFAULT, linesMax: pass.linesMax };
    for (const source of sources) {
      if (chunks.length >= chunksMax) break;
      if (source.lines.length <= pass.shiftLines) continue;
      const text = source.lines.slice(pass.shiftLines).join("\n");
      const language = languageOf(source.path);
      for (const chunk of chunkText(text, options)) {
        if (chunks.length >= chunksMax) break;
        const startLine = chunk.startLine + pass.shiftLines;
        const endLine = chunk.endLine + pass.shiftLines;
        const window = `${source.path}:${startLine}:${endLine}:${chunk.text.length}:${chunk.text.slice(0, 64)}`;
        if (seen.has(window)) {
          report.duplicateWindowsSkipped += 1;
          continue;
        }
        seen.add(window);
        const rowid = chunks.length + 1;
        chunks.push({
          rowid,
          id: String(rowid).padStart(8, "0"),
          path: source.path,
          language,
          startLine,
          endLine,
          text: chunk.text,
        });
        report.chunks += 1;
      }
    }
  }
  const lines = sources.reduce((sum, s) => sum + s.lines.length, 0);
  return { chunks, passes, files: sources.length, lines };
}
