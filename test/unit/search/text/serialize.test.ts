import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ByteWriter } from "../../../../src/search/text/byte-codec.ts";
import { createTextIndex, loadTextIndex, VltairError } from "./imports.ts";

const TEXTS = [
  "export function getUserName(user) { return user.name; }",
  "# Users\nEvery user has a name. Été, naïve café.",
  "const SQLITE_OPEN_READONLY = 0x00000001; // foo_bar.baz",
  "",
  "kebab-case-name v1.2.3 日本語 😀",
];

function build(tokenizer: "code" | "unicode61") {
  const index = createTextIndex({ tokenizer, k1: 1.5, b: 0.5, aliasWeight: 0.5 });
  TEXTS.forEach((text, i) => {
    index.add(`doc-${i}`, text);
  });
  index.remove("doc-1");
  index.update("doc-2", `${TEXTS[2]} updated`);
  index.add("doc-1", TEXTS[1] ?? "");
  return index;
}

describe("TextIndex.serialize / loadTextIndex", () => {
  for (const tokenizer of ["code", "unicode61"] as const) {
    test(`the same operations give identical bytes (${tokenizer})`, () => {
      expect(build(tokenizer).serialize()).toEqual(build(tokenizer).serialize());
    });

    test(`a loaded index answers identically and re-serializes to the same bytes (${tokenizer})`, () => {
      const index = build(tokenizer);
      const bytes = index.serialize();
      const loaded = loadTextIndex(bytes);
      expect(loaded.options).toEqual(index.options);
      expect(loaded.size).toBe(index.size);
      expect(loaded.stats()).toMatchObject({
        docCount: index.stats().docCount,
        termCount: index.stats().termCount,
        postingCount: index.stats().postingCount,
        tokenCount: index.stats().tokenCount,
      });
      for (const query of [
        "user",
        "getUserName",
        "name café",
        "foo_bar",
        "v1*",
        "日本語",
        "none",
      ]) {
        expect(loaded.search(query, 10)).toEqual(index.search(query, 10));
      }
      expect(loaded.serialize()).toEqual(bytes);
    });
  }

  test("a loaded index keeps accepting writes with exact statistics", () => {
    const loaded = loadTextIndex(build("code").serialize());
    const fresh = build("code");
    for (const index of [loaded, fresh]) {
      index.add("doc-9", "a new user document");
      index.add("doc-10", "another user getUserName");
      // The first removal after a load builds the term lists lazily; new slots keep theirs.
      index.remove("doc-0");
      index.remove("doc-10");
      index.update("doc-4", "kebab-case-name renamed");
    }
    for (const query of ["user document", "getUserName", "kebab", "renamed", "user"]) {
      expect(loaded.search(query, 10)).toEqual(fresh.search(query, 10));
    }
    const { typedArrayBytes: _a, ...loadedStats } = loaded.stats();
    const { typedArrayBytes: _b, ...freshStats } = fresh.stats();
    expect(loadedStats).toEqual(freshStats);
    expect(loaded.serialize()).toEqual(fresh.serialize());
  });

  test("an empty index round-trips", () => {
    const loaded = loadTextIndex(createTextIndex().serialize());
    expect(loaded.size).toBe(0);
    loaded.add("a", "x");
    expect(loaded.search("x", 1)[0]?.docKey).toBe("a");
  });

  test("malformed bytes are rejected with validation_failed, never a crash", () => {
    const bytes = build("code").serialize();
    const cases = [
      new Uint8Array(0),
      bytes.slice(0, bytes.length - 1),
      Uint8Array.from([...bytes, 0]),
      Uint8Array.from(bytes, (byte, i) => (i === 0 ? byte ^ 0xff : byte)),
      Uint8Array.from(bytes, (byte, i) => (i === 4 ? 9 : byte)),
      Uint8Array.from(bytes, (byte, i) => (i === 8 ? 7 : byte)),
    ];
    for (const malformed of cases) {
      let error: unknown;
      try {
        loadTextIndex(malformed);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(VltairError);
      expect((error as VltairError).code).toBe("validation_failed");
    }
  });

  test("every single-byte corruption is rejected or loads a consistent index", () => {
    const bytes = build("unicode61").serialize();
    for (let i = 0; i < bytes.length; i++) {
      const corrupted = bytes.slice();
      corrupted[i] = (corrupted[i] ?? 0) ^ 0x5a;
      try {
        const loaded = loadTextIndex(corrupted);
        loaded.search("user name", 10);
      } catch (error) {
        expect(error).toBeInstanceOf(VltairError);
      }
    }
  });
});

describe("ByteWriter", () => {
  type Op = ["u8" | "u32" | "f64" | "varint", number] | ["string", string] | ["strings", string[]];
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.tuple(fc.constant("u8" as const), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant("u32" as const), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
    fc.tuple(fc.constant("f64" as const), fc.double()),
    fc.tuple(fc.constant("varint" as const), fc.maxSafeNat()),
    fc.tuple(fc.constant("string" as const), fc.string({ unit: "grapheme", maxLength: 40 })),
    fc.tuple(
      fc.constant("strings" as const),
      fc.array(fc.string({ maxLength: 12 }), { maxLength: 8 }),
    ),
  );
  const write = (writer: ByteWriter, ops: Op[]): Uint8Array => {
    for (const [kind, value] of ops) {
      if (kind === "string") writer.string(value);
      else if (kind === "strings") writer.strings(value);
      else writer[kind](value);
    }
    return writer.finish();
  };

  test("a writer that starts with 1 byte of room gives the bytes of one that never grows", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const grown = write(new ByteWriter(1), ops);
        const roomy = write(new ByteWriter(1 << 16), ops);
        // finish() is exactly what was written, whatever room is left behind it.
        expect(grown).toEqual(roomy);
      }),
      { seed: 20261205, numRuns: 300 },
    );
  });
});
