/**
 * Paths of the files API, resolved inside a workspace. The client's path is normalised
 * lexically first (`.`, empty segments and an inner `..` fold away; a `..` past the root, an
 * absolute path or a NUL is refused), then symlinks are resolved and the result must still lie
 * inside the workspace and outside every hidden path that is not an ancestor of it. Every
 * refusal is `400 validation_failed` with `details.field = "path"` and a stable `issue`.
 *
 * The check and the use are two steps, so they are safe only while nothing else changes the
 * tree: the workspace gate keeps runs out of a workspace while the files API works in it.
 */
import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { VltairError } from "../core/mod.ts";
import { type HiddenPath, isWithin } from "./hidden-paths.ts";

/** Longest path of the files API, in UTF-16 code units (PATH_MAX on Linux is 4096 bytes). */
export const WORKSPACE_PATH_CHARS_MAX = 4096;
/** Longest single name (NAME_MAX on Linux is 255 bytes). */
const NAME_BYTES_MAX = 255;

/** Why a path was refused: the stable `details.issue`. */
export type PathIssue =
  | "invalid"
  | "absolute"
  | "outside_workspace"
  | "symlink_escape"
  | "hidden"
  | "dangling_symlink"
  | "not_a_directory"
  | "is_root";

/** A `validation_failed` naming the path and the issue. */
export function pathRefused(issue: PathIssue, path: string, message: string): VltairError {
  return new VltairError("validation_failed", message, {
    details: { field: "path", issue, path },
  });
}

/**
 * The normalised relative path (`""` for the workspace root), segments joined with `/`.
 *
 * @example
 * ```ts
 * normalizeWorkspacePath("src/./a//b/../c.ts"); // "src/a/c.ts"
 * normalizeWorkspacePath("../etc/passwd");       // throws validation_failed (outside_workspace)
 * ```
 */
export function normalizeWorkspacePath(raw: string): string {
  if (raw.length > WORKSPACE_PATH_CHARS_MAX)
    throw pathRefused("invalid", raw.slice(0, 64), "path is too long");
  if (raw.includes("\0")) throw pathRefused("invalid", raw, "path contains NUL");
  if (raw.startsWith("/")) throw pathRefused("absolute", raw, "path must be relative");
  const out: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0)
        throw pathRefused("outside_workspace", raw, "path leaves the workspace");
      out.pop();
      continue;
    }
    if (new TextEncoder().encode(segment).length > NAME_BYTES_MAX)
      throw pathRefused("invalid", raw, "a path segment is longer than 255 bytes");
    out.push(segment);
  }
  return out.join("/");
}

/** Where a resolved path points. */
export interface ResolvedPath {
  /** The normalised relative path as the client named it. */
  rel: string;
  /** Absolute path to operate on: symlinks resolved (the leaf too when followed). */
  abs: string;
  /** Whether the leaf exists (for a followed symlink: its target). */
  exists: boolean;
}

/** Options of {@link resolveWorkspacePath}. */
export interface ResolveOptions {
  /** Hidden server paths (the data directory): never reached unless they contain the workspace. */
  hidden: readonly HiddenPath[];
  /** Follow a symlink at the leaf (reads and writes) or operate on the link itself (delete). */
  leaf: "follow" | "nofollow";
}

function checkInside(rootReal: string, real: string, rel: string, hidden: readonly HiddenPath[]) {
  if (!isWithin(real, rootReal))
    throw pathRefused("symlink_escape", rel, "path leaves the workspace through a symlink");
  for (const h of hidden) {
    if (h.kind !== "absent" && isWithin(real, h.real) && !isWithin(rootReal, h.real))
      throw pathRefused("hidden", rel, "path is inside a hidden server path");
  }
}

/** Real path of the nearest existing ancestor of `abs` (inside the workspace), and what is missing. */
async function existingAncestor(
  rootReal: string,
  rel: string,
): Promise<{ real: string; missing: string[] }> {
  const missing: string[] = [];
  let current = rel;
  for (;;) {
    const abs = current === "" ? rootReal : join(rootReal, current);
    try {
      return { real: await realpath(abs), missing };
    } catch (error) {
      if (current === "" || !isMissing(error)) throw error;
      missing.unshift(basename(current));
      const parent = dirname(current);
      current = parent === "." ? "" : parent;
    }
  }
}

/** True for "does not exist" errors (ENOENT, and ENOTDIR from a file used as a directory). */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Resolves a client path inside the workspace (`rootReal` is already a real path). A missing
 * leaf (and missing parents) is allowed: `exists` says so, and `abs` is where it would be.
 *
 * @example
 * ```ts
 * const p = await resolveWorkspacePath("/srv/ws", "src/a.ts", { hidden: [], leaf: "follow" });
 * ```
 */
export async function resolveWorkspacePath(
  rootReal: string,
  raw: string,
  options: ResolveOptions,
): Promise<ResolvedPath> {
  const rel = normalizeWorkspacePath(raw);
  if (rel === "") return { rel, abs: rootReal, exists: true };
  const parentRel = dirname(rel) === "." ? "" : dirname(rel);
  const parent = await existingAncestor(rootReal, parentRel);
  checkInside(rootReal, parent.real, rel, options.hidden);
  if (parent.missing.length > 0) {
    return { rel, abs: join(parent.real, ...parent.missing, basename(rel)), exists: false };
  }
  const leaf = join(parent.real, basename(rel));
  const info = await lstat(leaf).catch((error: unknown) => {
    if (isMissing(error)) return null;
    throw error;
  });
  if (info === null) return { rel, abs: leaf, exists: false };
  if (!info.isSymbolicLink() || options.leaf === "nofollow") {
    checkInside(rootReal, leaf, rel, options.hidden);
    return { rel, abs: leaf, exists: true };
  }
  const target = await realpath(leaf).catch((error: unknown) => {
    if (isMissing(error)) return null;
    throw error;
  });
  if (target === null) throw pathRefused("dangling_symlink", rel, "path is a symlink to nothing");
  checkInside(rootReal, target, rel, options.hidden);
  return { rel, abs: target, exists: true };
}
