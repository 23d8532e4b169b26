import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { VltairError } from "../../../src/core/mod.ts";
import { createStorage, nodeWalIo, openDataDir, type WalFileIo } from "../../../src/storage/mod.ts";
import { decodeBody } from "../../../src/storage/record-body.ts";
import { type KvState, kvMachine } from "../../fixtures/storage/kv-machine.ts";
import { countingIo, openKv, set, tempDir } from "./storage-fixture.ts";

describe("Storage.append", () => {
  test("returns consecutive indexes, applies in order and survives a reopen", async () => {
    const dir = tempDir();
    const { storage } = await openKv(dir);
    expect(await storage.append([set("a", "1")])).toEqual({ firstIndex: 1, lastIndex: 1 });
    expect(await storage.append([set("b", "2"), set("a", "3")])).toEqual({
      firstIndex: 2,
      lastIndex: 3,
    });
    expect((storage.stateOf("kv") as KvState).entries).toEqual({ a: "3", b: "2" });
    await storage.close();
    const again = await openKv(dir);
    expect(again.storage.lastIndex).toBe(3);
    expect((again.storage.stateOf("kv") as KvState).entries).toEqual({ a: "3", b: "2" });
    await again.storage.close();
  });

  test("rejects a body its schema refuses with validation_failed, writing nothing", async () => {
    const { storage } = await openKv(tempDir());
    const bad = storage.append([{ machine: "kv", body: { op: "nope" } }]);
    await expect(bad).rejects.toMatchObject({ code: "validation_failed" });
    const badTime = storage.append([{ ...set("a", "1"), wallMs: -1 }]);
    await expect(badTime).rejects.toMatchObject({ code: "bad_request" });
    await expect(storage.append([{ ...set("a", "1"), wallMs: 1.5 }])).rejects.toMatchObject({
      code: "bad_request",
    });
    await expect(storage.append([{ machine: "other", body: {} }])).rejects.toMatchObject({
      code: "bad_request",
    });
    expect(storage.lastIndex).toBe(0);
    await storage.close();
  });

  test("rejects an empty batch, a body over recordBytesMax and appends after close", async () => {
    const { storage } = await openKv(tempDir(), {
      limits: { recordBytesMax: 1024, segmentBytes: 65536 },
    });
    await expect(storage.append([])).rejects.toMatchObject({ code: "bad_request" });
    await expect(storage.append([set("k", "x".repeat(900))])).resolves.toEqual({
      firstIndex: 1,
      lastIndex: 1,
    });
    await expect(storage.append([set("k", "x".repeat(1024))])).rejects.toMatchObject({
      code: "payload_too_large",
    });
    await storage.close();
    const closed = storage.append([set("k", "v")]);
    await expect(closed).rejects.toBeInstanceOf(VltairError);
    await expect(closed).rejects.toMatchObject({ code: "unavailable" });
  });

  test("group commit: concurrent appends share writes and fsyncs", async () => {
    const { io, counts } = countingIo();
    const { storage } = await openKv(tempDir(), { fsync: "always", io });
    const appends = Array.from({ length: 64 }, (_, i) => storage.append([set(`k${i}`, String(i))]));
    const results = await Promise.all(appends);
    expect(results.map((r) => r.firstIndex).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 64 }, (_, i) => i + 1),
    );
    // The first append starts a group alone; the other 63 arrive while it is in flight and share one.
    expect(counts.writes).toBeLessThanOrEqual(2);
    // The first group extends the new segment by one step of zeros, written from a shared buffer.
    expect(counts.fills).toBe(1);
    expect(counts.syncs).toBeLessThanOrEqual(2);
    expect((storage.stateOf("kv") as KvState).applied).toBe(64);
    await storage.close();
  });

  test("a lone append syncs on the thread only after 8 quiet groups, and every 16th of those off it", async () => {
    const calls: string[] = [];
    const io: WalFileIo = {
      ...nodeWalIo,
      datasync(fd) {
        calls.push("pool");
        return nodeWalIo.datasync(fd);
      },
      datasyncNow(fd) {
        calls.push("here");
        nodeWalIo.datasyncNow?.(fd);
      },
    };
    const { storage } = await openKv(tempDir(), { fsync: "always", io });
    const start = calls.length;
    for (let i = 0; i < 40; i++) await storage.append([set(`k${i}`, "v")]);
    const single = calls.slice(start);
    expect(single.slice(0, 8)).toEqual(Array(8).fill("pool"));
    expect(single.slice(8, 23)).toEqual(Array(15).fill("here"));
    // The 16th on-thread candidate probes off the thread; nothing queued, so it stays quiet.
    expect(single[23]).toBe("pool");
    expect(single.slice(24, 39)).toEqual(Array(15).fill("here"));
    // Writers overlap: groups of more than one sync off the thread, and the count starts over.
    calls.length = 0;
    await Promise.all(Array.from({ length: 16 }, (_, i) => storage.append([set(`c${i}`, "v")])));
    await storage.append([set("after", "v")]);
    expect(calls.at(-1)).toBe("pool");
    await storage.close();
  });

  test("fsync interval:<ms> resolves before syncing and syncs within the interval", async () => {
    const { io, counts } = countingIo();
    const { storage } = await openKv(tempDir(), { fsync: "interval:5", io });
    const before = counts.syncs;
    await storage.append([set("a", "1")]);
    expect(counts.syncs).toBe(before);
    const deadline = Date.now() + 5_000;
    while (counts.syncs === before && Date.now() < deadline)
      await new Promise((r) => setImmediate(r));
    expect(counts.syncs).toBeGreaterThan(before);
    await storage.close();
  });

  test("fsync none never syncs on append; always syncs before resolving", async () => {
    for (const [policy, expectBefore] of [
      ["none", 0],
      ["always", 1],
    ] as const) {
      const { io, counts } = countingIo();
      const { storage } = await openKv(tempDir(), { fsync: policy, io });
      const before = counts.syncs;
      await storage.append([set("a", "1")]);
      expect(counts.syncs - before).toBe(expectBefore);
      await storage.close();
    }
  });

  test("wallMs never goes backwards: a record older than its predecessor takes its time", async () => {
    const { storage } = await openKv(tempDir());
    await storage.append([{ ...set("a", "1"), wallMs: 5_000 }]);
    await storage.append([{ ...set("b", "1"), wallMs: 4_000 }]);
    expect((storage.stateOf("kv") as KvState).lastWallMs).toBe(5_000);
    const records = storage.wal.read(1, { limit: 10 });
    expect(records.map((r) => r.wallMs)).toEqual([5_000, 5_000]);
    await storage.close();
  });
});

