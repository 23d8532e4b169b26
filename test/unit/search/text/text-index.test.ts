import { describe, expect, test } from "bun:test";
import { createTextIndex, parseQuery, TEXT_LIMITS, VltairError } from "./imports.ts";
import { ReferenceBm25 } from "./reference-bm25.ts";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof VltairError) return error.code;
    throw error;
  }
  return undefined;
}

describe("createTextIndex options", () => {
  test("defaults: code tokenizer, FTS5's k1 and b, alias weight 0.25", () => {
    expect(createTextIndex().options).toEqual({
      tokenizer: "code",
      k1: 1.2,
      b: 0.75,
      aliasWeight: 0.25,
      tokenCharsMax: 256,
      tokensPerDocMax: 100_000,
    });
  });

  test("rejects out-of-range options with validation_failed", () => {
    expect(codeOf(() => createTextIndex({ k1: -1 }))).toBe("validation_failed");
    expect(codeOf(() => createTextIndex({ k1: TEXT_LIMITS.k1Max + 0.1 }))).toBe(
      "validation_failed",
    );
    expect(codeOf(() => createTextIndex({ b: 1.01 }))).toBe("validation_failed");
    expect(codeOf(() => createTextIndex({ aliasWeight: Number.NaN }))).toBe("validation_failed");
    expect(codeOf(() => createTextIndex({ tokenCharsMax: 1 }))).toBe("validation_failed");
    expect(codeOf(() => createTextIndex({ tokenCharsMax: 4097 }))).toBe("validation_failed");
    expect(codeOf(() => createTextIndex({ tokensPerDocMax: 1_000_001 }))).toBe("validation_failed");
    expect(createTextIndex({ tokenCharsMax: 4096, b: 1, k1: 0 }).options.b).toBe(1);
  });
});

describe("TextIndex writes", () => {
  test("add, has, size; a duplicate key is a conflict", () => {
    const index = createTextIndex();
    index.add("a", "hello world");
    expect(index.has("a")).toBe(true);
    expect(index.size).toBe(1);
    expect(codeOf(() => index.add("a", "again"))).toBe("conflict");
    expect(index.search("again", 10)).toEqual([]);
  });

  test("update replaces the text; a missing key is not_found", () => {
    const index = createTextIndex();
    index.add("a", "old words");
    index.update("a", "new words");
    expect(index.search("old", 10)).toEqual([]);
    expect(index.search("new", 10).map((match) => match.docKey)).toEqual(["a"]);
    expect(codeOf(() => index.update("b", "x"))).toBe("not_found");
  });

  test("a text over tokensPerDocMax is rejected and leaves the index unchanged", () => {
    const index = createTextIndex({ tokensPerDocMax: 3 });
    index.add("a", "one two three");
    expect(codeOf(() => index.add("b", "one two three four"))).toBe("payload_too_large");
    expect(codeOf(() => index.update("a", "one two three four"))).toBe("payload_too_large");
    expect(index.size).toBe(1);
    expect(index.search("three", 10).map((match) => match.docKey)).toEqual(["a"]);
  });

  test("remove returns whether the key was present and forgets its terms", () => {
    const index = createTextIndex();
    index.add("a", "unique");
    expect(index.remove("a")).toBe(true);
    expect(index.remove("a")).toBe(false);
    expect(index.stats()).toMatchObject({
      docCount: 0,
      termCount: 0,
      postingCount: 0,
      tokenCount: 0,
    });
  });

  test("doc keys: non-empty, at most docKeyCharsMax units, no lone surrogates", () => {
    const index = createTextIndex();
    expect(codeOf(() => index.add("", "x"))).toBe("validation_failed");
    expect(codeOf(() => index.add("k".repeat(TEXT_LIMITS.docKeyCharsMax + 1), "x"))).toBe(
      "validation_failed",
    );
    expect(codeOf(() => index.add("a\ud800", "x"))).toBe("validation_failed");
    index.add("k".repeat(TEXT_LIMITS.docKeyCharsMax), "x");
    index.add("é😀", "x");
    expect(index.size).toBe(2);
  });

  test("empty documents count as rows with length 0 (as in FTS5)", () => {
    const index = createTextIndex({ tokenizer: "unicode61" });
    index.add("empty", "");
    index.add("a", "x y");
    // N = 2, n = 1: IDF = log(1.5 / 1.5) = 0 → 1e-6 floor; avgdl = 2 / 2 = 1.
    expect(index.search("x", 10)[0]?.score).toBeCloseTo((1e-6 * 2.2) / (1 + 1.2 * 1.75), 18);
    expect(index.stats().tokenCount).toBe(2);
  });
});

