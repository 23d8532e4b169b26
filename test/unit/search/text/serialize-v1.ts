/**
 * The version 1 encoder (each string inline), kept here to produce old-format bytes for tests.
 */
import { ByteWriter } from "../../../../src/search/text/byte-codec.ts";
import type { TextIndexContents } from "../../../../src/search/text/serialize.ts";
import { TOKENIZER_NAMES } from "../../../../src/search/text/tokenizer.ts";

export function encodeTextIndexV1(contents: TextIndexContents): Uint8Array {
  const writer = new ByteWriter();
  const { options } = contents;
  writer.u32(0x58544c56);
  writer.u32(1);
  writer.u8(TOKENIZER_NAMES.indexOf(options.tokenizer));
  writer.f64(options.k1);
  writer.f64(options.b);
  writer.f64(options.aliasWeight);
  writer.u32(options.tokenCharsMax);
  writer.u32(options.tokensPerDocMax);
  writer.varint(contents.docKeys.length);
  contents.docKeys.forEach((key, rank) => {
    writer.string(key);
    writer.varint(contents.docLengths[rank] ?? 0);
  });
  writer.varint(contents.terms.length);
  contents.terms.forEach((term, i) => {
    const offset = contents.termOffsets[i] ?? 0;
    const count = contents.termCounts[i] ?? 0;
    writer.string(term);
    writer.varint(count);
    let previous = -1;
    for (let at = offset; at < offset + 2 * count; at += 2) {
      const slot = contents.pool[at] ?? 0;
      const rank = contents.rankOfSlot === null ? slot : (contents.rankOfSlot[slot] ?? 0);
      writer.varint(rank - previous - 1);
      writer.varint(contents.pool[at + 1] ?? 0);
      previous = rank;
    }
  });
  return writer.finish();
}
