/**
 * Writing a snapshot from pieces (a machine's `snapshotParts`): views adjacent in one buffer,
 * small pieces and large ones, checksummed in slices — the file holds exactly the bytes
 * `encodeSnapshot` gives for the joined state, and decodes with every part where it belongs.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  decodeSnapshot,
  encodeSnapshot,
  type SnapshotToWrite,
  writeSnapshot,
} from "../../../src/storage/snapshot.ts";
import { seededRandom } from "../../support/random.ts";
import { tempDir } from "./storage-fixture.ts";

const yielding = { sliceMs: 0, monotonicMs: () => performance.now() };

/** `n` random bytes from `random`. */
function bytesOf(n: number, random: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

describe("writeSnapshot from pieces", () => {
  test("adjacent views, small and large pieces: the file equals the joined encoding", async () => {
    const random = seededRandom(7);
    // One buffer cut into adjacent views (as restored journals are), then views that are not
    // adjacent, tiny pieces and one piece larger than a write slice.
    const shared = bytesOf(300_000, random);
    const pieces = [
      shared.subarray(0, 10),
      shared.subarray(10, 100_000),
      shared.subarray(100_000, 300_000),
      shared.subarray(5, 9),
      ...Array.from({ length: 50 }, (_, i) => bytesOf(i, random)),
      bytesOf(5 * 1024 * 1024 + 3, random),
      new Uint8Array(0),
    ];
    const records = bytesOf(1000, random);
    const data: SnapshotToWrite = {
      walIndex: 42,
      wallMs: 1_700_000_000_000,
      writtenBy: "test",
      machines: new Map([
        ["big", { format: 2, state: pieces, records: null }],
        ["none", { format: 1, state: null, records }],
        ["one", { format: 1, state: [bytesOf(17, random)], records: null }],
      ]),
    };
    const dir = tempDir();
    const file = await writeSnapshot(dir, data, yielding);
    expect(path.basename(file.path)).toBe("00000000000000000042.snap");
    const written = new Uint8Array(fs.readFileSync(file.path));
    const joined = new Map(
      [...data.machines].map(([name, m]) => [
        name,
        { ...m, state: m.state === null ? null : Buffer.concat(m.state) },
      ]),
    );
    expect(written).toEqual(new Uint8Array(encodeSnapshot({ ...data, machines: joined })));
    const decoded = decodeSnapshot(written);
    if (!decoded.ok) throw new Error(decoded.problem);
    expect(decoded.data.machines.get("big")?.state).toEqual(Buffer.concat(pieces));
    expect(decoded.data.machines.get("none")).toEqual({ format: 1, state: null, records });
    // One flipped byte anywhere in the pieces is a checksum mismatch.
    const at = written.length - 200_000;
    written[at] = (written[at] as number) ^ 1;
    expect(decodeSnapshot(written)).toEqual({ ok: false, problem: "checksum_mismatch" });
  });
});
