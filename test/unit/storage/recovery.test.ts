import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { VltairError } from "../../../src/core/mod.ts";
import { repairWal, verifyWal } from "../../../src/storage/mod.ts";
import { FRAME_HEADER_BYTES } from "../../../src/storage/wal/frame.ts";
import type { KvState } from "../../fixtures/storage/kv-machine.ts";
import { dataEnd, openKv, set, tempDir, writeAt } from "./storage-fixture.ts";

function segments(dir: string): string[] {
  const walDir = path.join(dir, "wal");
  return fs
    .readdirSync(walDir)
    .filter((n) => n.endsWith(".seg"))
    .sort()
    .map((n) => path.join(walDir, n));
}

function snapshots(dir: string): string[] {
  const snapDir = path.join(dir, "snapshots");
  return fs
    .readdirSync(snapDir)
    .filter((n) => n.endsWith(".snap"))
    .sort()
    .map((n) => path.join(snapDir, n));
}

function flipBit(file: string, offset: number): void {
  const bytes = fs.readFileSync(file);
  bytes[offset] = (bytes[offset] as number) ^ 0x04;
  fs.writeFileSync(file, bytes);
}

/** Writes `count` single-record batches of equal size (100-byte values); returns the directory. */
async function logOf(count: number, limits = {}): Promise<string> {
  const dir = tempDir();
  const { storage } = await openKv(dir, { limits });
  for (let i = 1; i <= count; i++)
    await storage.append([set(`k${String(i).padStart(3, "0")}`, String(i).padStart(100, "0"))]);
  await storage.close();
  return dir;
}

