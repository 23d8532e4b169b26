import { describe, expect, test } from "bun:test";
import {
  FRAME_TYPE_RECORD,
  FRAME_TYPE_RECORD_LAST,
  frameSizeBytes,
  writeFrame,
} from "../../../../src/storage/wal/frame.ts";
import {
  parseSegmentFileName,
  scanSegment,
  segmentFileName,
} from "../../../../src/storage/wal/segment.ts";

const nameBytes = new TextEncoder().encode("kv");
const body = new TextEncoder().encode('{"v":"0123456789"}');
const FRAME = frameSizeBytes(nameBytes.length, body.length);

/** `batches` sizes, e.g. [1, 3] = a one-record batch then a three-record batch, from index `first`. */
function segmentOf(batches: number[], first = 1): Uint8Array {
  const total = batches.reduce((a, b) => a + b, 0);
  const bytes = new Uint8Array(total * FRAME);
  let offset = 0;
  let walIndex = first;
  for (const size of batches) {
    for (let i = 0; i < size; i++) {
      const type = i === size - 1 ? FRAME_TYPE_RECORD_LAST : FRAME_TYPE_RECORD;
      offset = writeFrame(bytes, offset, {
        type,
        walIndex: walIndex++,
        wallMs: 0,
        nameBytes,
        body,
      });
    }
  }
  return bytes;
}

describe("segment file names", () => {
  test("round-trip the first index with 20 digits and reject other names", () => {
    expect(segmentFileName(42)).toBe("00000000000000000042.seg");
    expect(parseSegmentFileName(segmentFileName(2 ** 50))).toBe(2 ** 50);
    expect(parseSegmentFileName("00000000000000000000.seg")).toBeNull();
    expect(parseSegmentFileName("42.seg")).toBeNull();
    expect(parseSegmentFileName("00000000000000000042.seg.tmp")).toBeNull();
  });
});

describe("scanSegment", () => {
  test("hands complete batches in order and reports the end", () => {
    const seen: number[][] = [];
    const scan = scanSegment(segmentOf([1, 3, 2], 7), 7, {
      payloadBytesMax: 4096,
      onBatch: (frames) => seen.push(frames.map((f) => f.walIndex)),
    });
    expect(seen).toEqual([[7], [8, 9, 10], [11, 12]]);
    expect(scan).toMatchObject({ recordCount: 6, lastIndex: 12, incompleteCount: 0, damage: null });
  });

  test("a tear inside the last batch: the batch is incomplete, nothing valid follows", () => {
    const bytes = segmentOf([2, 3]).subarray(0, FRAME * 4 + 5);
    const scan = scanSegment(bytes, 1, { payloadBytesMax: 4096 });
    expect(scan.lastIndex).toBe(2);
    expect(scan.completeEndBytes).toBe(FRAME * 2);
    expect(scan.incompleteCount).toBe(2);
    expect(scan.damage).toMatchObject({ problem: "short_header", zeroTail: false, resync: null });
  });

  test("damage followed by valid frames is found by resynchronising", () => {
    const bytes = segmentOf([1, 1, 1, 1]);
    bytes[FRAME + 20] = (bytes[FRAME + 20] as number) ^ 1;
    const scan = scanSegment(bytes, 1, { payloadBytesMax: 4096 });
    expect(scan.lastIndex).toBe(1);
    expect(scan.damage).toMatchObject({
      problem: "checksum_mismatch",
      resync: { offsetBytes: FRAME * 2, walIndex: 3 },
    });
  });

  test("a frame with the wrong index is a gap, and zero fill is recognised", () => {
    const gap = scanSegment(segmentOf([1, 1], 5), 4, { payloadBytesMax: 4096 });
    expect(gap.damage?.problem).toBe("index_gap");
    const padded = new Uint8Array(FRAME * 2 + 100);
    padded.set(segmentOf([2]));
    expect(scanSegment(padded, 1, { payloadBytesMax: 4096 }).damage).toMatchObject({
      zeroTail: true,
    });
  });

  test("stopAfterIndex stops reading after the batch holding that index", () => {
    const bytes = segmentOf([1, 1, 1]);
    bytes[FRAME * 2 + 20] = 0xff;
    const scan = scanSegment(bytes, 1, { payloadBytesMax: 4096, stopAfterIndex: 2 });
    expect(scan.lastIndex).toBe(2);
    expect(scan.damage).toBeNull();
  });
});
