/**
 * The files API on one workspace tree: write a file from a byte stream (capped, hashed, written
 * beside its target and renamed over it, so a reader never sees half a file), read a file as a
 * stream or a directory as a listing, delete a path. Paths go through `resolveWorkspacePath`;
 * the caller holds the workspace gate, so no run changes the tree meanwhile.
 */
import { createHash, randomUUID } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { chmod, lstat, mkdir, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { VltairError } from "../core/mod.ts";
import type { HiddenPath } from "./hidden-paths.ts";
import { isMissing, pathRefused, resolveWorkspacePath } from "./workspace-path.ts";

/** Prefix of the temp file of an upload, beside its target; a crash may leave one. */
export const UPLOAD_TEMP_PREFIX = ".vltair-upload-";
/** Mode of a new file unless the request names one. */
const FILE_MODE_DEFAULT = 0o644;
/** Mode of directories the files API creates. */
const DIR_MODE = 0o755;

/** What a write may add: the upload cap, the tenant's quotas and what it uses now. */
export interface WriteBudget {
  /** Largest file of one upload (`upload_bytes_max`). */
  capBytes: number;
  bytesMax: number;
  bytesUsed: number;
  /** Entries (files, directories, links). */
  filesMax: number;
  filesUsed: number;
}

/** Result of a write: what the response says, and how the tenant's usage changed. */
export interface WriteResult {
  path: string;
  size: number;
  sha256: string;
  /** Change of bytes (new size minus the replaced file's). */
  bytesDelta: number;
  /** Entries created (the file when new, and missing parent directories). */
  filesDelta: number;
}

function payloadTooLarge(capBytes: number): VltairError {
  return new VltairError("payload_too_large", `the file exceeds ${capBytes} bytes`, {
    details: { limit_bytes: capBytes },
  });
}

/**
 * `429 rate_limited` naming the quota (a `sandbox_limits` key) a change would break, with its
 * value, what is used, and what the change would add.
 */
export function quotaExceeded(
  limit: string,
  quota: number,
  used: number,
  adding: number,
): VltairError {
  return new VltairError("rate_limited", `the tenant's ${limit} quota would be exceeded`, {
    details: { limit, quota, used, adding },
  });
}

function conflict(reason: string, path: string, message: string): VltairError {
  return new VltairError("conflict", message, { details: { reason, path } });
}

/** Copies `body` into `handle`, hashing it; throws when over the cap or the quota. */
async function pour(
  body: ReadableStream<Uint8Array> | null,
  handle: FileHandle,
  limits: { capBytes: number; roomBytes: number; budget: WriteBudget },
): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  if (body !== null) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > limits.capBytes) throw payloadTooLarge(limits.capBytes);
        if (size > limits.roomBytes) {
          const { bytesMax, bytesUsed } = limits.budget;
          throw quotaExceeded("tenant_workspace_bytes_max", bytesMax, bytesUsed, size);
        }
        hash.update(value);
        await handle.write(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  return { size, sha256: hash.digest("hex") };
}

/** Missing directories between the workspace and `abs`'s parent, shallowest first. */
async function missingParents(rootReal: string, abs: string): Promise<string[]> {
  const out: string[] = [];
  for (let dir = dirname(abs); dir !== rootReal && dir.startsWith(rootReal); dir = dirname(dir)) {
    const info = await stat(dir).catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    });
    if (info !== null) break;
    out.unshift(dir);
  }
  return out;
}

/**
 * Writes `body` to `path` in the workspace: parents created, the file replaced atomically.
 *
 * @example
 * ```ts
 * const r = await writeWorkspaceFile("/srv/ws", "src/a.ts", request.body, { hidden, budget, mode: 0o644 });
 * ```
 */
