/**
 * A bounded walk of a directory tree that never follows symlinks: every entry below `root`
 * with its lstat, parents before children. Used to measure a workspace (quota) and to
 * checkpoint it. The walk stops with `truncated` once `entriesMax` entries were seen, so a tree
 * of ten million files costs no more than the quota allows.
 */
import type { BigIntStats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { isMissing } from "./workspace-path.ts";

/** What an entry is; anything else (FIFO, socket, device) is `other`. */
export type EntryKind = "file" | "dir" | "symlink" | "other";

/** One entry of a tree. */
export interface TreeEntry {
  /** Relative path, `/`-separated. */
  rel: string;
  kind: EntryKind;
  stat: BigIntStats;
}

/** Result of a walk. */
export interface TreeWalk {
  entries: TreeEntry[];
  /** True when the walk stopped at `entriesMax`. */
  truncated: boolean;
}

/** lstat calls in flight at once: enough to hide latency, few enough to leave the pool to others. */
const STAT_PARALLEL = 32;

function kindOf(stat: BigIntStats): EntryKind {
  if (stat.isFile()) return "file";
  if (stat.isDirectory()) return "dir";
  if (stat.isSymbolicLink()) return "symlink";
  return "other";
}

/** lstat of each name in `dir`, at most STAT_PARALLEL at once; vanished entries are dropped. */
async function statAll(dir: string, names: readonly string[]): Promise<(BigIntStats | null)[]> {
  const out: (BigIntStats | null)[] = new Array(names.length).fill(null);
  for (let start = 0; start < names.length; start += STAT_PARALLEL) {
    const batch = names.slice(start, start + STAT_PARALLEL);
    const stats = await Promise.all(
      batch.map((name) =>
        lstat(join(dir, name), { bigint: true }).catch((error: unknown) => {
          if (isMissing(error)) return null;
          throw error;
        }),
      ),
    );
    stats.forEach((s, i) => {
      out[start + i] = s;
    });
  }
  return out;
}

/**
 * Walks `root` (not included), breadth first, names sorted within each directory.
 *
 * @example
 * ```ts
 * const { entries, truncated } = await walkTree("/srv/ws", { entriesMax: 200_000 });
 * ```
 */
export async function walkTree(
  root: string,
  options: { entriesMax: number; skip?: (abs: string) => boolean },
): Promise<TreeWalk> {
  const entries: TreeEntry[] = [];
  const dirs: string[] = [""];
  for (let next = 0; next < dirs.length; next += 1) {
    const rel = dirs[next] ?? "";
    const abs = rel === "" ? root : join(root, rel);
    const names = await readdir(abs).catch((error: unknown) => {
      if (isMissing(error)) return [] as string[];
      throw error;
    });
    names.sort();
    const stats = await statAll(abs, names);
    for (let i = 0; i < names.length; i += 1) {
      const stat = stats[i];
      if (stat === null || stat === undefined) continue;
      if (entries.length >= options.entriesMax) return { entries, truncated: true };
      const childRel = rel === "" ? (names[i] ?? "") : `${rel}/${names[i]}`;
      if (options.skip?.(join(root, childRel)) === true) continue;
      const kind = kindOf(stat);
      entries.push({ rel: childRel, kind, stat });
      if (kind === "dir") dirs.push(childRel);
    }
  }
  return { entries, truncated: false };
}

/** Bytes (regular files) and entries of a tree; `truncated` when it has more than `entriesMax`. */
export interface TreeUsage {
  bytes: number;
  files: number;
  truncated: boolean;
}

/**
 * Measures a tree for the quota: apparent sizes of regular files, every entry counted.
 *
 * @example
 * ```ts
 * const usage = await measureTree("/srv/ws", { entriesMax: 200_000 });
 * ```
 */
export async function measureTree(
  root: string,
  options: { entriesMax: number },
): Promise<TreeUsage> {
  const walk = await walkTree(root, { entriesMax: options.entriesMax + 1 });
  let bytes = 0;
  for (const entry of walk.entries) if (entry.kind === "file") bytes += Number(entry.stat.size);
  return { bytes, files: walk.entries.length, truncated: walk.truncated };
}
