/**
 * Hidden paths: server secrets on disk (the admin token, the token table) that a run must not
 * read although it runs as the server's user. The configured list is checked once per run,
 * each path resolved to its real path and typed (directory, file, absent) so that the shims
 * can mask it: bubblewrap mounts over it, sandbox-exec denies reads. Where neither exists the
 * report says `applied:false`.
 */
import { realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { VltairError } from "../core/mod.ts";
import { notApplied, notRequested } from "./enforced.ts";
import type { EnforcedEntry } from "./schema.ts";

/** Most hidden paths: each costs one mount per run. */
export const HIDDEN_PATHS_MAX = 64;
/** Longest hidden path, in characters (PATH_MAX on Linux). */
export const HIDDEN_PATH_CHARS_MAX = 4096;

/** One hidden path as found at the start of a run. */
export interface HiddenPath {
  /** The configured path, normalised. */
  path: string;
  /** Its real path (symlinks resolved; for an absent path, its nearest existing ancestor's). */
  real: string;
  kind: "dir" | "file" | "absent";
}

function invalid(message: string, value: string): VltairError {
  return new VltairError("config_invalid", message, {
    details: { field: "sandbox.hidden_paths", value },
  });
}

/**
 * Checks and normalises the configured hidden paths (absolute, no NUL, not the root, at most
 * {@link HIDDEN_PATHS_MAX}); duplicates are dropped. Throws `config_invalid`.
 *
 * @example
 * ```ts
 * normalizeHiddenPaths(["/srv/data/", "/srv/data"]); // ["/srv/data"]
 * ```
 */
export function normalizeHiddenPaths(paths: readonly string[] | undefined): string[] {
  if (paths === undefined) return [];
  if (paths.length > HIDDEN_PATHS_MAX) {
    throw new VltairError("config_invalid", `at most ${HIDDEN_PATHS_MAX} hidden paths`, {
      details: { field: "sandbox.hidden_paths", max: HIDDEN_PATHS_MAX, value: paths.length },
    });
  }
  const out = new Set<string>();
  for (const raw of paths) {
    if (raw.length === 0 || raw.length > HIDDEN_PATH_CHARS_MAX || raw.includes("\0"))
      throw invalid("invalid hidden path", raw);
    if (!isAbsolute(raw)) throw invalid("a hidden path must be absolute", raw);
    const path = resolve(raw);
    if (dirname(path) === path) throw invalid("the root cannot be hidden", raw);
    out.add(path);
  }
  return [...out];
}

/** Real path of `path`; for a missing path, the real path of its nearest existing ancestor joined with the rest. */
async function realOrAncestor(path: string): Promise<{ real: string; exists: boolean }> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = await realpath(current);
      return {
        real: rest.length === 0 ? real : join(real, ...rest.reverse()),
        exists: rest.length === 0,
      };
    } catch {
      const parent = dirname(current);
      if (parent === current) return { real: path, exists: false };
      rest.push(basename(current));
      current = parent;
    }
  }
}

/**
 * Resolves normalised hidden paths at the start of a run (a path may appear or vanish between
 * runs: the admin token file is created at the server's first start).
 */
export async function resolveHiddenPaths(paths: readonly string[]): Promise<HiddenPath[]> {
  const out: HiddenPath[] = [];
  for (const path of paths) {
    const { real, exists } = await realOrAncestor(path);
    if (!exists) {
      out.push({ path, real, kind: "absent" });
      continue;
    }
    const info = await stat(real).catch(() => null);
    if (info === null) out.push({ path, real, kind: "absent" });
    else out.push({ path, real, kind: info.isDirectory() ? "dir" : "file" });
  }
  return out;
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: string, outer: string): boolean {
  if (inner === outer) return true;
  const prefix = outer.endsWith(sep) ? outer : `${outer}${sep}`;
  return inner.startsWith(prefix);
}

/** Number of path components: mounts are applied shallow first so the most specific wins. */
export function pathDepth(path: string): number {
  return path.split(sep).filter((part) => part !== "").length;
}

/** A mask or a writable bind, to be applied in depth order (on a tie the bind wins). */
export type MountStep = { kind: "mask"; hidden: HiddenPath } | { kind: "bind"; path: string };

/**
 * Orders masks of hidden paths and writable binds shallow first, binds after masks at equal
 * depth: a workspace inside a hidden directory is bound on top of the mask (usable), a hidden
 * file inside the workspace is masked on top of the workspace (hidden).
 */
export function orderMounts(hidden: readonly HiddenPath[], binds: readonly string[]): MountStep[] {
  const steps: { step: MountStep; depth: number; rank: number; index: number }[] = [];
  hidden.forEach((h, index) => {
    steps.push({ step: { kind: "mask", hidden: h }, depth: pathDepth(h.real), rank: 0, index });
  });
  binds.forEach((path, index) => {
    steps.push({ step: { kind: "bind", path }, depth: pathDepth(path), rank: 1, index });
  });
  steps.sort((a, b) => a.depth - b.depth || a.rank - b.rank || a.index - b.index);
  return steps.map((s) => s.step);
}

/**
 * Hidden paths that are a writable root itself (the workspace, the run temp dir): the root is
 * bound (or allowed) on top of the mask, so they stay visible; the report must say so.
 */
export function shadowedHidden(
  hidden: readonly HiddenPath[],
  writable: readonly string[],
): HiddenPath[] {
  return hidden.filter((h) => h.kind !== "absent" && writable.includes(h.real));
}

/** The `hidden_paths` entry when some paths are a writable root and cannot be masked. */
export function hiddenShadowed(
  hidden: readonly HiddenPath[],
  shadowed: readonly HiddenPath[],
): EnforcedEntry {
  return notApplied(
    hidden.map((h) => h.path),
    `the workspace or run temp dir itself stays visible: ${shadowed.map((h) => h.path).join(", ")}`,
  );
}

/** The `hidden_paths` entry when nothing can hide them on this host. */
export function hiddenNotApplied(hidden: readonly HiddenPath[], why: string): EnforcedEntry {
  if (hidden.length === 0) return notRequested();
  return notApplied(
    hidden.map((h) => h.path),
    `no filesystem isolation (${why}): the run can read them`,
  );
}
