/** Timing helpers of bench/search.ts. */

/** p50 and p95 of samples in µs (nearest rank), rounded to 0.1 µs. */
export function percentiles(samplesUs: readonly number[]): { p50Us: number; p95Us: number } {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const at = (p: number): number =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1));
  return { p50Us: at(0.5), p95Us: at(0.95) };
}

/** Runs `run` and returns its value and wall time in ms. */
export function timed<T>(run: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = run();
  return { value, ms: performance.now() - start };
}

/** The same for an async `run`. */
export async function timedAsync<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

/** A mutable sum of ms with a call count. */
export interface Meter {
  ms: number;
  calls: number;
}

export const meter = (): Meter => ({ ms: 0, calls: 0 });

/** Rounds to `digits` decimals. */
export const round = (value: number, digits = 0): number => Number(value.toFixed(digits));

/** |A ∩ B| / max(|A|, |B|); 1 when both are empty. */
export function overlap(left: readonly string[], right: readonly string[]): number {
  const size = Math.max(left.length, right.length);
  if (size === 0) return 1;
  const rightSet = new Set(right);
  return left.filter((key) => rightSet.has(key)).length / size;
}

/** Mean overlap of per-query result lists with a reference's. */
export function meanOverlap(results: readonly string[][], reference: readonly string[][]): number {
  if (results.length === 0) return 0;
  const sum = results.reduce((acc, keys, q) => acc + overlap(keys, reference[q] ?? []), 0);
  return round(sum / results.length, 4);
}
