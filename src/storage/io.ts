/**
 * The file operations the WAL's write path uses, behind an interface so tests can inject
 * failures (a full disk, a failing fsync) without touching the real file system.
 */
import * as fs from "node:fs";
import type { Steps } from "../core/mod.ts";

/** File operations of the WAL write path; every method fails by throwing (or rejecting). */
export interface WalFileIo {
  /** Opens `path` for reading and writing, creating it when absent. */
  open(path: string): Promise<number>;
  /** Writes all of `bytes` at `positionBytes`; a short write throws. */
  write(fd: number, bytes: Uint8Array, positionBytes: number): Promise<void>;
  /** Makes the file's data (and its size) durable. */
  datasync(fd: number): Promise<void>;
  /**
   * The same as `datasync` on the calling thread. Used when one append waits alone: the
   * round trip to the thread pool costs more than the sync itself, and nobody is queueing
   * behind it on the event loop.
   */
  datasyncNow?(fd: number): void;
  /** Cuts the file to `sizeBytes`. */
  truncate(fd: number, sizeBytes: number): Promise<void>;
  close(fd: number): Promise<void>;
}

function callback(resolve: () => void, reject: (error: unknown) => void) {
  return (error: NodeJS.ErrnoException | null) => (error ? reject(error) : resolve());
}

/**
 * The real implementation over `node:fs`. Writes are synchronous (a copy into the page cache,
 * bounded by the group size); the fsync runs off the event loop so appends keep queueing while
 * the disk works, which is what lets the next group grow.
 *
 * @example
 * ```ts
 * const fd = await nodeWalIo.open("/tmp/x.seg");
 * ```
 */
export const nodeWalIo: WalFileIo = {
  open(path) {
    return new Promise((resolve, reject) =>
      fs.open(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644, (error, fd) =>
        error ? reject(error) : resolve(fd),
      ),
    );
  },
  write(fd, bytes, positionBytes) {
    let done = 0;
    while (done < bytes.length) {
      const n = fs.writeSync(fd, bytes, done, bytes.length - done, positionBytes + done);
      if (n <= 0) return Promise.reject(new Error("short write"));
      done += n;
    }
    return Promise.resolve();
  },
  datasync(fd) {
    return new Promise((resolve, reject) => fs.fdatasync(fd, callback(resolve, reject)));
  },
  datasyncNow(fd) {
    fs.fdatasyncSync(fd);
  },
  truncate(fd, sizeBytes) {
    return new Promise((resolve, reject) => fs.ftruncate(fd, sizeBytes, callback(resolve, reject)));
  },
  close(fd) {
    return new Promise((resolve, reject) => fs.close(fd, callback(resolve, reject)));
  },
};

/**
 * Makes a directory's entries durable (after a create or a rename). Platforms that cannot open a
 * directory for fsync report EISDIR/EPERM/EINVAL; there the rename itself is the best available.
 *
 * @example
 * ```ts
 * fsyncDir("/data/.vltair/wal");
 * ```
 */
export function fsyncDir(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    if (isCode(error, ["EISDIR", "EPERM", "EACCES"])) return;
    throw error;
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (!isCode(error, ["EISDIR", "EPERM", "EINVAL", "EBADF"])) throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * {@link fsyncDir} off the main thread: for a rename after which nothing waits on the main
 * thread (a snapshot; a directory fsync after a large file's rename took ~0.9 s here).
 */
export async function fsyncDirAsync(path: string): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path, "r");
  } catch (error) {
    if (isCode(error, ["EISDIR", "EPERM", "EACCES"])) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!isCode(error, ["EISDIR", "EPERM", "EINVAL", "EBADF"])) throw error;
  } finally {
    await handle.close();
  }
}

/** True when `error` is a Node-style system error with one of `codes`. */
export function isCode(error: unknown, codes: readonly string[]): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    codes.includes(error.code)
  );
}

/**
 * A whole file as a plain Uint8Array view of the Buffer `readFileSync` returns: no second
 * copy (recovery reads snapshots of hundreds of MiB; copying one doubles its peak memory).
 */
export function readFileBytes(path: string): Uint8Array {
  const buffer = fs.readFileSync(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Bytes read between two pause points of {@link readFileBytesSteps}. */
const READ_SLICE_BYTES = 4 * 1024 * 1024;

/** {@link readFileBytes} as steps: the file is read in slices of a few MiB, pausing after each. */
export function* readFileBytesSteps(path: string): Steps<Uint8Array> {
  const fd = fs.openSync(path, "r");
  try {
    const sizeBytes = fs.fstatSync(fd).size;
    const out = new Uint8Array(sizeBytes);
    let at = 0;
    while (at < sizeBytes) {
      const read = fs.readSync(fd, out, at, Math.min(READ_SLICE_BYTES, sizeBytes - at), at);
      // The file shrank under us (a concurrent truncation): what was read is what there is.
      if (read === 0) return out.subarray(0, at);
      at += read;
      yield;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
