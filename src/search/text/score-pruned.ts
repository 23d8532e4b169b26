/**
 * Exact top-k by MaxScore dynamic pruning (Turtle & Flood 1995), document at a time over the
 * slot-sorted postings. Each query term has an upper bound of its contribution; sorted by
 * bound, the terms whose bounds sum below the current k-th score are non-essential: a document
 * holding only those cannot enter the top-k, so candidates come from the essential terms only
 * and the non-essential lists are merely probed (galloping) for those candidates. A candidate
 * is dropped as soon as its known contributions plus the remaining bounds fall below the k-th
 * score. Only strict inequalities prune (ties at the cut survive for the key tie-break), and
 * every bound is inflated by `BOUND_SLACK` so that floating-point rounding, which may differ
 * between a bound and a sum added in another order, never drops a document that belongs.
 *
 * A surviving candidate's score is summed over all terms in query-term order, exactly as the
 * exhaustive term-at-a-time path does, so scores are bit-identical and so is the result.
 */
import { SLOT_END, type TermCursor } from "./term-cursor.ts";
import type { TopK } from "./top-k.ts";

/** Relative inflation of bounds: far above rounding error (~1e-15), far below any real gap. */
const BOUND_SLACK = 1 + 1e-9;

/** Fills `top` with the true top-k of the allowed documents matching any cursor. */
export function selectPruned(
  cursors: readonly TermCursor[],
  top: TopK,
  keyOf: (slot: number) => string,
  allow: ((docKey: string) => boolean) | undefined,
): void {
  const n = cursors.length;
  if (n === 1) {
    selectSingle(cursors[0] as TermCursor, top, keyOf, allow);
    return;
  }
  // Cursor indexes by bound ascending (stable), and prefix sums of those bounds.
  const order = Array.from(cursors.keys()).sort(
    (left, right) => (cursors[left] as TermCursor).bound - (cursors[right] as TermCursor).bound,
  );
  const prefixBound = new Float64Array(n + 1);
  for (let j = 0; j < n; j++) {
    prefixBound[j + 1] =
      (prefixBound[j] as number) + (cursors[order[j] as number] as TermCursor).bound;
  }
  const contributions = new Float64Array(n);
  const isPresent = new Uint8Array(n);
  let threshold = top.threshold();
  /** Leading entries of `order` that are non-essential. */
  let nonEssential = 0;
  const settle = (): void => {
    while (
      nonEssential < n &&
      (prefixBound[nonEssential + 1] as number) * BOUND_SLACK < threshold
    ) {
      nonEssential++;
    }
  };
  for (;;) {
    let slot = SLOT_END;
    for (let j = nonEssential; j < n; j++) {
      const cursorSlot = (cursors[order[j] as number] as TermCursor).slot;
      if (cursorSlot < slot) slot = cursorSlot;
    }
    if (slot === SLOT_END) return;
    let known = 0;
    for (let j = nonEssential; j < n; j++) {
      const c = order[j] as number;
      const cursor = cursors[c] as TermCursor;
      if (cursor.slot === slot) {
        const contribution = cursor.contribution();
        contributions[c] = contribution;
        isPresent[c] = 1;
        known += contribution;
        cursor.next();
      } else {
        isPresent[c] = 0;
      }
    }
    let isCandidate = true;
    for (let j = nonEssential - 1; j >= 0; j--) {
      if ((known + (prefixBound[j + 1] as number)) * BOUND_SLACK < threshold) {
        isCandidate = false;
        break;
      }
      const c = order[j] as number;
      const cursor = cursors[c] as TermCursor;
      cursor.seek(slot);
      if (cursor.slot === slot) {
        const contribution = cursor.contribution();
        contributions[c] = contribution;
        isPresent[c] = 1;
        known += contribution;
      } else {
        isPresent[c] = 0;
      }
    }
    if (!isCandidate) continue;
    let score = 0;
    for (let c = 0; c < n; c++) if (isPresent[c] === 1) score += contributions[c] as number;
    if (score < threshold || !top.accepts(slot, score)) continue;
    if (allow !== undefined && !allow(keyOf(slot))) continue;
    top.offer(slot, score);
    const next = top.threshold();
    if (next !== threshold) {
      threshold = next;
      settle();
    }
  }
}

/** One query term: nothing to prune, one pass over its postings without a score array. */
function selectSingle(
  cursor: TermCursor,
  top: TopK,
  keyOf: (slot: number) => string,
  allow: ((docKey: string) => boolean) | undefined,
): void {
  cursor.scan((slot, score) => {
    if (top.accepts(slot, score) && (allow === undefined || allow(keyOf(slot)))) {
      top.offer(slot, score);
    }
    return top.threshold();
  });
}
