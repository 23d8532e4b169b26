import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeTextIndex } from "../../../../src/search/text/serialize.ts";
import { createTextIndex, loadTextIndex } from "./imports.ts";
import { encodeTextIndexV1 } from "./serialize-v1.ts";

/**
 * Bytes written by format version 1 (before string blocks), from this index:
 * doc-0..doc-4 added (code tokenizer, defaults), doc-2 removed, doc-9 added.
 */
const V1_BASE64 =
  "VkxUWAEAAAAAMzMzMzMz8z8AAAAAAADoPwAAAAAAANA/AAEAAKCGAQAFBWRvYy0wBwVkb2MtMQgFZG9jLTMEBWRvYy00BAVkb2MtOQMYBmV4cG9ydAEAAQhmdW5jdGlvbgEAAQtnZXR1c2VybmFtZQIAAQIBBHVzZXIDAAIAAQEBBnJldHVybgEAAQRuYW1lAwABAAEBAQQAZ2V0AgABAgEFAHVzZXICAAECAgUAbmFtZQIAAQICCgB1c2VyLm5hbWUBAAEFdXNlcnMBAQEFZXZlcnkBAQEDaGFzAQEBAWEBAQEFw6l0w6kBAQIDYmF6AQQBBnNlcnZlcgEEAQRodHRwAQQBBWNvbnN0AQIBAXgBAgECNDIBAgEHdW5pY29kZQECAQh1c2VybmFtZQEDAQoAdXNlcl9uYW1lAQMB";
const V1_TEXTS = [
  "export function getUserName(user) { return user.name; }",
  "# Users\nEvery user has a name. Été ÉTÉ",
  "foo_bar.baz kebab-case v1.2.3 HTTPServer",
  "const x = 42; // 𝔘nicode 😀",
  "getUserName user_name userName",
];

function v1Index() {
  const index = createTextIndex();
  V1_TEXTS.forEach((text, i) => {
    index.add(`doc-${i}`, text);
  });
  index.remove("doc-2");
  index.add("doc-9", "http server baz");
  return index;
}

describe("serialized format version 1 (inline strings) still loads", () => {
  test("bytes written by version 1 load into the same index as today's bytes", () => {
    const v1 = Uint8Array.from(Buffer.from(V1_BASE64, "base64"));
    expect(new DataView(v1.buffer).getUint32(4, true)).toBe(1);
    const index = v1Index();
    const loaded = loadTextIndex(v1);
    expect(loaded.serialize()).toEqual(index.serialize());
    for (const q of ["user name", "getUserName", "http*", "été", "😀 const"]) {
      expect(loaded.search(q, 10)).toEqual(index.search(q, 10));
    }
    expect(loaded.search("user name", 10)[0]).toEqual({
      docKey: "doc-4",
      score: 0.000002648148148148148,
    });
  });

  test("any index re-encoded as version 1 loads identically", () => {
    const word = fc.constantFrom("getUserName", "user", "Été", "😀x", "foo.bar", "a-b", "42");
    fc.assert(
      fc.property(fc.array(fc.array(word, { maxLength: 8 }), { maxLength: 20 }), (docs) => {
        const index = createTextIndex();
        docs.forEach((words, i) => {
          index.add(`k-${i}-é`, words.join(" "));
        });
        const current = index.serialize();
        const v1 = encodeTextIndexV1(decodeTextIndex(current));
        expect(loadTextIndex(v1).serialize()).toEqual(current);
      }),
      { seed: 20_261_128, numRuns: 30 },
    );
  });
});
