/**
 * Decodes `UNICODE61_TABLE` into a lookup from code point to what FTS5's `unicode61` tokenizer
 * makes of it. The Basic Multilingual Plane gets a dense `Int32Array` (256 KiB, one read per
 * character); the rare astral code points use a binary search over the decoded ranges.
 */
import { assert } from "../../core/mod.ts";
import { UNICODE61_TABLE } from "./unicode61-table.ts";

/** Fold result of a code point that separates tokens. */
export const FOLD_SEPARATOR = -1;
/** Fold result of a token character that folding removes (a standalone diacritic). */
export const FOLD_DROPPED = -2;

const BMP_SIZE = 0x10000;
const CODE_POINT_MAX = 0x10ffff;

interface DecodedTable {
  /** First code point of each range, ascending. */
  starts: Int32Array;
  /** Per range: `FOLD_SEPARATOR`, `FOLD_DROPPED`, or the offset to the folded code point. */
  kinds: Int32Array;
  /** Per range: 1 when `kinds` holds an offset. */
  isOffset: Uint8Array;
}

function decode(encoded: string): DecodedTable {
  const entries = encoded.split(",");
  const starts = new Int32Array(entries.length);
  const kinds = new Int32Array(entries.length);
  const isOffset = new Uint8Array(entries.length);
  let start = 0;
  for (let i = 0; i < entries.length; i++) {
    const [gap, kind] = (entries[i] ?? "").split(":");
    assert(gap !== undefined && kind !== undefined, "unicode61 table entry malformed");
    start += Number.parseInt(gap, 36);
    starts[i] = start;
    if (kind === "S") kinds[i] = FOLD_SEPARATOR;
    else if (kind === "D") kinds[i] = FOLD_DROPPED;
    else {
      kinds[i] = Number.parseInt(kind, 36);
      isOffset[i] = 1;
    }
  }
  assert(starts[0] === 0, "unicode61 table must start at code point 0");
  assert(start <= CODE_POINT_MAX, "unicode61 table past the last code point");
  return { starts, kinds, isOffset };
}

function foldInRange(table: DecodedTable, index: number, codePoint: number): number {
  const kind = table.kinds[index] ?? FOLD_SEPARATOR;
  return table.isOffset[index] === 1 ? codePoint + kind : kind;
}

function buildBmp(table: DecodedTable): Int32Array {
  const bmp = new Int32Array(BMP_SIZE);
  let range = 0;
  for (let codePoint = 0; codePoint < BMP_SIZE; codePoint++) {
    while (range + 1 < table.starts.length && (table.starts[range + 1] ?? 0) <= codePoint) {
      range++;
    }
    bmp[codePoint] = foldInRange(table, range, codePoint);
  }
  return bmp;
}

const TABLE = decode(UNICODE61_TABLE);
const BMP = buildBmp(TABLE);

/**
 * What FTS5's `unicode61` (remove_diacritics=1) makes of one code point: the folded code point
 * of a token character, `FOLD_DROPPED` for a token character folding removes, or
 * `FOLD_SEPARATOR`.
 *
 * @example
 * ```ts
 * unicode61Fold(0x45); // 0x65: "E" folds to "e"
 * unicode61Fold(0xe9); // 0x65: "é" loses its diacritic
 * unicode61Fold(0x20); // FOLD_SEPARATOR
 * ```
 */
export function unicode61Fold(codePoint: number): number {
  if (codePoint < BMP_SIZE) return BMP[codePoint] ?? FOLD_SEPARATOR;
  if (codePoint > CODE_POINT_MAX) return FOLD_SEPARATOR;
  let low = 0;
  let high = TABLE.starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if ((TABLE.starts[middle] ?? 0) <= codePoint) low = middle;
    else high = middle - 1;
  }
  return foldInRange(TABLE, low, codePoint);
}
