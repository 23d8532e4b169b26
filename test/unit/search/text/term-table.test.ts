/**
 * The compiled term table (ADR 0023): its ASCII code tokenizer must count exactly what the JS
 * code tokenizer counts (terms, occurrences, order, document length), and its ids must follow
 * the dictionary's rules (dense, released ids reused most recent first, a failed count leaves
 * no trace).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { TermCounter } from "../../../../src/search/text/term-counter.ts";
import { TermDictionary } from "../../../../src/search/text/term-dictionary.ts";
import { TermTable } from "../../../../src/search/text/term-table.ts";
import type { VltairError } from "./imports.ts";

const LIMITS = { tokenCharsMax: 256, tokensMax: 100_000 };
const SEED = 20261204;

interface Counted {
  terms: [string, number][];
  tokenCount: number;
}

function read(terms: TermDictionary, counter: TermCounter): Counted {
  const ids = counter.distinct();
  const counted = {
    terms: [...ids].map((id): [string, number] => [terms.termOf(id), counter.counts[id] as number]),
    tokenCount: counter.tokenCount,
  };
  counter.reset();
  return counted;
}

/** One dictionary counted by the compiled path, one by the JS path, fed the same texts. */
function pair() {
  const compiledTerms = new TermDictionary();
  const jsTerms = new TermDictionary();
  const compiled = new TermCounter(compiledTerms);
  const js = new TermCounter(jsTerms);
  return {
    count(text: string, limits = LIMITS): { compiled: Counted | string; js: Counted | string } {
      let fromCompiled: Counted | string;
      try {
        expect(compiled.countCodeAscii(text, limits)).toBe(true);
        fromCompiled = read(compiledTerms, compiled);
      } catch (error) {
        fromCompiled = (error as VltairError).code;
      }
      let fromJs: Counted | string;
      try {
        js.countCode(text, limits, jsTerms.releaseCount);
        fromJs = read(jsTerms, js);
      } catch (error) {
        js.abandon();
        fromJs = (error as VltairError).code;
      }
      return { compiled: fromCompiled, js: fromJs };
    },
    compiledTerms,
  };
}

