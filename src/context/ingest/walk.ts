/**
 * Walks a source tree for ingestion: honours `.gitignore` files at every level (the `ignore`
 * package implements git's rules), always skips `.git/`, applies `--include`/`--exclude` globs
 * (picomatch), skips symlinks (no loops, nothing outside the tree), files over `fileBytesMax`,
 * and binaries (a NUL byte or invalid UTF-8). Paths are reported relative to the root, with `/`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";
import { VltairError } from "../../core/mod.ts";

/** Options of {@link walkTree}. */
export interface WalkOptions {
  include: readonly string[];
  exclude: readonly string[];
  /** Larger files are skipped (reported), not read. */
  fileBytesMax: number;
  /** The walk stops with `validation_failed` past this many files. */
  filesMax: number;
}

/** A text file found by the walk. */
export interface WalkedFile {
  /** Relative to the root, `/`-separated. */
  path: string;
  text: string;
  sizeBytes: number;
}

/** Why a file was not ingested. */
export interface SkippedFile {
  path: string;
  reason: "binary" | "too_large" | "unreadable";
}

export const WALK_OPTIONS_DEFAULT: WalkOptions = {
  include: [],
  exclude: [],
  fileBytesMax: 1024 * 1024,
  filesMax: 200_000,
};

const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeText(bytes: Uint8Array): string | null {
  if (bytes.subarray(0, 8192).includes(0)) return null;
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

interface Level {
  dir: string;
  rules: Ignore;
}

function ignoredBy(levels: readonly Level[], absolute: string, isDir: boolean): boolean {
  for (const level of levels) {
    const rel = path.relative(level.dir, absolute).split(path.sep).join("/");
    if (rel === "" || rel.startsWith("..")) continue;
    if (level.rules.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}

/**
 * Walks `root` depth-first in sorted order (deterministic), yielding text files.
 *
 * @example
 * ```ts
 * for (const file of walkTree("src", WALK_OPTIONS_DEFAULT, (s) => skipped.push(s))) { … }
 * ```
 */
export function* walkTree(
  root: string,
  options: WalkOptions,
  onSkip: (skipped: SkippedFile) => void,
): Generator<WalkedFile> {
  const included =
    options.include.length === 0 ? () => true : picomatch([...options.include], { dot: true });
  const excluded =
    options.exclude.length === 0 ? () => false : picomatch([...options.exclude], { dot: true });
  let files = 0;
  const stack: { dir: string; levels: Level[] }[] = [{ dir: root, levels: [] }];
  while (stack.length > 0) {
    const { dir, levels: parentLevels } = stack.pop() as { dir: string; levels: Level[] };
    const levels = [...parentLevels];
    const gitignore = path.join(dir, ".gitignore");
    if (fs.existsSync(gitignore))
      levels.push({ dir, rules: ignore().add(fs.readFileSync(gitignore, "utf8")) });
    const entries = fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const subdirs: string[] = [];
    for (const entry of entries) {
      const absolute = path.join(dir, entry.name);
      const rel = path.relative(root, absolute).split(path.sep).join("/");
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        if (entry.name === ".git" || ignoredBy(levels, absolute, true) || excluded(`${rel}/`))
          continue;
        subdirs.push(absolute);
        continue;
      }
      if (!entry.isFile() || ignoredBy(levels, absolute, false)) continue;
      if (!included(rel) || excluded(rel)) continue;
      files += 1;
      if (files > options.filesMax) {
        throw new VltairError(
          "validation_failed",
          `more than ${options.filesMax} files to ingest`,
          {
            details: { field: "files", limit: options.filesMax },
          },
        );
      }
      const sizeBytes = fs.statSync(absolute).size;
      if (sizeBytes > options.fileBytesMax) {
        onSkip({ path: rel, reason: "too_large" });
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = fs.readFileSync(absolute);
      } catch {
        onSkip({ path: rel, reason: "unreadable" });
        continue;
      }
      const text = decodeText(bytes);
      if (text === null) onSkip({ path: rel, reason: "binary" });
      else yield { path: rel, text, sizeBytes };
    }
    for (const sub of subdirs.reverse()) stack.push({ dir: sub, levels });
  }
}
