/** Group commit's pure half: frames of queued batches, in a fresh buffer or the writer's scratch. */
import { describe, expect, test } from "bun:test";
import { defaultLimits } from "../../../../src/storage/options.ts";
import { readFrame } from "../../../../src/storage/wal/frame.ts";
import {
  buildGroup,
  checkBatch,
  GROUP_SCRATCH_BYTES_MAX,
  GroupScratch,
  type QueuedBatch,
} from "../../../../src/storage/wal/group-commit.ts";

const enc = new TextEncoder();
const PAYLOAD_MAX = 1 << 26;

function batchOf(bodies: string[], wallMs = 1_000): QueuedBatch {
  const inputs = bodies.map((b) => ({ machine: "kv", body: enc.encode(b), wallMs }));
  const { records, sizeBytes } = checkBatch(inputs, defaultLimits(), 0);
  return { records, sizeBytes, resolve: () => {}, reject: () => {} };
}

/** Bodies of the frames in `bytes`, decoded, with their indexes. */
function framesOf(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const frame = readFrame(bytes, at, bytes.length, PAYLOAD_MAX);
    if (typeof frame === "string") throw new Error(frame);
    out.push(`${frame.walIndex}:${new TextDecoder().decode(frame.body)}`);
    at = frame.endOffset;
  }
  return out;
}

describe("buildGroup", () => {
  test("a scratch buffer frames the same bytes as a fresh one", () => {
    const batches = [batchOf(["a", "bb"]), batchOf(["ccc"], 5)];
    const fresh = buildGroup(batches, 7, 0);
    const reused = buildGroup(batches, 7, 0, new GroupScratch());
    expect(reused.bytes).toEqual(fresh.bytes);
    expect(framesOf(reused.bytes)).toEqual(["7:a", "8:bb", "9:ccc"]);
    expect(reused.results).toEqual([
      { firstIndex: 7, lastIndex: 8 },
      { firstIndex: 9, lastIndex: 9 },
    ]);
    // Wall clocks never go backwards inside a group.
    expect(reused.records.map((r) => r.wallMs)).toEqual([1_000, 1_000, 1_000]);
  });

  test("records keep their bodies when the scratch frames the next group", () => {
    const scratch = new GroupScratch();
    const first = buildGroup([batchOf(["first body"])], 1, 0, scratch);
    const firstBytes = first.bytes.slice();
    const second = buildGroup([batchOf(["other text"])], 2, 0, scratch);
    // The scratch was reused: the first group's bytes were overwritten…
    expect(second.bytes.buffer).toBe(first.bytes.buffer);
    expect(first.bytes).not.toEqual(firstBytes);
    // …but what subscribers and state machines hold is the appended body, not a view of them.
    const record = first.records[0];
    expect(new TextDecoder().decode(record?.body)).toBe("first body");
    expect(record?.body).toBe(record?.appended as Uint8Array);
  });

  test("a group over the cap gets a buffer of its own, and the scratch stays as it was", () => {
    const scratch = new GroupScratch();
    const small = buildGroup([batchOf(["x"])], 1, 0, scratch);
    const big = scratch.take(GROUP_SCRATCH_BYTES_MAX + 1);
    expect(big.buffer).not.toBe(small.bytes.buffer);
    expect(scratch.take(4).buffer).toBe(small.bytes.buffer);
    // Growth doubles up to the cap, never past it.
    expect(scratch.take(GROUP_SCRATCH_BYTES_MAX).buffer.byteLength).toBe(GROUP_SCRATCH_BYTES_MAX);
  });
});
