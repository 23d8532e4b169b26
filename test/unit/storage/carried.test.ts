import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type CarriedRecord,
  decodeCarriedRecords,
  encodeCarriedRecords,
} from "../../../src/storage/carried.ts";
import {
  type AnyStateMachine,
  createStorage,
  openDataDir,
  type Storage,
} from "../../../src/storage/mod.ts";
import { decodeSnapshot, listSnapshots } from "../../../src/storage/snapshot.ts";
import { crc32c } from "../../../src/storage/wal/crc32c.ts";
import { type KvState, kvMachine } from "../../fixtures/storage/kv-machine.ts";
import { type Captured, tempDir } from "./storage-fixture.ts";

/** Opens `dir` with exactly `machines` registered (a binary that knows only those). */
async function openWith(
  dir: string,
  machines: AnyStateMachine[],
  binaryVersion: string,
): Promise<{ storage: Storage; lines: Captured }> {
  const lines: Captured = [];
  const log = (level: string, event: string, fields: Record<string, unknown>) => {
    lines.push({ level, event, fields });
  };
  const storage = createStorage(openDataDir(dir, { log }), {
    fsync: "none",
    log,
    nowMs: () => 1_000,
    binaryVersion,
    limits: { snapshotsKept: 1 },
  });
  for (const m of machines) storage.register(m);
  await storage.recover();
  return { storage, lines };
}

const kv = () => kvMachine("kv") as unknown as AnyStateMachine;
const runs = () => kvMachine("runs") as unknown as AnyStateMachine;
const setIn = (machine: string, key: string, value: string) => ({
  machine,
  body: { op: "set", key, value },
});

/** The newest snapshot of `dir`, decoded. */
function newestSnapshot(dir: string) {
  const snap = listSnapshots(path.join(dir, "snapshots"))[0];
  const decoded = decodeSnapshot(fs.readFileSync(snap?.path as string));
  if (!decoded.ok) throw new Error(decoded.problem);
  return decoded.data;
}

function segmentCount(dir: string): number {
  return fs.readdirSync(path.join(dir, "wal")).filter((n) => n.endsWith(".seg")).length;
}