describe("Storage failures in folds and subscribers", () => {
  test("a state machine that throws stops the log: that append is internal, later ones unavailable", async () => {
    const dir = tempDir();
    const storage = createStorage(openDataDir(dir), { fsync: "none" });
    storage.register({
      name: "fragile",
      init: () => 0,
      apply: (state: number, record: { body: { n: number } }) => {
        if (record.body.n < 0) throw new Error("negative");
        return state + record.body.n;
      },
      snapshot: (state: number) => new TextEncoder().encode(String(state)),
      restore: (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes)),
    });
    await storage.recover();
    await storage.append([{ machine: "fragile", body: { n: 1 } }]);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: { code?: string; details?: { reason?: string } }) =>
          `${e.code}/${e.details?.reason ?? "-"}`,
      );
    expect(await outcome(storage.append([{ machine: "fragile", body: { n: -1 } }]))).toBe(
      "internal/-",
    );
    expect(await outcome(storage.append([{ machine: "fragile", body: { n: 2 } }]))).toBe(
      "unavailable/failed",
    );
    expect(storage.stateOf("fragile") as number).toBe(1);
    await storage.close();
  });

  test("a subscriber keeps the bodies it was given, whatever is appended after", async () => {
    const storage = createStorage(openDataDir(tempDir()), { fsync: "none", nowMs: () => 1_000 });
    storage.register({ ...kvMachine("blobs"), bodyEncoding: "blobs" });
    await storage.recover();
    const kept: Uint8Array[] = [];
    const stop = storage.wal.subscribe(1, (records) => {
      for (const r of records) kept.push(r.body);
      // Leaving while it runs: what it was handed is still its own.
      if (kept.length === 2) stop();
    });
    const value = (n: number) => String(n).repeat(100_000);
    for (let n = 1; n <= 3; n++) {
      await storage.append([{ machine: "blobs", body: { op: "set", key: "k", value: value(n) } }]);
    }
    // Pooled body buffers are only reused when no subscriber received them; the third and
    // fourth bodies, published to nobody, reuse one buffer and leave the kept ones intact.
    await storage.append([{ machine: "blobs", body: { op: "set", key: "k", value: value(4) } }]);
    expect(kept.map((b) => (decodeBody(b) as { value: string }).value)).toEqual([
      value(1),
      value(2),
    ]);
    expect((storage.stateOf("blobs") as KvState).entries).toEqual({ k: value(4) });
    await storage.close();
  });

  test("a subscriber that throws is logged and does not stop appends", async () => {
    const { storage, lines } = await openKv(tempDir());
    storage.wal.subscribe(1, () => {
      throw new Error("bad subscriber");
    });
    await storage.append([set("a", "1")]);
    await storage.append([set("b", "2")]);
    expect(storage.lastIndex).toBe(2);
    expect(lines.filter((l) => l.event === "wal.subscriber_failed").length).toBe(2);
    await storage.close();
  });
});