/** ASCII text dense in what the tokenizer cuts on: case changes, digits, joiners, runs of them. */
const codeText = fc
  .array(
    fc.oneof(
      fc.constantFrom("a", "b", "Z", "Q", "x", "0", "7", "_", ".", "-", " ", "\n", "(", "__", ".."),
      fc.constantFrom("getUser", "HTTPServer", "utf8", "XMLHttp2", "foo_bar", "a.b-c", "v1.2.3"),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(""));

describe("the compiled ASCII code tokenizer", () => {
  test("counts what the JS code tokenizer counts, on generated code-like text", () => {
    const counters = pair();
    fc.assert(
      fc.property(codeText, (text) => {
        const { compiled, js } = counters.count(text);
        expect(compiled).toEqual(js);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test("counts what the JS code tokenizer counts, on this repository's sources", () => {
    const counters = pair();
    const dir = join(import.meta.dir, "../../../../src/search/text");
    let texts = 0;
    for (const name of readdirSync(dir).sort()) {
      const source = readFileSync(join(dir, name), "utf8");
      if (/[^\t\n\r\x20-\x7e]/.test(source)) continue;
      for (let at = 0; at < source.length; at += 1500) {
        const { compiled, js } = counters.count(source.slice(at, at + 1500));
        expect(compiled).toEqual(js);
        texts++;
      }
    }
    expect(texts).toBeGreaterThan(50);
  });

  test("truncates and limits like the JS tokenizer", () => {
    const counters = pair();
    fc.assert(
      fc.property(
        codeText,
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 12 }),
        (text, tokenCharsMax, tokensMax) => {
          const { compiled, js } = counters.count(text, { tokenCharsMax, tokensMax });
          expect(compiled).toEqual(js);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test("a text with a non-ASCII character is left to the JS path", () => {
    const terms = new TermDictionary();
    const counter = new TermCounter(terms);
    expect(counter.countCodeAscii("naïve getUser", LIMITS)).toBe(false);
    expect(terms.size).toBe(0);
    expect(counter.distinct()).toHaveLength(0);
  });

  test("a count past tokensMax throws payload_too_large and leaves ids and free list as before", () => {
    const terms = new TermDictionary();
    const counter = new TermCounter(terms);
    for (const term of ["a", "b", "c", "d"]) terms.intern(term);
    terms.release(1);
    terms.release(3);
    const before = terms.size;
    let code = "";
    try {
      counter.countCodeAscii("one two three four five", { tokenCharsMax: 256, tokensMax: 3 });
    } catch (error) {
      code = (error as VltairError).code;
    }
    expect(code).toBe("payload_too_large");
    expect(terms.size).toBe(before);
    expect(terms.idOf("one")).toBe(-1);
    // The free list is as before: 3 (released last) first, then 1, then new ids.
    expect(terms.intern("x")).toBe(3);
    expect(terms.intern("y")).toBe(1);
    expect(terms.intern("z")).toBe(4);
    expect(counter.countCodeAscii("x y new", LIMITS)).toBe(true);
    expect(read(terms, counter).terms).toEqual([
      ["x", 1],
      ["y", 1],
      ["new", 1],
    ]);
    expect(terms.idOf("new")).toBe(5);
  });
});

describe("TermTable", () => {
  test("ids are dense; released ids are reused, most recent first; a released term is gone", () => {
    const table = new TermTable();
    expect(table.intern("a")).toEqual({ id: 0, created: true });
    expect(table.intern("b")).toEqual({ id: 1, created: true });
    expect(table.intern("a")).toEqual({ id: 0, created: false });
    table.release(0);
    table.release(1);
    expect(table.idOf("a")).toBe(-1);
    expect(table.intern("c")).toEqual({ id: 1, created: true });
    expect(table.intern("d")).toEqual({ id: 0, created: true });
    expect(table.termOf(1)).toBe("c");
    expect(table.liveCount).toBe(2);
    expect(table.idLimit).toBe(2);
  });

  test("holds many terms through growth, releases (backward-shift deletion) and compaction", () => {
    const table = new TermTable();
    const live = new Map<string, number>();
    for (let i = 0; i < 60_000; i++) {
      const term = `term-${i}-${"x".repeat(i % 40)}`;
      live.set(term, table.intern(term).id);
    }
    let i = 0;
    for (const [term, id] of [...live]) {
      if (i++ % 3 !== 0) continue;
      table.release(id);
      live.delete(term);
    }
    for (const [term, id] of live) expect(table.idOf(term)).toBe(id);
    for (const [term, id] of live) expect(table.termOf(id)).toBe(term);
    expect(table.liveCount).toBe(live.size);
    expect(table.idOf("term-0-")).toBe(-1);
  });

  test("non-ASCII and alias-marked terms round-trip; a lone surrogate is never found", () => {
    const table = new TermTable();
    const { id } = table.intern("\u0000größe");
    expect(table.termOf(id)).toBe("\u0000größe");
    expect(table.idOf("\u0000größe")).toBe(id);
    expect(table.idOf("größe")).toBe(-1);
    table.intern("\ufffd");
    expect(table.idOf("\ud800")).toBe(-1);
  });

  test("adopt fills an empty table in id order across slices; a repeated term is refused", () => {
    const terms = Array.from({ length: 50_000 }, (_, i) => `adopted${i}`);
    const table = new TermTable();
    expect(table.adopt(terms)).toBe(true);
    expect(table.idOf("adopted0")).toBe(0);
    expect(table.idOf("adopted49999")).toBe(49_999);
    expect(table.liveCount).toBe(50_000);
    expect(new TermTable().adopt(["a", "b", "a"])).toBe(false);
    const dictionary = new TermDictionary();
    expect(dictionary.adoptAll(["a", "b", "a"])).toBe(false);
  });
});
