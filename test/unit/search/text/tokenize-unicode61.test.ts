import { describe, expect, test } from "bun:test";
import { tokenizeUnicode61, type VltairError } from "./imports.ts";

const LIMITS = { tokenCharsMax: 256, tokensMax: 10_000 };
const tokens = (text: string): string[] => tokenizeUnicode61(text, LIMITS).tokens;

// Expected values are FTS5's own output (test/integration/search/text checks the tokenizer
// against FTS5 on generated text and the full per-code-point table).
describe("tokenizeUnicode61", () => {
  test("ASCII: letters and digits are token characters, everything else separates", () => {
    expect(tokens("Héllo, getUserName foo_bar.baz")).toEqual([
      "hello",
      "getusername",
      "foo",
      "bar",
      "baz",
    ]);
    expect(tokens("3.14 1e10 0xFF 12,5")).toEqual(["3", "14", "1e10", "0xff", "12", "5"]);
  });

  test("folds case and removes Latin diacritics, as FTS5 remove_diacritics=1", () => {
    expect(tokens("ÀÉÎ ǖ İstanbul ǅ")).toEqual(["aei", "ǖ", "istanbul", "ǆ"]);
    expect(tokens("Σίσυφος ß")).toEqual(["σίσυφοσ", "ß"]);
  });

  test("no NFKC: full-width and ligatures are kept as they are (FTS5 does not normalise)", () => {
    expect(tokens("ＡＢＣ ﬁle 𝐀𝐁")).toEqual(["ａｂｃ", "ﬁle", "𝐀𝐁"]);
  });

  test("combining marks are token characters removed by folding; alone they yield nothing", () => {
    expect(tokens("a\u0301b \u0301 x")).toEqual(["ab", "x"]);
  });

  test("emoji and Unicode spaces separate; CJK runs are one token each", () => {
    expect(tokens("😀x a😀b")).toEqual(["x", "a", "b"]);
    expect(tokens("\u00a0nbsp\u2003em\u200bzw")).toEqual(["nbsp", "em", "zw"]);
    expect(tokens("日本語 テキスト")).toEqual(["日本語", "テキスト"]);
  });

  test("lone surrogates separate", () => {
    expect(tokens("a\ud800b c\udc00d")).toEqual(["a", "b", "c", "d"]);
  });

  test("empty text and separators only yield nothing; aliases are always empty", () => {
    expect(tokenizeUnicode61("", LIMITS)).toEqual({ tokens: [], aliases: [] });
    expect(tokenizeUnicode61(" _-.,;:!?()[]{}", LIMITS)).toEqual({ tokens: [], aliases: [] });
  });

  test("a token longer than tokenCharsMax is cut at a code point boundary", () => {
    expect(tokens("A".repeat(300))).toEqual(["a".repeat(256)]);
    expect(tokens(`${"é".repeat(300)}`)).toEqual(["e".repeat(256)]);
    const cut = tokens(`${"a".repeat(255)}𠀀b`)[0] ?? "";
    expect(cut).toBe("a".repeat(255));
  });

  test("tokensMax: at the limit passes, one more throws payload_too_large", () => {
    expect(tokenizeUnicode61("a b c", { tokenCharsMax: 8, tokensMax: 3 }).tokens).toHaveLength(3);
    let error: unknown;
    try {
      tokenizeUnicode61("a b c d", { tokenCharsMax: 8, tokensMax: 3 });
    } catch (caught) {
      error = caught;
    }
    expect((error as VltairError).code).toBe("payload_too_large");
  });
});
