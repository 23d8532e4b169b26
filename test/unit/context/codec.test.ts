/** Snapshot bytes of the context state: round trip, the older format, damage. */

import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import {
  decodeContextState,
  encodeContextState,
  encodeContextStateParts,
} from "../../../src/context/store/codec.ts";
import { encodeVector } from "../../../src/context/store/record.ts";
import { ContextState } from "../../../src/context/store/state.ts";
import { caught } from "../../support/errors.ts";

function sampleState(): ContextState {
  const state = new ContextState();
  const item = (id: string, text: string, v: number[]) => ({
    id,
    scope: { kind: "global" as const },
    text,
    vector: encodeVector(Float32Array.from(v)),
    hash: `${id}:${text}`,
  });
  state.apply(
    {
      op: "upsert",
      tenant: "t",
      tokenizer: "code",
      items: [
        item("a", "héllo wörld 😀", [1, 0]),
        item("b", "second doc", [0, 1]),
        item("c", "naïve café 😀 doc", [1, 2]),
      ],
    },
    1,
    1000,
  );
  state.apply(
    { op: "upsert", tenant: "t", tokenizer: "code", items: [item("a", "hello again", [1, 1])] },
    2,
    2000,
  );
  return state;
}

function view(state: ContextState) {
  const t = state.tenant("t");
  return {
    docs: [...(t?.docs.values() ?? [])].map((d) => ({ ...d, text: d.text })),
    search: t?.text.search("hello doc", 10),
    dense: Array.from(t?.vectorIndex()?.search(Float32Array.from([1, 0.5]), 2).keys ?? []),
  };
}

/**
 * Rewrites current (format 3) bytes of one tenant into an older layout: format 2 (one texts
 * blob, UTF-16 lengths) or format 1 (texts inline in the documents JSON).
 */
function toOlderFormat(bytes: Uint8Array, format: 1 | 2): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blobs: Uint8Array[] = [];
  for (let at = 12; at < bytes.length; ) {
    const length = dv.getUint32(at, true);
    blobs.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  const [header, docsJson, textsBlob, textIndex, vectors] = blobs as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  let byteAt = 0;
  const texts: string[] = [];
  const docs = (JSON.parse(new TextDecoder().decode(docsJson)) as unknown[][]).map((t) => {
    const length = t[3] as number;
    const text = new TextDecoder().decode(textsBlob.subarray(byteAt, byteAt + length));
    byteAt += length;
    texts.push(text);
    const copy = [...t];
    copy[3] = format === 1 ? text : text.length;
    return copy;
  });
  const encoder = new TextEncoder();
  const parts =
    format === 1
      ? [header, encoder.encode(JSON.stringify(docs)), textIndex, vectors]
      : [
          header,
          encoder.encode(JSON.stringify(docs)),
          encoder.encode(texts.join("")),
          textIndex,
          vectors,
        ];
  const out = new Uint8Array(12 + parts.reduce((n, p) => n + 4 + p.length, 0));
  const ov = new DataView(out.buffer);
  ov.setUint32(0, dv.getUint32(0, true), true);
  ov.setUint32(4, format, true);
  ov.setUint32(8, 1, true);
  let at = 12;
  for (const p of parts) {
    ov.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

describe("context snapshot codec", () => {
  test("round trip keeps documents, versions and both indexes", () => {
    const state = sampleState();
    const decoded = decodeContextState(encodeContextState(state));
    expect(view(decoded)).toEqual(view(state));
    expect(decoded.tenant("t")?.get("global", "a")?.past?.[0]?.text).toBe("héllo wörld 😀");
    expect(encodeContextState(decoded)).toEqual(encodeContextState(state));
  });

  test("the storage's pieces are the snapshot bytes, the large ones not copied", () => {
    const state = sampleState();
    const parts = encodeContextStateParts(state);
    // Head, then a length and a blob for each of the tenant's five blobs.
    expect(parts.length).toBe(1 + state.tenants.size * 10);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(encodeContextState(state)));
    const decoded = decodeContextState(Buffer.concat(parts));
    expect(view(decoded)).toEqual(view(state));
    // Each blob is its own buffer, so a snapshot never holds a copy of the whole state.
    const blobs = parts.filter((_, i) => i > 0 && i % 2 === 0);
    expect(new Set(blobs.map((b) => b.buffer)).size).toBe(blobs.length);
  });

  test.each([1, 2] as const)("format %i snapshots still load", (format) => {
    const state = sampleState();
    const decoded = decodeContextState(toOlderFormat(encodeContextState(state), format));
    expect(view(decoded)).toEqual(view(state));
  });

  test("damaged bytes are refused with a stable reason, never a crash", () => {
    const bytes = encodeContextState(sampleState());
    expect(caught(() => decodeContextState(bytes.subarray(0, 8))).details.reason).toBe(
      "snapshot_invalid",
    );
    expect(
      caught(() => decodeContextState(bytes.subarray(0, bytes.length - 5))).details.reason,
    ).toBe("snapshot_invalid");
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(4, 99, true);
    expect(caught(() => decodeContextState(future)).message).toContain("unknown format");
  });
});