describe("Storage segments and snapshots", () => {
  test("rotates segments by size and keeps every record readable", async () => {
    const dir = tempDir();
    const { storage } = await openKv(dir, {
      limits: { segmentBytes: 65536, recordBytesMax: 4096, snapshotEveryBytes: 0 },
    });
    for (let i = 0; i < 200; i++) await storage.append([set(`k${i}`, "x".repeat(1000))]);
    const segments = fs.readdirSync(path.join(dir, "wal")).filter((n) => n.endsWith(".seg"));
    expect(segments.length).toBeGreaterThanOrEqual(3);
    for (const name of segments)
      expect(fs.statSync(path.join(dir, "wal", name)).size).toBeLessThanOrEqual(65536);
    expect(storage.wal.read(1, { limit: 1000 }).map((r) => r.walIndex)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    await storage.close();
    const again = await openKv(dir, { limits: { segmentBytes: 65536, recordBytesMax: 4096 } });
    expect((again.storage.stateOf("kv") as KvState).applied).toBe(200);
    await again.storage.close();
  });

  test("automatic snapshots by size keep K and remove covered segments; recovery starts from the newest", async () => {
    const dir = tempDir();
    const limits = {
      segmentBytes: 65536,
      recordBytesMax: 4096,
      snapshotEveryBytes: 100_000,
      snapshotsKept: 2,
    };
    const { storage, lines } = await openKv(dir, { limits });
    for (let i = 0; i < 600; i++)
      await storage.append([set(`k${i % 50}`, `${i}-${"y".repeat(900)}`)]);
    await storage.close();
    const snaps = fs.readdirSync(path.join(dir, "snapshots")).filter((n) => n.endsWith(".snap"));
    expect(snaps.length).toBe(2);
    // ~570 KB past a 100 KB threshold: 5 or so, fewer when a threshold passes while a snapshot is
    // still being written (it is not queued); 3 or more means pruning to 2 happened.
    expect(lines.filter((l) => l.event === "snapshot.written").length).toBeGreaterThanOrEqual(3);
    const oldest = Math.min(...snaps.map((n) => Number(n.slice(0, 20))));
    const segs = fs
      .readdirSync(path.join(dir, "wal"))
      .filter((n) => n.endsWith(".seg"))
      .map((n) => Number(n.slice(0, 20)));
    // Every remaining segment except the active one still holds records after the oldest snapshot.
    const sorted = segs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < sorted.length; i++)
      expect((sorted[i + 1] as number) - 1).toBeGreaterThan(oldest);
    expect(sorted[0]).toBeGreaterThan(1);
    const again = await openKv(dir, { limits });
    const report = again.lines.find((l) => l.event === "storage.recovered")?.fields;
    expect(report?.snapshotIndex).toBe(Math.max(...snaps.map((n) => Number(n.slice(0, 20)))));
    expect((again.storage.stateOf("kv") as KvState).applied).toBe(600);
    expect((again.storage.stateOf("kv") as KvState).entries.k49).toBe(`599-${"y".repeat(900)}`);
    await again.storage.close();
  });

  test("log replayed at start counts toward snapshotEveryBytes, so short-lived runs still snapshot", async () => {
    const dir = tempDir();
    const limits = { snapshotEveryBytes: 10_000 };
    for (let run = 0; run < 3; run++) {
      const { storage } = await openKv(dir, { limits });
      // About 4 KB per run: no single run reaches the threshold.
      for (let i = 0; i < 10; i++) await storage.append([set(`r${run}.${i}`, "s".repeat(360))]);
      await storage.close();
    }
    const snaps = fs.readdirSync(path.join(dir, "snapshots")).filter((n) => n.endsWith(".snap"));
    expect(snaps.length).toBe(1);
  });

  test("a clean close snapshots a long tail (1/16 of snapshotEveryBytes, at least 1 MiB), not a short one", async () => {
    const limits = { snapshotEveryBytes: 32 * 1024 * 1024 };
    const snapshotsOf = (dir: string) =>
      fs.readdirSync(path.join(dir, "snapshots")).filter((n) => n.endsWith(".snap"));
    const long = tempDir();
    const first = await openKv(long, { limits });
    // 2.4 MB: past 32 MiB / 16 = 2 MiB.
    for (let i = 0; i < 6; i++) await first.storage.append([set(`k${i}`, "v".repeat(400_000))]);
    expect(snapshotsOf(long)).toEqual([]);
    await first.storage.close();
    expect(snapshotsOf(long)).toEqual([`${String(6).padStart(20, "0")}.snap`]);
    const reopened = await openKv(long, { limits });
    expect(
      reopened.lines.find((l) => l.event === "storage.recovered")?.fields.replayedRecords,
    ).toBe(0);
    await reopened.storage.close();
    const short = tempDir();
    const small = await openKv(short, { limits });
    await small.storage.append([set("k", "v".repeat(400_000))]);
    await small.storage.close();
    expect(snapshotsOf(short)).toEqual([]);
  });

  test("snapshot by time: the first commit after snapshotEveryMs takes one", async () => {
    let now = 1_000;
    const { storage, lines } = await openKv(tempDir(), {
      nowMs: () => now,
      limits: { snapshotEveryMs: 60_000, snapshotEveryBytes: 0 },
    });
    await storage.append([set("a", "1")]);
    expect(lines.some((l) => l.event === "snapshot.written")).toBe(false);
    now += 60_000;
    await storage.append([set("a", "2")]);
    await storage.close();
    expect(
      lines.filter((l) => l.event === "snapshot.written").map((l) => l.fields.walIndex),
    ).toEqual([2]);
  });

  test("subscribe delivers past records then live ones, in order, once", async () => {
    const { storage } = await openKv(tempDir());
    await storage.append([set("a", "1"), set("b", "2")]);
    const seen: number[] = [];
    const stop = storage.wal.subscribe(2, (records) => {
      for (const r of records) seen.push(r.walIndex);
    });
    await storage.append([set("c", "3")]);
    stop();
    await storage.append([set("d", "4")]);
    expect(seen).toEqual([2, 3]);
    await storage.close();
  });
});