describe("recovery of the WAL tail", () => {
  test("a torn tail (file cut mid-record) is truncated at the last complete record and logged", async () => {
    const dir = await logOf(10);
    const [seg] = segments(dir);
    const size = dataEnd(seg as string);
    const recordBytes = size / 10;
    fs.truncateSync(seg as string, Math.floor(size - recordBytes / 2));
    const { storage, lines } = await openKv(dir);
    expect(storage.lastIndex).toBe(9);
    expect((storage.stateOf("kv") as KvState).applied).toBe(9);
    const cut = lines.find((l) => l.event === "wal.tail_truncated");
    expect(cut?.level).toBe("warn");
    expect(cut?.fields.dropped_bytes).toBe(recordBytes - Math.ceil(recordBytes / 2));
    expect(fs.statSync(seg as string).size).toBe(size - recordBytes);
    expect((await storage.append([set("after", "x")])).firstIndex).toBe(10);
    await storage.close();
  });

  test("a bit flip in the last record drops only that record", async () => {
    const dir = await logOf(10);
    const [seg] = segments(dir);
    flipBit(seg as string, dataEnd(seg as string) - 3);
    const { storage, lines } = await openKv(dir);
    expect(storage.lastIndex).toBe(9);
    expect(lines.some((l) => l.event === "wal.tail_truncated")).toBe(true);
    await storage.close();
  });

  test("a bit flip in an early record refuses to start, says what repair does; repair makes it startable", async () => {
    const dir = await logOf(10);
    const [seg] = segments(dir);
    const recordBytes = dataEnd(seg as string) / 10;
    flipBit(seg as string, recordBytes * 2 + FRAME_HEADER_BYTES + 20);
    let error: unknown;
    try {
      await openKv(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VltairError);
    expect((error as VltairError).code).toBe("unavailable");
    expect((error as VltairError).details.reason).toBe("wal_corrupt");
    expect((error as VltairError).details.walIndex).toBe(3);
    expect((error as VltairError).details.recordsAfter).toBe(7);
    expect((error as VltairError).message).toContain("vltair wal repair");

    const report = verifyWal(dir);
    expect(report.ok).toBe(false);
    expect(report.corruption?.walIndex).toBe(3);
    const plan = repairWal(dir, { dryRun: true });
    expect(plan.lastIndexAfter).toBe(2);
    expect(dataEnd(seg as string)).toBe(recordBytes * 10);
    const done = repairWal(dir, { dryRun: false, nowMs: () => 7 });
    expect(done.cut?.atBytes).toBe(recordBytes * 2);
    expect(fs.existsSync(path.join(dir, "wal", "quarantine", "7"))).toBe(true);
    expect(verifyWal(dir).ok).toBe(true);
    const { storage } = await openKv(dir);
    expect(storage.lastIndex).toBe(2);
    await storage.close();
  });

  test("damage in a non-last segment is corruption even at that segment's end", async () => {
    const dir = await logOf(40, { segmentBytes: 65536, recordBytesMax: 1024 });
    // Shrink the first segment so that its last record is torn while later segments exist.
    const dir2 = tempDir();
    const { storage } = await openKv(dir2, {
      limits: { segmentBytes: 65536, recordBytesMax: 1024 },
    });
    for (let i = 0; i < 150; i++) await storage.append([set(`k${i}`, "z".repeat(900))]);
    await storage.close();
    const segs = segments(dir2);
    expect(segs.length).toBeGreaterThanOrEqual(2);
    const first = segs[0] as string;
    fs.truncateSync(first, fs.statSync(first).size - 10);
    await expect(
      openKv(dir2, { limits: { segmentBytes: 65536, recordBytesMax: 1024 } }),
    ).rejects.toMatchObject({
      code: "unavailable",
      details: { reason: "wal_corrupt" },
    });
    expect(verifyWal(dir).ok).toBe(true);
  });

  test("records of an append batch whose last frame is missing are all dropped", async () => {
    const dir = tempDir();
    const { storage } = await openKv(dir);
    await storage.append([set("a", "1")]);
    await storage.append([set("b", "1"), set("c", "1"), set("d", "1")]);
    await storage.close();
    const [seg] = segments(dir);
    fs.truncateSync(seg as string, dataEnd(seg as string) - 5);
    const again = await openKv(dir);
    expect(again.storage.lastIndex).toBe(1);
    expect((again.storage.stateOf("kv") as KvState).entries).toEqual({ a: "1" });
    const cut = again.lines.find((l) => l.event === "wal.tail_truncated");
    expect(cut?.fields.dropped_records).toBe(2);
    await again.storage.close();
  });

  test("zero bytes after the last record (allocated ahead) are a clean end, kept for later appends", async () => {
    const dir = await logOf(3);
    const [seg] = segments(dir);
    const dataBytes = dataEnd(seg as string);
    fs.appendFileSync(seg as string, new Uint8Array(4096));
    const { storage, lines } = await openKv(dir);
    expect(storage.lastIndex).toBe(3);
    expect(lines.some((l) => l.event === "wal.tail_truncated")).toBe(false);
    await storage.append([set("k004", "x")]);
    await storage.close();
    expect(verifyWal(dir)).toMatchObject({ ok: true, tail: null, recordCount: 4 });
    expect(fs.statSync(seg as string).size).toBeGreaterThan(dataBytes);
  });

  test("a torn group followed by zero fill: only the non-zero bytes count as dropped", async () => {
    const dir = await logOf(3);
    const [seg] = segments(dir);
    const dataBytes = dataEnd(seg as string);
    writeAt(seg as string, dataBytes, new Uint8Array([7, 7, 7, 7, 7]));
    const { storage, lines } = await openKv(dir);
    expect(storage.lastIndex).toBe(3);
    expect(lines.find((l) => l.event === "wal.tail_truncated")?.fields.dropped_bytes).toBe(5);
    expect(fs.statSync(seg as string).size).toBe(dataBytes);
    await storage.close();
  });
});

describe("recovery from snapshots", () => {
  async function withSnapshots(): Promise<{ dir: string; snaps: string[] }> {
    const dir = tempDir();
    const { storage } = await openKv(dir, { limits: { snapshotEveryBytes: 0, snapshotsKept: 3 } });
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 10; i++) await storage.append([set(`k${i}`, `r${round}`)]);
      await storage.takeSnapshot();
    }
    await storage.append([set("tail", "t")]);
    await storage.close();
    return { dir, snaps: snapshots(dir) };
  }

  test("starts from the newest valid snapshot and replays only the tail", async () => {
    const { dir, snaps } = await withSnapshots();
    expect(snaps.map((s) => Number(path.basename(s).slice(0, 20)))).toEqual([10, 20, 30]);
    const { storage, lines } = await openKv(dir);
    const report = lines.find((l) => l.event === "storage.recovered")?.fields;
    expect(report?.snapshotIndex).toBe(30);
    expect(report?.replayedRecords).toBe(1);
    expect((storage.stateOf("kv") as KvState).applied).toBe(31);
    await storage.close();
  });

  test("a corrupt newest snapshot falls back to the previous one", async () => {
    const { dir, snaps } = await withSnapshots();
    flipBit(snaps[2] as string, 40);
    const { storage, lines } = await openKv(dir);
    const report = lines.find((l) => l.event === "storage.recovered")?.fields;
    expect(report?.snapshotIndex).toBe(20);
    expect(report?.replayedRecords).toBe(11);
    expect(
      lines.some((l) => l.event === "snapshot.invalid" && l.fields.problem === "checksum_mismatch"),
    ).toBe(true);
    expect((storage.stateOf("kv") as KvState).applied).toBe(31);
    expect((storage.stateOf("kv") as KvState).entries.k0).toBe("r3");
    await storage.close();
  });

  test("missing or truncated snapshots fall back to a full replay while the log starts at 1", async () => {
    const { dir, snaps } = await withSnapshots();
    fs.rmSync(snaps[2] as string);
    fs.truncateSync(snaps[1] as string, 20);
    fs.writeFileSync(snaps[0] as string, "not a snapshot");
    const { storage, lines } = await openKv(dir);
    const report = lines.find((l) => l.event === "storage.recovered")?.fields;
    expect(report?.snapshotIndex).toBe(0);
    expect(report?.replayedRecords).toBe(31);
    expect((storage.stateOf("kv") as KvState).entries).toMatchObject({ k0: "r3", tail: "t" });
    await storage.close();
  });

  test("a leftover temp snapshot (crash mid-write) is ignored", async () => {
    const { dir } = await withSnapshots();
    fs.writeFileSync(path.join(dir, "snapshots", `${"9".padStart(20, "0")}9.snap.tmp`), "partial");
    const { storage } = await openKv(dir);
    expect((storage.stateOf("kv") as KvState).applied).toBe(31);
    await storage.close();
  });

  test("with covered segments removed and no valid snapshot left, start is refused", async () => {
    const dir = tempDir();
    const limits = {
      segmentBytes: 65536,
      recordBytesMax: 1024,
      snapshotEveryBytes: 0,
      snapshotsKept: 1,
    };
    const { storage } = await openKv(dir, { limits });
    for (let i = 0; i < 200; i++) await storage.append([set(`k${i}`, "q".repeat(900))]);
    const snap = await storage.takeSnapshot();
    expect(snap.segmentsRemoved).toBeGreaterThan(0);
    await storage.close();
    flipBit(snap.path, 30);
    await expect(openKv(dir, { limits })).rejects.toMatchObject({
      code: "unavailable",
      details: { reason: "history_unavailable" },
    });
  });
});
