/**
 * Creating and loading text indexes.
 */
import { decodeTextIndex } from "./serialize.ts";
import { TextIndex } from "./text-index.ts";
import type { TextIndexOptions } from "./text-index-options.ts";

/**
 * A new, empty text index.
 *
 * @example
 * ```ts
 * const index = createTextIndex({ tokenizer: "code" });
 * index.add("doc-1", "export function getUserName() {}");
 * index.search("user name", 10); // [{ docKey: "doc-1", score: 0.… }]
 * ```
 */
export function createTextIndex(options: TextIndexOptions = {}): TextIndex {
  return new TextIndex(options);
}

/**
 * An index restored from `TextIndex.serialize()` bytes, without re-tokenizing; its options are
 * the serialized ones. Throws `validation_failed` on malformed bytes.
 *
 * @example
 * ```ts
 * const restored = loadTextIndex(index.serialize());
 * ```
 */
export function loadTextIndex(bytes: Uint8Array): TextIndex {
  const contents = decodeTextIndex(bytes);
  const index = new TextIndex(contents.options);
  index.adopt(contents);
  return index;
}
