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
import { BOUND_SLACK, SLOT_END, type TermCursor } from "./term-cursor.ts";
import type { TopK } from "./top-k.ts";

/** Candidates before the first check of whether pruning pays (see `selectPruned`). */
const FIRST_CHECK_CANDIDATES = 256;
/** Candidates between two later checks. */
const CHECK_EVERY_CANDIDATES = 1024;
/**
 * Candidates per posting passed (over all lists) above which document at a time costs more
 * than term at a time: a candidate costs about five postings' worth of the exhaustive loop.
 */
const CANDIDATES_PER_POSTING_MAX = 0.2;

/**
 * Fills `top` with the true top-k of the allowed documents matching any cursor whose slot is
 * below the returned slot; returns `SLOT_END` when done. It stops early (every document from
 * the returned slot on still to be scored, for example term at a time) when pruning does not
 * pay: when the terms are all so common that most documents are candidates.
 */
export function selectPruned(
  cursors: readonly TermCursor[],
  top: TopK,
  keyOf: (slot: number) => string,
  allow: ((docKey: string) => boolean) | undefined,
  slotLimit: number,
): number {
  const n = cursors.length;
  if (n === 1) {
    selectSingle(cursors[0] as TermCursor, top, keyOf, allow);
    return SLOT_END;
  }
  let postingCount = 0;
  for (const cursor of cursors) postingCount += cursor.postingCount;
  let candidates = 0;
  let nextCheck = FIRST_CHECK_CANDIDATES;
  // Cursors by bound ascending (stable), and prefix sums of those bounds.
  const sorted = [...cursors].sort((left, right) => left.bound - right.bound);
  const prefixBound = new Float64Array(n + 1);
  for (let j = 0; j < n; j++) {
    prefixBound[j + 1] = (prefixBound[j] as number) + (sorted[j] as TermCursor).bound;
  }
  let threshold = top.threshold();
  /** Leading entries of `sorted` that are non-essential. */
  let nonEssential = 0;
  for (;;) {
    let slot = SLOT_END;
    for (let j = nonEssential; j < n; j++) {
      const cursorSlot = (sorted[j] as TermCursor).slot;
      if (cursorSlot < slot) slot = cursorSlot;
    }
    if (slot === SLOT_END) return SLOT_END;
    if (++candidates === nextCheck) {
      nextCheck += CHECK_EVERY_CANDIDATES;
      // Postings passed, estimated from the share of the slot range passed.
      const passed = (postingCount * slot) / slotLimit;
      if (candidates > passed * CANDIDATES_PER_POSTING_MAX) return slot;
    }
    if (threshold > Number.NEGATIVE_INFINITY) {
      // Block-max: every document up to the nearest end of the essential cursors' current
      // blocks scores at most their block bounds plus the non-essential terms' bounds.
      let bound = prefixBound[nonEssential] as number;
      let windowEnd = SLOT_END;
      for (let j = nonEssential; j < n; j++) {
        const cursor = sorted[j] as TermCursor;
        if (cursor.slot === SLOT_END) continue;
        cursor.refreshWindow();
        bound += cursor.windowBound;
        if (cursor.windowEnd < windowEnd) windowEnd = cursor.windowEnd;
      }
      if (bound * BOUND_SLACK < threshold) {
        for (let j = nonEssential; j < n; j++) (sorted[j] as TermCursor).seek(windowEnd + 1);
        continue;
      }
    }
    let known = 0;
    for (let j = nonEssential; j < n; j++) {
      const cursor = sorted[j] as TermCursor;
      if (cursor.slot === slot) known += cursor.take();
    }
    let isCandidate = true;
    for (let j = nonEssential - 1; j >= 0; j--) {
      if ((known + (prefixBound[j + 1] as number)) * BOUND_SLACK < threshold) {
        isCandidate = false;
        break;
      }
      known += (sorted[j] as TermCursor).probe(slot);
    }
    if (!isCandidate) continue;
    // The exact score: contributions added in query-term order, as the exhaustive path does.
    let score = 0;
    for (let c = 0; c < n; c++) {
      const cursor = cursors[c] as TermCursor;
      if (cursor.takenSlot === slot) score += cursor.taken;
    }
    if (score < threshold || !top.accepts(slot, score)) continue;
    if (allow !== undefined && !allow(keyOf(slot))) continue;
    top.offer(slot, score);
    const next = top.threshold();
    if (next !== threshold) {
      threshold = next;
      while (
        nonEssential < n &&
        (prefixBound[nonEssential + 1] as number) * BOUND_SLACK < threshold
      ) {
        nonEssential++;
      }
    }
  }
}

/** One query term: nothing for MaxScore to prune; block-max skips (see `TermCursor.scan`). */
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
