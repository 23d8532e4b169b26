/**
 * The data directory: its layout, its lock and its format version.
 *
 * ```
 * DIR/FORMAT       {"format":"vltair-data-dir","version":2}
 * DIR/LOCK         holder of the exclusive lock (pid, host, nonce)
 * DIR/wal/         segment files <first index, 20 digits>.seg
 * DIR/snapshots/   snapshot files <wal index, 20 digits>.snap
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureFormat } from "./format-version.ts";
import { acquireLock, type DirLock } from "./lock.ts";
import { type StorageLog, silentLog } from "./options.ts";

/** An open data directory whose lock this process holds. */
export interface DataDir {
  dir: string;
  walDir: string;
  snapshotDir: string;
  formatVersion: number;
  lock: DirLock;
  /** Releases the lock (idempotent). */
  close(): void;
}

/** Options of {@link openDataDir}. */
export interface OpenDataDirOptions {
  log?: StorageLog;
  /** Injected clock (ms since epoch), only used to stamp the lock file. */
  nowMs?: () => number;
}

/** The layout paths of `dir`, without opening or locking anything. */
export function dataDirPaths(dir: string): { dir: string; walDir: string; snapshotDir: string } {
  const abs = path.resolve(dir);
  return { dir: abs, walDir: path.join(abs, "wal"), snapshotDir: path.join(abs, "snapshots") };
}

/**
 * Creates the layout of `dir` when needed, takes its exclusive lock and checks its format.
 * Throws `VltairError` `unavailable` with `details.reason` `locked` (another live process holds
 * it), `format_too_new` or `format_unknown`.
 *
 * @example
 * ```ts
 * const dataDir = openDataDir("./.vltair", { log });
 * dataDir.close();
 * ```
 */
export function openDataDir(dir: string, options: OpenDataDirOptions = {}): DataDir {
  const paths = dataDirPaths(dir);
  fs.mkdirSync(paths.dir, { recursive: true });
  const lock = acquireLock(paths.dir, {
    log: options.log ?? silentLog,
    nowMs: options.nowMs ?? Date.now,
  });
  try {
    const formatVersion = ensureFormat(paths.dir);
    fs.mkdirSync(paths.walDir, { recursive: true });
    fs.mkdirSync(paths.snapshotDir, { recursive: true });
    let released = false;
    return {
      ...paths,
      formatVersion,
      lock,
      close() {
        if (released) return;
        released = true;
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
