import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { nodeWalIo, verifyWal, type WalFileIo } from "../../../src/storage/mod.ts";
import type { KvState } from "../../fixtures/storage/kv-machine.ts";
import { openKv, set, tempDir } from "./storage-fixture.ts";

/**
 * A file layer over a disk with `budgetBytes` of free space. Only growth consumes space
 * (overwriting allocated bytes does not, as on a real disk); a write that grows a file past the
 * budget puts what fits on disk (a short write, as a full disk does) then fails with ENOSPC.
 * `failSync` makes fsync fail with EIO.
 */
function fullDiskIo(state: { budgetBytes: number; failSync: boolean }): WalFileIo {
  const sizes = new Map<number, number>();
  return {
    ...nodeWalIo,
    async open(path) {
      const fd = await nodeWalIo.open(path);
      sizes.set(fd, fs.fstatSync(fd).size);
      return fd;
    },
    async write(fd, bytes, positionBytes) {
      const size = sizes.get(fd) ?? 0;
      const growth = Math.max(0, positionBytes + bytes.length - size);
      if (growth <= state.budgetBytes) {
        state.budgetBytes -= growth;
        sizes.set(fd, Math.max(size, positionBytes + bytes.length));
        return nodeWalIo.write(fd, bytes, positionBytes);
      }
      const fits = Math.max(0, size + state.budgetBytes - positionBytes);
      if (fits > 0) await nodeWalIo.write(fd, bytes.subarray(0, fits), positionBytes);
      sizes.set(fd, Math.max(size, positionBytes + fits));
      state.budgetBytes = 0;
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    },
    async truncate(fd, sizeBytes) {
      const size = sizes.get(fd) ?? 0;
      if (sizeBytes < size) state.budgetBytes += size - sizeBytes;
      sizes.set(fd, sizeBytes);
      return nodeWalIo.truncate(fd, sizeBytes);
    },
    datasync(fd) {
      if (state.failSync)
        return Promise.reject(Object.assign(new Error("EIO: i/o error"), { code: "EIO" }));
      return nodeWalIo.datasync(fd);
    },
    datasyncNow(fd) {
      if (state.failSync) throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
      nodeWalIo.datasyncNow?.(fd);
    },
  };
}

describe("disk full and fs errors during append", () => {
  test("ENOSPC fails the append with unavailable, leaves a valid log, and later appends work", async () => {
    const dir = tempDir();
    const disk = { budgetBytes: 1_000, failSync: false };
    const { storage, lines } = await openKv(dir, { fsync: "always", io: fullDiskIo(disk) });
    let acked = 0;
    let failed: unknown = null;
    for (let i = 0; i < 50 && failed === null; i++) {
      try {
        await storage.append([set(`k${i}`, "v".repeat(60))]);
        acked++;
      } catch (error) {
        failed = error;
      }
    }
    expect(acked).toBeGreaterThan(0);
    expect(failed).toMatchObject({ code: "unavailable", details: { reason: "io_failed" } });
    expect(lines.some((l) => l.event === "wal.append_failed")).toBe(true);
    expect(storage.lastIndex).toBe(acked);
    // The zero fill ahead of the records did not fit: it was dropped and the records written alone.
    expect(lines.some((l) => l.event === "wal.zero_fill_failed")).toBe(true);
    // The short write was cut back: the log on disk is exactly the acknowledged records.
    const check = verifyWal(dir);
    expect(check).toMatchObject({ ok: true, tail: null, recordCount: acked, lastIndex: acked });
    // Still full: still failing, still valid.
    await expect(storage.append([set("again", "x")])).rejects.toMatchObject({
      code: "unavailable",
    });
    // Space comes back: appends continue at the next index.
    disk.budgetBytes = 1_000_000;
    expect(await storage.append([set("later", "x")])).toEqual({
      firstIndex: acked + 1,
      lastIndex: acked + 1,
    });
    await storage.close();
    const again = await openKv(dir);
    expect((again.storage.stateOf("kv") as KvState).applied).toBe(acked + 1);
    expect((again.storage.stateOf("kv") as KvState).entries.later).toBe("x");
    await again.storage.close();
  });

  test("a failing fsync fails the append and the records are not applied", async () => {
    const dir = tempDir();
    const disk = { budgetBytes: 1_000_000, failSync: false };
    const { storage } = await openKv(dir, { fsync: "always", io: fullDiskIo(disk) });
    await storage.append([set("a", "1")]);
    disk.failSync = true;
    await expect(storage.append([set("b", "2")])).rejects.toMatchObject({ code: "unavailable" });
    expect((storage.stateOf("kv") as KvState).entries).toEqual({ a: "1" });
    disk.failSync = false;
    expect((await storage.append([set("c", "3")])).firstIndex).toBe(2);
    await storage.close();
    const again = await openKv(dir);
    expect((again.storage.stateOf("kv") as KvState).entries).toEqual({ a: "1", c: "3" });
    await again.storage.close();
  });
});
