/** Snapshot parts: round trip; small parts are copied out of the snapshot's bytes, large ones kept as views. */
import { describe, expect, test } from "bun:test";
import { decodeParts, encodeParts, joinParts, PartReader } from "../../../src/storage/mod.ts";

const MIB = 1024 * 1024;

describe("snapshot parts", () => {
  test("round trip: header and parts come back in order; sizes must add up", () => {
    const bytes = joinParts(
      encodeParts("VLTTEST1", { sizes: [3, 2] }, [
        Uint8Array.from([1, 2, 3]),
        Uint8Array.from([4, 5]),
      ]),
    );
    const { header, parts } = decodeParts(bytes);
    expect(header).toEqual({ sizes: [3, 2] });
    const reader = new PartReader(parts);
    expect(Array.from(reader.next(3))).toEqual([1, 2, 3]);
    expect(Array.from(reader.next(2))).toEqual([4, 5]);
    reader.end();
    expect(() => new PartReader(parts).next(6)).toThrow("shorter");
    expect(() => new PartReader(parts).end()).toThrow("longer");
  });

  test("small parts are copies (a view would pin the whole mapped snapshot); large ones are views", () => {
    // A snapshot file much larger than the small part: the part must not keep it alive.
    const small = joinParts([
      ...encodeParts("VLTTEST1", {}, [new Uint8Array(1024)]),
      new Uint8Array(0),
    ]);
    const host = new Uint8Array(small.length + 32 * MIB);
    host.set(small);
    const kept = decodeParts(host.subarray(0, small.length)).parts;
    expect(kept.buffer).not.toBe(host.buffer);
    expect(kept.buffer.byteLength).toBe(1024);
    const large = joinParts(encodeParts("VLTTEST1", {}, [new Uint8Array(17 * MIB)]));
    const view = decodeParts(large).parts;
    if (process.platform === "win32") expect(view.buffer).not.toBe(large.buffer);
    else expect(view.buffer).toBe(large.buffer);
  });
});
