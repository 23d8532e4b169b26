import { describe, expect, test } from "bun:test";
import { TermDictionary } from "../../../../src/search/text/term-dictionary.ts";

describe("TermDictionary", () => {
  test("intern is idempotent; released ids are reused, most recent first", () => {
    const terms = new TermDictionary();
    expect(terms.intern("a")).toBe(0);
    expect(terms.intern("b")).toBe(1);
    expect(terms.intern("a")).toBe(0);
    terms.release(0);
    expect(terms.idOf("a")).toBe(-1);
    expect(terms.isLive(0)).toBe(false);
    expect(terms.intern("c")).toBe(0);
    expect(terms.termOf(0)).toBe("c");
    expect(terms.size).toBe(2);
    expect(terms.liveIds()).toEqual([0, 1]);
  });

  test("prefix lookup is exact across tail merges, releases and re-interns", () => {
    const terms = new TermDictionary();
    const live = new Set<string>();
    // 10,000 terms: the unsorted tail passes its limit and is merged by the lookups below.
    for (let i = 0; i < 10_000; i++) {
      const term = `t${(i * 7919) % 10_000}`;
      terms.intern(term);
      live.add(term);
    }
    const expected = (prefix: string): string[] =>
      [...live].filter((term) => term.startsWith(prefix)).sort();
    const actual = (prefix: string): string[] =>
      terms.idsWithPrefix(prefix, 100_000).map((id) => terms.termOf(id));
    expect(actual("t12")).toEqual(expected("t12"));
    for (let i = 0; i < 10_000; i += 3) {
      terms.release(terms.idOf(`t${i}`));
      live.delete(`t${i}`);
    }
    expect(actual("t12")).toEqual(expected("t12"));
    for (let i = 0; i < 10_000; i += 6) {
      terms.intern(`t${i}`);
      live.add(`t${i}`);
    }
    for (const prefix of ["t1", "t12", "t999", "t", "u", "t0"]) {
      expect(actual(prefix).sort()).toEqual(expected(prefix));
    }
  });

  test("a prefix expanding past termsMax throws RangeError", () => {
    const terms = new TermDictionary();
    for (let i = 0; i < 10; i++) terms.intern(`p${i}`);
    expect(terms.idsWithPrefix("p", 10)).toHaveLength(10);
    expect(() => terms.idsWithPrefix("p", 9)).toThrow(RangeError);
  });
  test("adoptAll: ids in order, duplicates refused, prefix lookup exact after releases", () => {
    expect(new TermDictionary().adoptAll(["a", "b", "a"])).toBe(false);
    const terms = new TermDictionary();
    expect(terms.adoptAll(["foo", "food", "bar", "fob"])).toBe(true);
    expect(terms.idOf("bar")).toBe(2);
    expect(terms.termOf(3)).toBe("fob");
    // A released then re-interned adopted term, and a new one, before the first lookup.
    terms.release(1);
    expect(terms.intern("food")).toBe(1);
    expect(terms.intern("foal")).toBe(4);
    const words = (prefix: string): string[] =>
      terms
        .idsWithPrefix(prefix, 100)
        .map((id) => terms.termOf(id))
        .sort();
    expect(words("fo")).toEqual(["foal", "fob", "foo", "food"]);
    terms.release(0);
    expect(words("fo")).toEqual(["foal", "fob", "food"]);
    expect(words("b")).toEqual(["bar"]);
  });
});
