import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DUMP_LIMIT_MAX,
  dumpWal,
  repairWal,
  takeSnapshot,
  verifyWal,
} from "../../../src/storage/mod.ts";
import { kvMachine } from "../../fixtures/storage/kv-machine.ts";
import { dataEnd, openKv, set, tempDir, writeAt } from "./storage-fixture.ts";

async function logOf(count: number): Promise<string> {
  const dir = tempDir();
  const { storage } = await openKv(dir);
  for (let i = 1; i <= count; i++)
    await storage.append([{ ...set(`k${i}`, `v${i}`), wallMs: 1_000 + i }]);
  await storage.close();
  return dir;
}

describe("verifyWal", () => {
  test("counts records and reports the index range of a clean log", async () => {
    const dir = await logOf(12);
    expect(verifyWal(dir)).toMatchObject({
      ok: true,
      segmentCount: 1,
      recordCount: 12,
      firstIndex: 1,
      lastIndex: 12,
      tail: null,
      corruption: null,
      repair: null,
    });
  });

  test("an empty or absent directory verifies as an empty log", () => {
    expect(verifyWal(path.join(tempDir(), "absent"))).toMatchObject({
      ok: true,
      recordCount: 0,
      firstIndex: null,
      lastIndex: 0,
    });
  });

  test("reports a torn tail without failing and lists snapshot validity", async () => {
    const dir = await logOf(5);
    await takeSnapshot(dir, {
      register: (storage) => storage.register(kvMachine()),
      fsync: "none",
    });
    const seg = path.join(dir, "wal", fs.readdirSync(path.join(dir, "wal"))[0] as string);
    writeAt(seg, dataEnd(seg), new Uint8Array([1, 2, 3]));
    const report = verifyWal(dir);
    expect(report.ok).toBe(true);
    expect(report.tail?.droppedBytes).toBe(3);
    expect(report.snapshots).toMatchObject([{ walIndex: 5, ok: true, problem: null }]);
  });
});

describe("dumpWal", () => {
  test("returns a page of decoded records from an index", async () => {
    const dir = await logOf(12);
    const { records, lastIndex } = dumpWal(dir, { fromIndex: 4, limit: 3 });
    expect(lastIndex).toBeGreaterThanOrEqual(6);
    expect(records).toEqual(
      [4, 5, 6].map((i) => ({
        walIndex: i,
        wallMs: 1_000 + i,
        machine: "kv",
        sizeBytes: JSON.stringify({ op: "set", key: `k${i}`, value: `v${i}` }).length,
        body: { op: "set", key: `k${i}`, value: `v${i}` },
        bodyError: null,
      })),
    );
    expect(dumpWal(dir, { fromIndex: 12, limit: 10 }).records.map((r) => r.walIndex)).toEqual([12]);
    expect(dumpWal(dir, { fromIndex: 13 }).records).toEqual([]);
    expect(dumpWal(path.join(dir, "absent"))).toEqual({ records: [], lastIndex: 0 });
  });

  test("rejects a limit outside 1..DUMP_LIMIT_MAX and an index below 1", async () => {
    const dir = await logOf(1);
    expect(() => dumpWal(dir, { limit: 0 })).toThrow(
      expect.objectContaining({ code: "bad_request" }),
    );
    expect(() => dumpWal(dir, { limit: DUMP_LIMIT_MAX + 1 })).toThrow(
      expect.objectContaining({ code: "bad_request" }),
    );
    expect(() => dumpWal(dir, { fromIndex: 0 })).toThrow(
      expect.objectContaining({ code: "bad_request" }),
    );
    expect(dumpWal(dir, { limit: DUMP_LIMIT_MAX }).records).toHaveLength(1);
  });
});

describe("repairWal and takeSnapshot", () => {
  test("repair of a clean log changes nothing", async () => {
    const dir = await logOf(3);
    expect(repairWal(dir, { dryRun: false })).toMatchObject({
      clean: true,
      cut: null,
      quarantineDir: null,
      lastIndexAfter: 3,
    });
  });

  test("repair needs the lock: it fails while storage is open", async () => {
    const dir = await logOf(1);
    const { storage } = await openKv(dir);
    expect(() => repairWal(dir, { dryRun: true })).toThrow(
      expect.objectContaining({ code: "unavailable" }),
    );
    await storage.close();
  });

  test("takeSnapshot recovers, writes one snapshot at the last index and releases the lock", async () => {
    const dir = await logOf(7);
    const { snapshot, recovery } = await takeSnapshot(dir, {
      register: (storage) => storage.register(kvMachine()),
      fsync: "none",
    });
    expect(recovery.lastIndex).toBe(7);
    expect(snapshot.walIndex).toBe(7);
    expect(fs.existsSync(snapshot.path)).toBe(true);
    expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(false);
  });
});
