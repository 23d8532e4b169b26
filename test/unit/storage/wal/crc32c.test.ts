import { describe, expect, test } from "bun:test";
import { crc32c } from "../../../../src/storage/wal/crc32c.ts";

function bytesOf(length: number, at: (i: number) => number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => at(i));
}

// Reference CRC, bit by bit, written independently of the table-driven implementation.
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("crc32c", () => {
  test("matches the standard check value of '123456789'", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });

  test("matches the RFC 3720 (iSCSI) B.4 vectors", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(bytesOf(32, () => 0xff))).toBe(0x62a8ab43);
    expect(crc32c(bytesOf(32, (i) => i))).toBe(0x46dd794e);
    expect(crc32c(bytesOf(32, (i) => 31 - i))).toBe(0x113fdb5c);
  });

  test("empty input is 0", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  test("agrees with a bitwise reference at every length 0..64 and on ranges", () => {
    const data = bytesOf(200, (i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= 64; n++) {
      expect(crc32c(data.subarray(0, n))).toBe(crc32cBitwise(data.subarray(0, n)));
    }
    expect(crc32c(data, 3, 150)).toBe(crc32cBitwise(data.subarray(3, 150)));
  });

  test("a single flipped bit changes the checksum", () => {
    const data = bytesOf(100, (i) => i);
    const before = crc32c(data);
    data[57] = (data[57] as number) ^ 0x10;
    expect(crc32c(data)).not.toBe(before);
  });
});
