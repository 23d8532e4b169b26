/**
 * The project's one assertion. A failed assertion is a bug: it throws an `AssertionError`
 * that is never mapped to a 4xx, so the caller sees a 500 and the log shows the invariant.
 */

/** Thrown when an invariant does not hold. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/**
 * Checks one condition; throws `AssertionError` with `message` when it is false.
 *
 * @example
 * ```ts
 * assert(sizeBytes <= sizeBytesMax, "frame larger than its limit");
 * ```
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
