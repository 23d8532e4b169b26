/**
 * Temp data directories and a storage opener shared by the storage unit tests.
 */
import * as fs from "node:fs";
import {
  createStorage,
  nodeWalIo,
  openDataDir,
  type Storage,
  type StorageOptions,
  type WalFileIo,
} from "../../../src/storage/mod.ts";
import { kvMachine } from "../../fixtures/storage/kv-machine.ts";
import { tempDir as makeTempDir, skipAuditCheck } from "../../support/tmp.ts";

/**
 * A fresh empty directory under the run's temp root, removed after the run. Exempt from the
 * audit check: these logs hold test machines only, and many are damaged on purpose.
 */
export function tempDir(prefix = "vltair-storage-"): string {
  const dir = makeTempDir(prefix);
  skipAuditCheck(dir, "a storage-engine fixture (kv machines; logs damaged on purpose)");
  return dir;
}

/** Log lines captured from storage. */
export type Captured = { level: string; event: string; fields: Record<string, unknown> }[];

/** Opens, registers the kv machine, recovers. */
export async function openKv(
  dir: string,
  options: StorageOptions = {},
): Promise<{ storage: Storage; lines: Captured }> {
  const lines: Captured = [];
  const log = (level: string, event: string, fields: Record<string, unknown>) => {
    lines.push({ level, event, fields });
  };
  const storage = createStorage(openDataDir(dir, { log }), {
    fsync: "none",
    log,
    nowMs: () => 1_000,
    ...options,
  });
  storage.register(kvMachine());
  await storage.recover();
  return { storage, lines };
}

/** A `set` record for the kv machine. */
export function set(key: string, value: string) {
  return { machine: "kv", body: { op: "set", key, value } };
}

/** The real file operations, counting writes and fsyncs. */
export function countingIo(): {
  io: WalFileIo;
  counts: { writes: number; fills: number; syncs: number };
} {
  const counts = { writes: 0, fills: 0, syncs: 0 };
  const io: WalFileIo = {
    ...nodeWalIo,
    write(fd, bytes, positionBytes) {
      // A write of zeros only is the zero fill ahead of a group (no frame is all zeros).
      if (bytes.every((b) => b === 0)) counts.fills++;
      else counts.writes++;
      return nodeWalIo.write(fd, bytes, positionBytes);
    },
    datasync(fd) {
      counts.syncs++;
      return nodeWalIo.datasync(fd);
    },
    datasyncNow(fd) {
      counts.syncs++;
      nodeWalIo.datasyncNow?.(fd);
    },
  };
  return { io, counts };
}

/** End of the data in a segment file: segments are zero-filled ahead, so this is not its size. */
export function dataEnd(file: string): number {
  const bytes = fs.readFileSync(file);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** Overwrites `bytes` at `offsetBytes` of `file` (a torn write into zero-filled space). */
export function writeAt(file: string, offsetBytes: number, bytes: Uint8Array): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offsetBytes);
  } finally {
    fs.closeSync(fd);
  }
}
