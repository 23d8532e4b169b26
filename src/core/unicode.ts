/** Well-formed UTF-16: what ids, texts and policy contexts must be to round-trip as UTF-8. */

/** A lone surrogate: a high surrogate not followed by a low one, or a low one not preceded. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * True when `text` holds a lone surrogate (is not valid Unicode).
 *
 * @example
 * ```ts
 * hasLoneSurrogate("a\ud800"); // true
 * ```
 */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}