describe("carried machines (a rollback never shrinks a data directory)", () => {
  test("records of an unknown machine survive snapshots of an older binary, then fold in a newer one", async () => {
    const dir = tempDir();
    // A newer binary writes both machines.
    const newer = await openWith(dir, [kv(), runs()], "0.3.0");
    await newer.storage.append([setIn("kv", "a", "1"), setIn("runs", "r1", "queued")]);
    await newer.storage.append([setIn("runs", "r1", "done")]);
    await newer.storage.close();

    // An older binary without `runs`: it carries the records, writes, and snapshots twice
    // (the second snapshot prunes the segments the first one covered).
    const older = await openWith(dir, [kv()], "0.1.0");
    const carried = older.lines.find((l) => l.event === "storage.machines_carried");
    expect(carried?.fields.machines).toEqual([
      { machine: "runs", format: 1, has_state: false, records: 2 },
    ]);
    await older.storage.append([setIn("kv", "b", "2")]);
    await older.storage.takeSnapshot();
    await older.storage.append([setIn("kv", "c", "3")]);
    await older.storage.takeSnapshot();
    await older.storage.close();
    const written = newestSnapshot(dir);
    expect(written.writtenBy).toBe("0.1.0");
    const part = written.machines.get("runs");
    expect(part?.state).toBeNull();
    expect(decodeCarriedRecords(part?.records as Uint8Array).map((r) => r.walIndex)).toEqual([
      2, 3,
    ]);

    // The newer binary again: `runs` is as it was, `kv` has the older binary's writes.
    const back = await openWith(dir, [kv(), runs()], "0.3.0");
    expect((back.storage.stateOf("runs") as KvState).entries).toEqual({ r1: "done" });
    expect((back.storage.stateOf("runs") as KvState).applied).toBe(2);
    expect((back.storage.stateOf("kv") as KvState).entries).toEqual({ a: "1", b: "2", c: "3" });
    expect(back.lines.some((l) => l.event === "storage.machines_carried")).toBe(false);
    await back.storage.close();
    expect(segmentCount(dir)).toBeGreaterThan(0);
  });

  test("an unknown machine's snapshot state is carried byte for byte and restored later", async () => {
    const dir = tempDir();
    const newer = await openWith(dir, [kv(), runs()], "0.3.0");
    await newer.storage.append([setIn("runs", "r1", "queued"), setIn("kv", "a", "1")]);
    await newer.storage.takeSnapshot();
    await newer.storage.append([setIn("runs", "r2", "queued")]);
    await newer.storage.close();

    const older = await openWith(dir, [kv()], "0.1.0");
    await older.storage.append([setIn("kv", "b", "2")]);
    await older.storage.takeSnapshot();
    await older.storage.close();
    const part = newestSnapshot(dir).machines.get("runs");
    const state = JSON.parse(new TextDecoder().decode(part?.state ?? undefined)) as KvState;
    expect(state.entries).toEqual({ r1: "queued" });
    expect(decodeCarriedRecords(part?.records as Uint8Array)).toHaveLength(1);

    const back = await openWith(dir, [kv(), runs()], "0.3.0");
    expect((back.storage.stateOf("runs") as KvState).entries).toEqual({
      r1: "queued",
      r2: "queued",
    });
    expect((back.storage.stateOf("kv") as KvState).entries).toEqual({ a: "1", b: "2" });
    // Its next snapshot holds `runs` as an ordinary machine again.
    await back.storage.takeSnapshot();
    await back.storage.close();
    expect(newestSnapshot(dir).machines.get("runs")?.records).toBeNull();
  });

  test("a known machine in a newer snapshot format is refused, naming the machine and the writer", async () => {
    const dir = tempDir();
    const newer = await openWith(dir, [{ ...kv(), format: 2 }], "0.4.0");
    await newer.storage.append([setIn("kv", "a", "1")]);
    await newer.storage.takeSnapshot();
    await newer.storage.close();
    const refused = openWith(dir, [kv()], "0.1.0");
    await expect(refused).rejects.toMatchObject({
      code: "unavailable",
      details: { reason: "machine_format_newer", machine: "kv", format: 2, written_by: "0.4.0" },
    });
    // Nothing was removed: the newer binary still opens it.
    const back = await openWith(dir, [{ ...kv(), format: 2 }], "0.4.0");
    expect((back.storage.stateOf("kv") as KvState).entries).toEqual({ a: "1" });
    await back.storage.close();
  });

  test("a version-1 snapshot (before formats and carried records) still restores", async () => {
    const dir = tempDir();
    const first = await openWith(dir, [kv()], "0.1.0");
    await first.storage.append([setIn("kv", "a", "1")]);
    await first.storage.close();
    const state = new TextEncoder().encode(
      JSON.stringify({ entries: { a: "1" }, applied: 1, lastWallMs: 1_000 }),
    );
    const header = new TextEncoder().encode(
      JSON.stringify({
        version: 1,
        walIndex: 1,
        wallMs: 1_000,
        machines: [{ name: "kv", sizeBytes: state.length }],
      }),
    );
    const bytes = new Uint8Array(16 + header.length + state.length);
    bytes.set(new TextEncoder().encode("VLTSNAP1"), 0);
    const view = new DataView(bytes.buffer);
    view.setUint32(12, header.length, true);
    bytes.set(header, 16);
    bytes.set(state, 16 + header.length);
    view.setUint32(8, crc32c(bytes, 12, bytes.length), true);
    fs.writeFileSync(path.join(dir, "snapshots", `${"1".padStart(20, "0")}.snap`), bytes);
    const again = await openWith(dir, [kv()], "0.2.0");
    expect((again.storage.stateOf("kv") as KvState).entries).toEqual({ a: "1" });
    const recovered = again.lines.find((l) => l.event === "storage.recovered");
    expect(recovered?.fields.snapshotIndex).toBe(1);
    await again.storage.close();
  });
});

describe("carried records part", () => {
  test("round-trips bodies, indexes and times; refuses truncated and trailing bytes", () => {
    const records: CarriedRecord[] = [
      { walIndex: 3, wallMs: 1_700_000_000_000, body: new Uint8Array([123, 125]) },
      { walIndex: 9, wallMs: 0, body: new Uint8Array(0) },
    ];
    const bytes = encodeCarriedRecords(records);
    expect(decodeCarriedRecords(bytes)).toEqual(records);
    expect(decodeCarriedRecords(encodeCarriedRecords([]))).toEqual([]);
    for (const bad of [
      bytes.subarray(0, bytes.length - 1),
      new Uint8Array([...bytes, 0]),
      bytes.subarray(0, 2),
    ]) {
      expect(() => decodeCarriedRecords(bad)).toThrow(
        expect.objectContaining({ code: "unavailable" }),
      );
    }
  });
});