describe("TextIndex search", () => {
  const index = createTextIndex();
  index.add("b", "apple banana");
  index.add("a", "apple banana");
  index.add("c", "cherry");
  index.add("d", "export function getUserName(user) { return user.name; }");

  test("ties are ordered by key ascending", () => {
    expect(index.search("banana", 10).map((match) => match.docKey)).toEqual(["a", "b"]);
    expect(index.search("banana", 1).map((match) => match.docKey)).toEqual(["a"]);
  });

  test("allow filters inside the search: the true top-k of the allowed documents", () => {
    const allowed = index.search("apple banana cherry", 2, { allow: (key) => key !== "a" });
    // cherry is rare (IDF 0.85), apple and banana are in half the documents (IDF floored).
    expect(allowed.map((match) => match.docKey)).toEqual(["c", "b"]);
    expect(index.search("apple", 10, { allow: () => false })).toEqual([]);
  });

  test("allow is only asked about candidates that could enter the top-k", () => {
    const asked: string[] = [];
    index.search("banana", 1, {
      allow: (key) => {
        asked.push(key);
        return true;
      },
    });
    expect(asked.length).toBeLessThanOrEqual(2);
  });

  test("code tokenizer: identifiers match by whole name, by piece, and by word", () => {
    expect(index.search("getUserName", 10)[0]?.docKey).toBe("d");
    expect(index.search("username", 10)).toEqual([]);
    expect(index.search("user", 10)[0]?.docKey).toBe("d");
    expect(index.search("getUserNames", 10)[0]?.docKey).toBe("d");
  });

  test("prefix terms: foo* matches every term starting with foo, as one term", () => {
    expect(index.search("ban*", 10).map((match) => match.docKey)).toEqual(["a", "b"]);
    expect(index.search("getuser*", 10).map((match) => match.docKey)).toEqual(["d"]);
    expect(index.search("zzz*", 10)).toEqual([]);
  });

  test("unknown terms, empty and separator-only queries return nothing", () => {
    expect(index.search("nothing-here-at-all", 10)).toEqual([]);
    expect(index.search("", 10)).toEqual([]);
    expect(index.search("  ... ", 10)).toEqual([]);
    expect(createTextIndex().search("apple", 10)).toEqual([]);
  });

  test("k is validated: 1..kMax", () => {
    expect(codeOf(() => index.search("apple", 0))).toBe("validation_failed");
    expect(codeOf(() => index.search("apple", 1.5))).toBe("validation_failed");
    expect(codeOf(() => index.search("apple", TEXT_LIMITS.kMax + 1))).toBe("validation_failed");
    expect(index.search("apple", TEXT_LIMITS.kMax)).toHaveLength(2);
  });

  test("query limits: text length and term count", () => {
    expect(codeOf(() => index.search("a".repeat(TEXT_LIMITS.queryCharsMax + 1), 10))).toBe(
      "validation_failed",
    );
    const manyTerms = Array.from({ length: TEXT_LIMITS.queryTermsMax + 1 }, (_, i) => `t${i}`);
    expect(codeOf(() => index.search(manyTerms.join(" "), 10))).toBe("validation_failed");
    expect(codeOf(() => index.search(manyTerms.slice(1).join(" "), 10))).toBeUndefined();
  });

  test("a search from inside allow is refused (scratch arrays are shared)", () => {
    expect(() =>
      index.search("apple", 10, { allow: () => index.search("x", 1).length === 0 }),
    ).toThrow();
    expect(index.search("apple", 10)).toHaveLength(2);
  });
});

describe("TextIndex under churn", () => {
  test("thousands of updates renumber slots and compact postings; results stay exact", () => {
    const index = createTextIndex();
    const reference = new ReferenceBm25();
    const words = ["alpha", "beta", "gamma", "delta", "getUserName", "foo_bar"];
    for (let round = 0; round < 3000; round++) {
      const key = `k${round % 25}`;
      const text = `${words[round % 6]} ${words[(round * 7) % 6]} r${round % 40}`;
      if (index.has(key)) index.update(key, text);
      else index.add(key, text);
      reference.set(key, text);
      if (round % 11 === 0) {
        index.remove(`k${(round * 3) % 25}`);
        reference.delete(`k${(round * 3) % 25}`);
      }
    }
    for (const query of ["alpha", "user r7", "foo_bar gamma", "r1*", "delta beta"]) {
      expect(index.search(query, 10)).toEqual(reference.search(query, 10));
    }
    expect(index.stats().docCount).toBe(index.size);
  });
});

describe("parseQuery", () => {
  test("code: whole compound, then pieces; unknown camelCase pieces carry their words", () => {
    expect(parseQuery("foo_bar getUserName", "code", 256)).toEqual([
      { text: "foo_bar", isPrefix: false },
      { text: "foo", isPrefix: false },
      { text: "bar", isPrefix: false },
      { text: "getusername", isPrefix: false, words: ["get", "user", "name"] },
    ]);
  });

  test("code prefix: the whole compound is the one prefix term", () => {
    expect(parseQuery("foo_ba* getUser*", "code", 256)).toEqual([
      { text: "foo_ba", isPrefix: true },
      { text: "getuser", isPrefix: true },
    ]);
  });

  test("unicode61: tokens; in a prefix word the last token is the prefix; duplicates dropped", () => {
    expect(parseQuery("foo.ba* Foo x foo*", "unicode61", 256)).toEqual([
      { text: "foo", isPrefix: false },
      { text: "ba", isPrefix: true },
      { text: "x", isPrefix: false },
      { text: "foo", isPrefix: true },
    ]);
    expect(parseQuery("* ** ", "unicode61", 256)).toEqual([]);
  });
});

describe("code prefix search", () => {
  test("foo_ba* finds the identifier foo_bar through its alias", () => {
    const index = createTextIndex();
    index.add("a", "const foo_bar = 1;");
    index.add("b", "foo and bar apart");
    expect(index.search("foo_ba*", 10).map((match) => match.docKey)).toEqual(["a"]);
  });
});