export async function writeWorkspaceFile(
  rootReal: string,
  path: string,
  body: ReadableStream<Uint8Array> | null,
  options: { hidden: readonly HiddenPath[]; budget: WriteBudget; mode: number | null },
): Promise<WriteResult> {
  const target = await resolveWorkspacePath(rootReal, path, {
    hidden: options.hidden,
    leaf: "follow",
  });
  if (target.rel === "") throw pathRefused("is_root", path, "the workspace root is a directory");
  const old = target.exists ? await lstat(target.abs) : null;
  if (old?.isDirectory()) throw conflict("is_a_directory", target.rel, "the path is a directory");
  const parents = old === null ? await missingParents(rootReal, target.abs) : [];
  const filesDelta = (old === null ? 1 : 0) + parents.length;
  const { budget } = options;
  if (budget.filesUsed + filesDelta > budget.filesMax)
    throw quotaExceeded(
      "tenant_workspace_files_max",
      budget.filesMax,
      budget.filesUsed,
      filesDelta,
    );
  const oldBytes = old?.isFile() ? old.size : 0;
  for (const dir of parents) await mkdir(dir, { mode: DIR_MODE }).catch(notADirectory(target.rel));
  const temp = join(dirname(target.abs), `${UPLOAD_TEMP_PREFIX}${randomUUID()}`);
  const mode = options.mode ?? (old === null ? FILE_MODE_DEFAULT : old.mode & 0o777);
  const handle = await open(temp, "wx", mode).catch(notADirectory(target.rel));
  let written: { size: number; sha256: string };
  try {
    written = await pour(body, handle, {
      capBytes: budget.capBytes,
      roomBytes: Math.max(0, budget.bytesMax - budget.bytesUsed) + oldBytes,
      budget,
    });
    await handle.close();
    // open() applied the umask; the mode asked for is the mode the file gets.
    await chmod(temp, mode);
    await rename(temp, target.abs);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return {
    path: target.rel,
    size: written.size,
    sha256: written.sha256,
    bytesDelta: written.size - oldBytes,
    filesDelta,
  };
}

function notADirectory(rel: string): (error: unknown) => never {
  return (error) => {
    if (
      (error as NodeJS.ErrnoException).code === "ENOTDIR" ||
      (error as NodeJS.ErrnoException).code === "EEXIST"
    )
      throw pathRefused("not_a_directory", rel, "a parent of the path is not a directory");
    throw error;
  };
}

/** One entry of a directory listing (API.md: name, type, size, mode, mtime). */
export interface DirEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  /** Permission bits as four octal digits, e.g. `"0644"`. */
  mode: string;
  /** ISO 8601, UTC. */
  mtime: string;
}

/** What a read found. */
export type ReadResult =
  | { kind: "file"; path: string; size: number; handle: FileHandle }
  | { kind: "dir"; path: string; entries: DirEntry[]; truncated: boolean };

function typeOf(info: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) {
  if (info.isFile()) return "file" as const;
  if (info.isDirectory()) return "dir" as const;
  if (info.isSymbolicLink()) return "symlink" as const;
  return "other" as const;
}

/** Octal permission bits, four digits. */
export function modeString(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

async function listDir(abs: string, entriesMax: number) {
  const names = (await readdir(abs)).sort();
  const entries: DirEntry[] = [];
  for (const name of names.slice(0, entriesMax)) {
    const info = await lstat(join(abs, name)).catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    });
    if (info === null) continue;
    entries.push({
      name,
      type: typeOf(info),
      size: info.isFile() ? info.size : 0,
      mode: modeString(info.mode),
      mtime: new Date(info.mtimeMs).toISOString(),
    });
  }
  return { entries, truncated: names.length > entriesMax };
}

/**
 * Opens a file for reading (the caller closes the handle) or lists a directory.
 *
 * @example
 * ```ts
 * const found = await readWorkspacePath("/srv/ws", "src", { hidden, entriesMax: 10_000 });
 * ```
 */
export async function readWorkspacePath(
  rootReal: string,
  path: string,
  options: { hidden: readonly HiddenPath[]; entriesMax: number },
): Promise<ReadResult> {
  const target = await resolveWorkspacePath(rootReal, path, {
    hidden: options.hidden,
    leaf: "follow",
  });
  if (!target.exists) throw notFound(target.rel);
  const info = await stat(target.abs);
  if (info.isDirectory())
    return { kind: "dir", path: target.rel, ...(await listDir(target.abs, options.entriesMax)) };
  if (!info.isFile())
    throw conflict("not_a_file", target.rel, "the path is neither a file nor a directory");
  const handle = await open(target.abs, "r");
  const size = (await handle.stat()).size;
  return { kind: "file", path: target.rel, size, handle };
}

function notFound(rel: string): VltairError {
  return new VltairError("not_found", "no such file in the workspace", { details: { path: rel } });
}

/**
 * Deletes a file, a symlink (not its target) or a directory with everything in it.
 *
 * @example
 * ```ts
 * await removeWorkspacePath("/srv/ws", "build", { hidden });
 * ```
 */
export async function removeWorkspacePath(
  rootReal: string,
  path: string,
  options: { hidden: readonly HiddenPath[] },
): Promise<{ path: string; kind: DirEntry["type"] }> {
  const target = await resolveWorkspacePath(rootReal, path, {
    hidden: options.hidden,
    leaf: "nofollow",
  });
  if (target.rel === "") throw pathRefused("is_root", path, "the workspace root cannot be deleted");
  const info = target.exists ? await lstat(target.abs).catch(() => null) : null;
  if (info === null) throw notFound(target.rel);
  await rm(target.abs, { recursive: info.isDirectory(), force: false });
  return { path: target.rel, kind: typeOf(info) };
}

/** The name part of a workspace path, for a download's file name. */
export function fileNameOf(path: string): string {
  return basename(path);
}
