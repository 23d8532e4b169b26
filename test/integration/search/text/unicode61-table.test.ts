import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { tokenizeUnicode61 } from "../../../../src/search/text/mod.ts";
import { UNICODE61_TABLE } from "../../../../src/search/text/unicode61-table.ts";
import { seededRandom } from "./corpus.ts";
import { sweepFts5Unicode61 } from "./fts5-unicode61-sweep.ts";

const SEED = 61;
const LIMITS = { tokenCharsMax: 4096, tokensMax: 1_000_000 };

/** Code points worth mixing: ASCII, Latin with diacritics, Greek, Cyrillic, CJK, marks, emoji. */
const POOLS: [number, number][] = [
  [0x20, 0x7e],
  [0xa0, 0x24f],
  [0x300, 0x36f],
  [0x370, 0x3ff],
  [0x400, 0x4ff],
  [0x1e00, 0x1eff],
  [0x2000, 0x206f],
  [0x3040, 0x30ff],
  [0x4e00, 0x4e3f],
  [0xff00, 0xffef],
  [0x1d400, 0x1d4ff],
  [0x1f600, 0x1f64f],
];

function randomText(random: () => number, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) {
    const [low, high] = POOLS[Math.floor(random() * POOLS.length)] ?? [0x61, 0x7a];
    text += String.fromCodePoint(low + Math.floor(random() * (high - low + 1)));
  }
  return text;
}

describe("unicode61 against SQLite FTS5", () => {
  // The whole code space through SQLite (3-4 s): a long variant. The mixed-script test below
  // checks the table against FTS5 on random text in every run.
  test.if(process.env.VLTAIR_SLOW === "1")(
    "the committed per-code-point table equals a fresh sweep of FTS5",
    () => {
      expect(sweepFts5Unicode61()).toBe(UNICODE61_TABLE);
    },
    60_000,
  );

  test("tokens of random mixed-script text equal FTS5's, token by token", () => {
    const db = new Database(":memory:");
    db.run("CREATE VIRTUAL TABLE t USING fts5(body)");
    db.run("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')");
    const random = seededRandom(SEED);
    const texts = Array.from({ length: 300 }, () =>
      randomText(random, 1 + Math.floor(random() * 80)),
    );
    const insert = db.prepare("INSERT INTO t(rowid, body) VALUES (?, ?)");
    texts.forEach((text, i) => {
      insert.run(i + 1, text);
    });
    const rows = db.query("SELECT doc, offset, term FROM v ORDER BY doc, offset").all() as {
      doc: number;
      term: string;
    }[];
    const expected = texts.map(() => [] as string[]);
    for (const row of rows) expected[row.doc - 1]?.push(row.term);
    texts.forEach((text, i) => {
      expect(tokenizeUnicode61(text, LIMITS).tokens).toEqual(expected[i] ?? []);
    });
    db.close();
  });
});
