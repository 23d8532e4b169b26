/** Record bodies: the blob body round-trips as JSON would, old JSON bodies still read, damage refused. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  BLOB_STRING_CHARS_MIN,
  decodeBody,
  encodeBody,
  isBlobBody,
  releaseBody,
} from "../../../src/storage/record-body.ts";

const longText = (seed: string) => `${seed} "quoted"\n\\ back\tslash ${"é😀x".repeat(60)}`;

/** What a JSON body would give back: the reference for everything but vectors. */
const viaJson = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("record bodies", () => {
  test("a blob body gives back long strings and vectors exactly, everything else as JSON does", () => {
    const vector = Float32Array.from([0.5, -0, Number.NaN, 1e-40, -3.25]);
    const value = {
      op: "upsert",
      items: [
        { id: "a", text: longText("a"), vector, metadata: { path: "src/a.ts", when: undefined } },
        { id: "b", text: "short", metadata: { deep: [longText("deep"), null, 1.5] } },
      ],
      at: new Date(Date.UTC(2026, 11, 4)),
      skipped: () => 1,
    };
    const bytes = encodeBody(value, "blobs");
    expect(isBlobBody(bytes)).toBe(true);
    const back = decodeBody(bytes) as typeof value;
    const got = back.items[0]?.vector as unknown as Float32Array;
    expect(got).toBeInstanceOf(Float32Array);
    expect(new Uint8Array(got.buffer)).toEqual(new Uint8Array(vector.buffer));
    expect({ ...back, items: back.items.map(({ vector: _v, ...rest }) => rest) }).toEqual(
      viaJson({ ...value, items: value.items.map(({ vector: _v, ...rest }) => rest) }),
    );
    // The long texts are outside the JSON header: no quoting of them.
    expect(new TextDecoder().decode(bytes).indexOf(JSON.stringify(longText("a")))).toBe(-1);
  });

  test("vectors of any length, subarrays included, come back bit for bit and own their buffers", () => {
    const random = (i: number) => Math.sin(i * 12.9898) * 43758.5453;
    const long = Float32Array.from({ length: 3_000 }, (_, i) => random(i));
    const wide = new Float32Array(5_000).map((_, i) => random(i + 7));
    const values = [long, wide.subarray(3, 2_503), Float32Array.of(Number.NaN, -0, 1e-45), long];
    const back = decodeBody(encodeBody({ values }, "blobs")) as { values: Float32Array[] };
    expect(back.values.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength))).toEqual(
      values.map((v) => new Uint8Array(v.slice().buffer)),
    );
    for (const v of back.values) expect(v.byteLength).toBe(v.buffer.byteLength);
  });

  test("property: any JSON value round-trips through the blob body as through JSON", () => {
    const json = fc.jsonValue().map((x) => x as unknown);
    const withLong = fc.tuple(
      json,
      fc.string({ minLength: BLOB_STRING_CHARS_MIN, maxLength: 400 }),
    );
    fc.assert(
      fc.property(withLong, ([value, long]) => {
        const wrapped = { value, long, list: [long, value] };
        expect(decodeBody(encodeBody(wrapped, "blobs"))).toEqual(viaJson(wrapped));
        expect(decodeBody(encodeBody(wrapped, "json"))).toEqual(viaJson(wrapped));
      }),
      { seed: 20261204, numRuns: 300 },
    );
  });

  test("a __proto__ key stays an own property, as JSON.parse keeps it", () => {
    const value = JSON.parse(`{"__proto__": ${JSON.stringify(longText("p"))}, "x": 1}`);
    const back = decodeBody(encodeBody(value, "blobs")) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toBe(longText("p"));
  });

  test("a JSON body (every record before format 2) is read as JSON", () => {
    const bytes = new TextEncoder().encode('{"op":"upsert","n":[1,2]}');
    expect(isBlobBody(bytes)).toBe(false);
    expect(decodeBody(bytes)).toEqual({ op: "upsert", n: [1, 2] });
  });

  test("not JSON: refused as JSON.stringify refuses it", () => {
    expect(() => encodeBody(undefined, "blobs")).toThrow(TypeError);
    expect(() => encodeBody({ n: 1n }, "blobs")).toThrow(TypeError);
    expect(() => encodeBody(undefined, "json")).toThrow(TypeError);
  });

  test("damaged blob bodies are refused, never half-decoded", () => {
    const good = encodeBody({ t: longText("t"), v: Float32Array.from([1, 2]) }, "blobs");
    const headerBytes = new DataView(good.buffer).getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + headerBytes)));
    const withHeader = (h: unknown) => {
      const text = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + text.length + good.length - 8 - headerBytes);
      out.set(good.subarray(0, 4));
      new DataView(out.buffer).setUint32(4, text.length, true);
      out.set(text, 8);
      out.set(good.subarray(8 + headerBytes), 8 + text.length);
      return out;
    };
    const damaged = [
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0]),
      Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setUint32(4, 1 << 30, true);
        return b;
      })(),
      withHeader({ ...header, b: [[0, 3, "missing"], ...header.b.slice(1)] }),
      withHeader({ ...header, b: [[7, 3, "t"], ...header.b.slice(1)] }),
      withHeader({ v: header.v }),
      withHeader({
        ...header,
        b: [
          [1, 3, "v"],
          [0, 0, "t"],
        ],
      }),
    ];
    for (const bytes of damaged) expect(() => decodeBody(bytes)).toThrow();
    expect(decodeBody(good)).toEqual({ t: longText("t"), v: Float32Array.from([1, 2]) });
  });
});

describe("pooled body buffers", () => {
  const big = (seed: string) => ({ op: "upsert", text: seed.repeat(70_000 / seed.length) });

  test("a released body's buffer serves the next one; the bytes are the next body's exactly", () => {
    const first = encodeBody(big("first "), "blobs");
    releaseBody(first);
    const second = encodeBody(big("second "), "blobs");
    expect(second.buffer).toBe(first.buffer);
    expect(decodeBody(second)).toEqual(big("second "));
    // Stale bytes past the body are not part of it.
    expect(second.byteLength).toBe(encodeBody(big("second "), "blobs").byteLength);
  });

  test("a body still in use is never handed out again, even when released twice", () => {
    const first = encodeBody(big("first "), "blobs");
    releaseBody(first);
    const second = encodeBody(big("second "), "blobs");
    // `first` was given back already: giving it back again must not free `second`'s buffer.
    releaseBody(first);
    const third = encodeBody(big("third "), "blobs");
    expect(third.buffer).not.toBe(second.buffer);
    expect(decodeBody(second)).toEqual(big("second "));
    releaseBody(second);
    releaseBody(third);
  });

  test("small bodies and JSON bodies are not pooled; releasing them changes nothing", () => {
    const small = encodeBody({ op: "x", text: "y".repeat(200) }, "blobs");
    const json = encodeBody(big("json "), "json");
    releaseBody(small);
    releaseBody(json);
    expect(decodeBody(small)).toEqual({ op: "x", text: "y".repeat(200) });
    const next = encodeBody(big("next "), "blobs");
    expect(next.buffer).not.toBe(small.buffer);
    expect(next.buffer).not.toBe(json.buffer);
    releaseBody(next);
  });
});
