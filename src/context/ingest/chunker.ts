/**
 * Splits a source file into overlapping line ranges for indexing. A chunk ends at a sensible
 * boundary near its size limit — a blank line, else a line that starts at column 0 (a new
 * top-level declaration), else the limit itself — and the next chunk starts `overlapLines`
 * earlier, so a match near a boundary is found with its context. A line longer than
 * `charsMax` (minified code) is cut into pieces of `charsMax` characters.
 */
import { assert } from "../../core/mod.ts";

/** One chunk: 1-based inclusive line range and its text. */
export interface Chunk {
  startLine: number;
  endLine: number;
  text: string;
}

/** Options of {@link chunkText}. */
export interface ChunkOptions {
  /** Most lines per chunk. */
  linesMax: number;
  /** Lines shared with the previous chunk. */
  overlapLines: number;
  /** Most characters per chunk (bounds the text length limit of upserts). */
  charsMax: number;
}

export const CHUNK_OPTIONS_DEFAULT: ChunkOptions = {
  linesMax: 60,
  overlapLines: 8,
  charsMax: 4000,
};

function boundaryScore(line: string): number {
  if (line.trim() === "") return 2;
  return /^\S/.test(line) ? 1 : 0;
}

/** The line index (exclusive end) where a chunk starting at `start` should end. */
function chunkEnd(lines: readonly string[], start: number, options: ChunkOptions): number {
  let end = start;
  let chars = 0;
  while (end < lines.length && end - start < options.linesMax) {
    const next = chars + (lines[end] as string).length + 1;
    if (next > options.charsMax && end > start) break;
    chars = next;
    end += 1;
  }
  if (end >= lines.length) return lines.length;
  const floor = start + Math.max(1, Math.floor((end - start) / 2));
  let best = end;
  let bestScore = -1;
  for (let i = end; i > floor; i--) {
    const score = boundaryScore(lines[i] as string);
    if (score > bestScore) {
      best = i;
      bestScore = score;
      if (score === 2) break;
    }
  }
  return best;
}

/**
 * Chunks a text.
 *
 * @example
 * ```ts
 * chunkText(source, CHUNK_OPTIONS_DEFAULT); // [{ startLine: 1, endLine: 52, text }, …]
 * ```
 */
export function chunkText(text: string, options: ChunkOptions = CHUNK_OPTIONS_DEFAULT): Chunk[] {
  assert(options.overlapLines < options.linesMax, "overlap is smaller than a chunk");
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < lines.length) {
    const first = lines[start] as string;
    if (first.length > options.charsMax) {
      for (let at = 0; at < first.length; at += options.charsMax) {
        chunks.push({
          startLine: start + 1,
          endLine: start + 1,
          text: first.slice(at, at + options.charsMax),
        });
      }
      start += 1;
      continue;
    }
    const end = chunkEnd(lines, start, options);
    const body = lines.slice(start, end).join("\n");
    if (body.trim() !== "") chunks.push({ startLine: start + 1, endLine: end, text: body });
    if (end >= lines.length) break;
    start = Math.max(start + 1, end - options.overlapLines);
  }
  return chunks;
}
