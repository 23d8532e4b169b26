/** SHA-256 through the runtime's fastest hasher: the digest `node:crypto` gives, for any input. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { contentHash } from "../../../src/context/content-hash.ts";
import { createSha256 } from "../../../src/platform/mod.ts";

describe("createSha256", () => {
  test("property: strings (UTF-8, lone surrogates included) and bytes hash as node:crypto hashes them", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.uint8Array()), { maxLength: 6 }),
        (pieces) => {
          const ours = createSha256();
          const reference = createHash("sha256");
          for (const piece of pieces) {
            ours.update(piece);
            reference.update(piece);
          }
          expect(ours.digestHex()).toBe(reference.digest("hex"));
        },
      ),
      { seed: 14, numRuns: 300 },
    );
  });

  test("a document's content hash: text, canonical metadata and the client's vector as f32 bytes", () => {
    const vector = [0.25, -1.5, 3];
    const expected = createHash("sha256")
      .update("héllo 😀")
      .update("\u0000m")
      .update('{"a":1,"b":"x"}')
      .update("\u0000v")
      .update(new Uint8Array(Float32Array.from(vector).buffer))
      .digest("hex");
    expect(contentHash("héllo 😀", { b: "x", a: 1 }, vector)).toBe(expected);
    expect(contentHash("héllo 😀", undefined, undefined)).toBe(
      createHash("sha256").update("héllo 😀\u0000m-\u0000v").digest("hex"),
    );
  });
});
