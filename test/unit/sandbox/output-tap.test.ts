import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OutputCapture } from "../../../src/sandbox/output.ts";
import { OutputTap } from "../../../src/sandbox/output-tap.ts";

/** Feeds the same chunks to a tap and a capture; returns the tap's pieces and the capture's text. */
function both(chunks: readonly Uint8Array[], capBytes: number) {
  const pieces: string[] = [];
  const tap = new OutputTap(capBytes, (text) => {
    pieces.push(text);
  });
  const capture = new OutputCapture(capBytes);
  for (const chunk of chunks) {
    tap.push(chunk);
    capture.push(chunk);
  }
  tap.finish();
  return { pieces, text: capture.text() };
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe("OutputTap", () => {
  test("pieces never split a character; joined they equal the captured text", () => {
    // "é€😀" cut after every byte.
    const all = new TextEncoder().encode("é€😀");
    const { pieces, text } = both(
      Array.from(all, (b) => bytes(b)),
      1024,
    );
    expect(pieces).toEqual(["é", "€", "😀"]);
    expect(pieces.join("")).toBe(text);
  });

  test("past the cap the last piece is cut on a code point and ends with the marker", () => {
    const { pieces, text } = both([new TextEncoder().encode("ab€cd")], 4);
    expect(pieces).toEqual(["ab", "\n[TRUNCATED at 4 bytes]"]);
    expect(text).toBe("ab\n[TRUNCATED at 4 bytes]");
  });

  test("invalid UTF-8 becomes U+FFFD exactly as in the capture", () => {
    const { pieces, text } = both([bytes(0x61, 0xe2), bytes(0x82, 0x41), bytes(0xff, 0xc3)], 64);
    expect(pieces.join("")).toBe(text);
    expect(text).toBe("a\uFFFDA\uFFFD\uFFFD");
  });

  test("a returned promise is passed on (back-pressure)", async () => {
    let release: () => void = () => undefined;
    const tap = new OutputTap(64, () => new Promise<void>((resolve) => (release = resolve)));
    const pending = tap.push(bytes(0x61));
    expect(pending).toBeInstanceOf(Promise);
    release();
    await pending;
  });

  test("property: any bytes, any chunking, any cap: joined pieces equal the capture", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 40 }),
        (chunks, capBytes) => {
          const { pieces, text } = both(chunks, capBytes);
          expect(pieces.join("")).toBe(text);
        },
      ),
      { seed: 13, numRuns: 2000 },
    );
  });

  test("property: valid UTF-8 split anywhere joins to the same string", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        (s, step) => {
          const all = new TextEncoder().encode(s);
          const chunks: Uint8Array[] = [];
          for (let i = 0; i < all.length; i += step) chunks.push(all.subarray(i, i + step));
          const { pieces } = both(chunks, 1 << 20);
          expect(pieces.join("")).toBe(s);
          for (const piece of pieces) expect(piece).not.toContain("\uFFFD");
        },
      ),
      { seed: 7, numRuns: 1000 },
    );
  });
});
