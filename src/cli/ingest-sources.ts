/**
 * What `vltair ingest PATH…` reads: a first pass lists the files (the walker applies
 * `.gitignore`, globs, size and binary checks) so progress can show an ETA; the second pass
 * reads each file again as it is chunked, so the tree is never held in memory at once.
 *
 * A file's document path is its path relative to the current directory (`/`-separated); a PATH
 * outside the current directory is named from its own base name instead (`../lib` → `lib/…`).
 * A file named directly is ingested even when a `.gitignore` or glob would leave it out. The
 * data directory is never ingested (it holds `admin.token`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type WalkOptions, walkTree } from "../context/mod.ts";
import { UsageError } from "./args.ts";

/** A file to ingest. */
export interface SourceFile {
  /** Path as documents name it (`metadata.path`). */
  docPath: string;
  absolute: string;
  sizeBytes: number;
}

/** Why a file was left out. */
export type SkipReason = "binary" | "too_large" | "unreadable";

/** A file left out. */
export interface SkippedSource {
  docPath: string;
  reason: SkipReason;
}

/** A PATH argument as documents name it: a file's document path, or a directory's path prefix ("" for the current directory). */
export interface SourceRoot {
  docPath: string;
  kind: "file" | "dir";
}

/** The first pass's result. */
export interface SourceList {
  files: SourceFile[];
  skipped: SkippedSource[];
  bytesTotal: number;
  /** One per PATH, in argument order. */
  roots: SourceRoot[];
}

function toPosix(p: string): string {
  return p.split(path.sep).join("/");
}

/** The document path prefix of a PATH argument. */
function prefixOf(absolute: string, cwd: string): string {
  const rel = path.relative(cwd, absolute);
  if (rel === "") return "";
  if (rel.startsWith("..") || path.isAbsolute(rel)) return path.basename(absolute);
  return toPosix(rel);
}

/** True when `inner` is `outer` or below it. */
function within(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === "" || !(rel.startsWith("..") || path.isAbsolute(rel));
}

/** Walk options that also exclude `dir` (the data directory: admin.token must never be indexed). */
function withoutDir(walk: WalkOptions, root: string, dir: string): WalkOptions {
  if (!within(root, dir)) return walk;
  const glob = toPosix(path.relative(root, dir)).replace(/[*?[\]{}()!+@\\]/g, "\\$&");
  return { ...walk, exclude: [...walk.exclude, glob, `${glob}/**`] };
}

const decoder = new TextDecoder("utf-8", { fatal: true });
/** Bytes searched for a NUL (the walker's binary test). */
const NUL_SCAN_BYTES = 8192;

/** Text of a file, or why it cannot be ingested (the walker's tests, repeated at read time). */
export function readSource(
  absolute: string,
  fileBytesMax: number,
): { text: string } | { reason: SkipReason } {
  let bytes: Uint8Array;
  try {
    if (fs.statSync(absolute).size > fileBytesMax) return { reason: "too_large" };
    bytes = fs.readFileSync(absolute);
  } catch {
    return { reason: "unreadable" };
  }
  if (bytes.subarray(0, NUL_SCAN_BYTES).includes(0)) return { reason: "binary" };
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    return { reason: "binary" };
  }
}

/**
 * Lists the files under each PATH (a directory or a file); a file reached through two PATHs
 * counts once.
 * A PATH that does not exist is a usage error naming it.
 *
 * @example
 * ```ts
 * const { files, skipped } = listSources(["src"], { cwd: process.cwd(), walk: WALK_OPTIONS_DEFAULT });
 * ```
 */
export function listSources(
  paths: readonly string[],
  options: { cwd: string; walk: WalkOptions; dataDir?: string },
): SourceList {
  const dataDir = options.dataDir === undefined ? null : path.resolve(options.cwd, options.dataDir);
  const seen = new Set<string>();
  const list: SourceList = { files: [], skipped: [], bytesTotal: 0, roots: [] };
  const skip = (docPath: string, reason: SkipReason) => {
    if (seen.has(docPath)) return;
    seen.add(docPath);
    list.skipped.push({ docPath, reason });
  };
  const add = (docPath: string, absolute: string, sizeBytes: number) => {
    if (seen.has(docPath)) return;
    seen.add(docPath);
    list.files.push({ docPath, absolute, sizeBytes });
    list.bytesTotal += sizeBytes;
  };
  for (const given of paths) {
    const absolute = path.resolve(options.cwd, given);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(absolute);
    } catch {
      throw new UsageError(given, `PATH ${given} does not exist`);
    }
    if (dataDir !== null && within(dataDir, absolute))
      throw new UsageError(given, `PATH ${given} is inside the data directory`);
    const prefix = prefixOf(absolute, options.cwd);
    if (stat.isFile()) {
      const docPath = prefix === "" ? path.basename(absolute) : prefix;
      list.roots.push({ docPath, kind: "file" });
      if (stat.size > options.walk.fileBytesMax) skip(docPath, "too_large");
      else add(docPath, absolute, stat.size);
      continue;
    }
    if (!stat.isDirectory())
      throw new UsageError(given, `PATH ${given} is not a file or directory`);
    list.roots.push({ docPath: prefix, kind: "dir" });
    const join = (rel: string) => (prefix === "" ? rel : `${prefix}/${rel}`);
    const onSkip = (s: { path: string; reason: SkipReason }) => skip(join(s.path), s.reason);
    const walk = dataDir === null ? options.walk : withoutDir(options.walk, absolute, dataDir);
    for (const file of walkTree(absolute, walk, onSkip)) {
      add(join(file.path), path.join(absolute, ...file.path.split("/")), file.sizeBytes);
    }
  }
  return list;
}
