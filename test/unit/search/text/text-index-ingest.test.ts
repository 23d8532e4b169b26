import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createTextIndex, VltairError } from "./imports.ts";

const SEED = 20_261_127;
const RUNS = process.env.VLTAIR_SLOW === "1" ? 300 : 40;

const WORDS = [
  "getUserName",
  "user_name",
  "user",
  "foo.bar.baz",
  "kebab-case",
  "HTTPServer",
  "v1.2.3",
  "Été",
  "x",
  "const",
];
const text = fc
  .array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 12 })
  .map((words) => words.join(" "));

describe("TextIndex.add (code tokenizer fast path)", () => {
  test("add gives the same bytes as update's tokenize-then-count path, across indexes", () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 30 }), (texts) => {
        // Two indexes fed alternately share the memoised splits: each must keep its own ids.
        const direct = createTextIndex();
        const other = createTextIndex();
        const viaUpdate = createTextIndex();
        texts.forEach((t, i) => {
          const key = `d${i}`;
          other.add(key, texts[texts.length - 1 - i] ?? "");
          direct.add(key, t);
          viaUpdate.add(key, "");
          viaUpdate.update(key, t);
        });
        expect(direct.serialize()).toEqual(viaUpdate.serialize());
        // Releases (removing the only holder of terms) must invalidate the memoised ids.
        direct.remove("d0");
        viaUpdate.remove("d0");
        direct.add("again", texts[0] ?? "");
        viaUpdate.add("again", "");
        viaUpdate.update("again", texts[0] ?? "");
        expect(direct.serialize()).toEqual(viaUpdate.serialize());
        expect(direct.search("user name", 5)).toEqual(viaUpdate.search("user name", 5));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test("an add rejected for too many tokens leaves the index unchanged", () => {
    const index = createTextIndex({ tokensPerDocMax: 8 });
    index.add("a", "getUserName user");
    const before = index.serialize();
    const statsBefore = index.stats();
    let error: unknown;
    try {
      index.add("b", "brandNewWord another_new_one third.new.thing more words here");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(VltairError);
    expect((error as VltairError).code).toBe("payload_too_large");
    expect(index.has("b")).toBe(false);
    expect(index.stats()).toEqual(statsBefore);
    expect(index.serialize()).toEqual(before);
    expect(index.search("brandnewword", 5)).toEqual([]);
    // The terms it had interned are gone and ids are reused cleanly.
    index.add("c", "brandNewWord");
    expect(index.search("brandnewword", 5).map((match) => match.docKey)).toEqual(["c"]);
  });
  test("compact releases pool slack and changes no result or byte", () => {
    const index = createTextIndex();
    for (let i = 0; i < 3000; i++) {
      index.add(`d${i}`, `getUserName user_${i % 50} value${i % 7} common text number ${i % 11}`);
    }
    const bytes = index.serialize();
    const results = ["user name", "common", "value3 number"].map((q) => index.search(q, 10));
    const before = index.stats().typedArrayBytes;
    index.compact();
    expect(index.stats().typedArrayBytes).toBeLessThan(before);
    expect(index.serialize()).toEqual(bytes);
    expect(["user name", "common", "value3 number"].map((q) => index.search(q, 10))).toEqual(
      results,
    );
    index.add("late", "common common getUserName");
    expect(index.search("common", 1)[0]?.docKey).toBe("late");
  });
});
