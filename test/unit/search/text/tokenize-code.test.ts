import { describe, expect, test } from "bun:test";
import { tokenizeCode, VltairError } from "./imports.ts";

const LIMITS = { tokenCharsMax: 256, tokensMax: 10_000 };
const all = (text: string): string[] => {
  const { tokens, aliases } = tokenizeCode(text, LIMITS);
  return [...tokens, ...aliases];
};

describe("tokenizeCode", () => {
  test("keeps a camelCase identifier whole and aliases its words", () => {
    expect(tokenizeCode("getUserName", LIMITS)).toEqual({
      tokens: ["getusername"],
      aliases: ["get", "user", "name"],
    });
  });

  test("snake_case and dotted paths: pieces are tokens, the whole compound an alias", () => {
    expect(tokenizeCode("foo_bar.baz", LIMITS)).toEqual({
      tokens: ["foo", "bar", "baz"],
      aliases: ["foo_bar.baz", "foo_bar"],
    });
    expect(tokenizeCode("SQLITE_OPEN_READONLY", LIMITS)).toEqual({
      tokens: ["sqlite", "open", "readonly"],
      aliases: ["sqlite_open_readonly"],
    });
  });

  test("kebab-case, PascalCase acronyms and digit boundaries", () => {
    expect(all("kebab-case-name")).toEqual(["kebab", "case", "name", "kebab-case-name"]);
    expect(all("XMLHttpRequest")).toEqual(["xmlhttprequest", "xml", "http", "request"]);
    expect(all("getHTTP2Server")).toEqual(["gethttp2server", "get", "http", "2", "server"]);
    expect(all("utf8Encode")).toEqual(["utf8encode", "utf", "8", "encode"]);
    expect(all("v1.2.3")).toEqual(["v1", "2", "3", "v1.2.3", "v", "1"]);
  });

  test("a dotted path of camelCase identifiers aliases each identifier", () => {
    const { tokens, aliases } = tokenizeCode("RedisClient.KeyLike", LIMITS);
    expect(tokens).toEqual(["redisclient", "keylike"]);
    expect(aliases).toEqual(["redisclient.keylike", "redis", "client", "key", "like"]);
  });

  test("punctuation that joins nothing separates: sentence dots, dashes, underscores alone", () => {
    expect(all("end. a - b __init__ _private ___")).toEqual(["end", "a", "b", "init", "private"]);
  });

  test("NFKC, lowercase, diacritics kept", () => {
    expect(all("ＡＢＣ ﬁle Été Σίσυφος")).toEqual(["abc", "file", "été", "σίσυφος"]);
    expect(all("e\u0301te\u0301")).toEqual(["été"]);
  });

  test("emoji separate; CJK runs are one word", () => {
    expect(all("😀x 日本語テキスト a😀b")).toEqual(["x", "日本語テキスト", "a", "b"]);
  });

  test("numbers: a decimal point joins, a comma separates, hex splits at letter/digit", () => {
    expect(tokenizeCode("3.14 1e10 0xFF 12,5", LIMITS)).toEqual({
      tokens: ["3", "14", "1e10", "0xff", "12", "5"],
      aliases: ["3.14", "1", "e", "10", "0", "x", "ff"],
    });
  });

  test("empty and separator-only text yield nothing", () => {
    expect(tokenizeCode("", LIMITS)).toEqual({ tokens: [], aliases: [] });
    expect(tokenizeCode(" \n\t.,;:!?()[]{}<>'\"`~@#%^&*+=|\\/", LIMITS)).toEqual({
      tokens: [],
      aliases: [],
    });
  });

  test("a token longer than tokenCharsMax is cut, never split, at a code point boundary", () => {
    const long = "a".repeat(300);
    expect(tokenizeCode(long, LIMITS).tokens).toEqual(["a".repeat(256)]);
    const astral = `${"a".repeat(255)}𠀀`; // U+20000 is a surrogate pair crossing unit 256
    const cut = tokenizeCode(astral, LIMITS).tokens[0] ?? "";
    expect(cut).toBe("a".repeat(255));
    expect(tokenizeCode("a".repeat(256), LIMITS).tokens[0]?.length).toBe(256);
  });

  test("tokensMax bounds tokens and aliases together: at the limit passes, one more throws", () => {
    expect(tokenizeCode("a b c", { tokenCharsMax: 8, tokensMax: 3 }).tokens).toHaveLength(3);
    expect(tokenizeCode("getUser", { tokenCharsMax: 8, tokensMax: 3 }).aliases).toHaveLength(2);
    let error: unknown;
    try {
      tokenizeCode("a b c d", { tokenCharsMax: 8, tokensMax: 3 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(VltairError);
    expect((error as VltairError).code).toBe("payload_too_large");
    expect((error as VltairError).details).toEqual({ field: "text", limit: 3 });
  });
});
