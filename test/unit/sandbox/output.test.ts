import { describe, expect, test } from "bun:test";
import {
  decodeUtf8,
  OutputCapture,
  truncationMarker,
  utf8Boundary,
} from "../../../src/sandbox/output.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("utf8Boundary", () => {
  test("keeps a buffer that ends on a whole character", () => {
    expect(utf8Boundary(utf8("a€"))).toBe(4);
    expect(utf8Boundary(utf8(""))).toBe(0);
  });
  test("drops a 3-byte character cut after 1 and 2 bytes", () => {
    expect(utf8Boundary(bytes(0x61, 0xe2))).toBe(1);
    expect(utf8Boundary(bytes(0x61, 0xe2, 0x82))).toBe(1);
  });
  test("drops a 4-byte character cut after 3 bytes", () => {
    expect(utf8Boundary(bytes(0x61, 0xf0, 0x9f, 0x98))).toBe(1);
  });
  test("leaves stray continuation bytes for the decoder", () => {
    expect(utf8Boundary(bytes(0x61, 0x80, 0x80, 0x80, 0x80))).toBe(5);
  });
});

describe("decodeUtf8", () => {
  test("replaces invalid bytes with U+FFFD", () => {
    expect(decodeUtf8(bytes(0x61, 0xff, 0x62, 0xc3, 0x28))).toBe("a\uFFFDb\uFFFD(");
  });
});

describe("OutputCapture", () => {
  test("under the cap keeps everything, not truncated", () => {
    const cap = new OutputCapture(8);
    expect(cap.push(utf8("abc"))).toBe(false);
    expect(cap.push(utf8("defgh"))).toBe(false);
    expect(cap.text()).toBe("abcdefgh");
    expect(cap.truncated).toBe(false);
  });
  test("one byte past the cap truncates with the marker carrying the cap", () => {
    const cap = new OutputCapture(8);
    expect(cap.push(utf8("abcdefghi"))).toBe(true);
    expect(cap.text()).toBe(`abcdefgh\n${truncationMarker(8)}`);
    expect(cap.text().endsWith("[TRUNCATED at 8 bytes]")).toBe(true);
    expect(cap.totalBytes).toBe(9);
  });
  test("a multi-byte character straddling the cap is dropped whole", () => {
    const cap = new OutputCapture(5);
    cap.push(utf8("abcd€x")); // € is 3 bytes at offsets 4..6, the cap cuts after its first byte.
    expect(cap.text()).toBe("abcd\n[TRUNCATED at 5 bytes]");
  });
  test("invalid UTF-8 before the cap becomes U+FFFD and the marker stays", () => {
    const cap = new OutputCapture(4);
    cap.push(bytes(0x61, 0xff, 0xfe, 0x62, 0x63, 0x64));
    expect(cap.text()).toBe("a\uFFFD\uFFFDb\n[TRUNCATED at 4 bytes]");
  });
  test("memory stays at the cap however much is pushed", () => {
    const cap = new OutputCapture(1024);
    const chunk = new Uint8Array(65536).fill(0x61);
    for (let i = 0; i < 200; i += 1) cap.push(chunk);
    expect(cap.totalBytes).toBe(200 * 65536);
    expect(cap.text().length).toBe(1024 + 1 + truncationMarker(1024).length);
  });
  test("rejects a zero cap", () => {
    expect(() => new OutputCapture(0)).toThrow();
  });
});
