import { describe, expect, test } from "bun:test";
import {
  FRAME_HEADER_BYTES,
  FRAME_TYPE_RECORD,
  FRAME_TYPE_RECORD_LAST,
  frameSizeBytes,
  readFrame,
  writeFrame,
} from "../../../../src/storage/wal/frame.ts";

const enc = new TextEncoder();
const PAYLOAD_MAX = 1 << 20;

function frameOf(walIndex: number, body = "hello", type = FRAME_TYPE_RECORD_LAST): Uint8Array {
  const nameBytes = enc.encode("kv");
  const bytes = new Uint8Array(frameSizeBytes(nameBytes.length, enc.encode(body).length));
  writeFrame(bytes, 0, {
    type,
    walIndex,
    wallMs: 1_700_000_000_000,
    nameBytes,
    body: enc.encode(body),
  });
  return bytes;
}

describe("writeFrame / readFrame", () => {
  test("round-trips index, time, type, machine and body, including a 2^40 index", () => {
    for (const walIndex of [1, 2 ** 32 + 5, 2 ** 40]) {
      const bytes = frameOf(walIndex, "body ✓", FRAME_TYPE_RECORD);
      const read = readFrame(bytes, 0, bytes.length, PAYLOAD_MAX);
      if (typeof read === "string") throw new Error(read);
      expect(read.walIndex).toBe(walIndex);
      expect(read.wallMs).toBe(1_700_000_000_000);
      expect(read.type).toBe(FRAME_TYPE_RECORD);
      expect(read.machine).toBe("kv");
      expect(new TextDecoder().decode(read.body)).toBe("body ✓");
      expect(read.endOffset).toBe(bytes.length);
    }
  });

  test("the length field counts the payload after the 9-byte header", () => {
    const bytes = frameOf(1, "x");
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBe(bytes.length - FRAME_HEADER_BYTES);
  });

  test("every single-bit flip anywhere in the frame is detected", () => {
    const bytes = frameOf(3, "abcdef");
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const copy = bytes.slice();
      copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(typeof readFrame(copy, 0, copy.length, PAYLOAD_MAX)).toBe("string");
    }
  });

  test("reports short headers, truncation, bad lengths and bad types", () => {
    const bytes = frameOf(1);
    expect(readFrame(bytes, 0, 5, PAYLOAD_MAX)).toBe("short_header");
    expect(readFrame(bytes, 0, bytes.length - 1, PAYLOAD_MAX)).toBe("truncated");
    expect(readFrame(bytes, 0, bytes.length, 10)).toBe("length_invalid");
    expect(readFrame(new Uint8Array(64), 0, 64, PAYLOAD_MAX)).toBe("length_invalid");
    const badType = bytes.slice();
    badType[8] = 9;
    expect(readFrame(badType, 0, badType.length, PAYLOAD_MAX)).toBe("type_invalid");
  });

  test("refuses to encode an index below 1 or an unsafe one (a bug, not input)", () => {
    const nameBytes = enc.encode("kv");
    const buf = new Uint8Array(64);
    expect(() =>
      writeFrame(buf, 0, { type: 2, walIndex: 0, wallMs: 0, nameBytes, body: new Uint8Array(1) }),
    ).toThrow();
    expect(() =>
      writeFrame(buf, 0, {
        type: 2,
        walIndex: 2 ** 53,
        wallMs: 0,
        nameBytes,
        body: new Uint8Array(1),
      }),
    ).toThrow();
  });
});
