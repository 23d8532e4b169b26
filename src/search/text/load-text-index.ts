/**
 * Creating and loading text indexes.
 */
import { runSteps, type Steps } from "../../core/mod.ts";
import { decodeTextIndexSteps } from "./serialize.ts";
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
  return runSteps(loadTextIndexSteps(bytes));
}

/** {@link loadTextIndex} as steps that may pause while the postings are decoded. */
export function* loadTextIndexSteps(bytes: Uint8Array): Steps<TextIndex> {
  const contents = yield* decodeTextIndexSteps(bytes);
  yield;
  const index = new TextIndex(contents.options);
  yield* index.adoptSteps(contents);
  return index;
}
