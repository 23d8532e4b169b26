/**
 * The pruned search of a text index: one cursor per query term (its IDF, its bound, its
 * blocks), MaxScore over them (score-pruned.ts), and the term-at-a-time finish when MaxScore
 * stops early. The exhaustive path stays in text-index.ts as the reference.
 */
import type { BlockBounds } from "./block-bounds.ts";
import { bm25Idf } from "./bm25.ts";
import type { PairUnionCache } from "./pair-union-cache.ts";
import { selectPruned } from "./score-pruned.ts";
import { type ScoringState, scoreExactTerm, scoreTermGroup } from "./score-terms.ts";
import type { BoundSource, TermBounds } from "./term-bounds.ts";
import {
  type CursorMember,
  type CursorScoring,
  SLOT_END,
  TermCursor,
  unionCount,
} from "./term-cursor.ts";
import { TopK, type TopKEntry } from "./top-k.ts";

/** The index terms one query term matches, with their weights. */
export interface TermGroup {
  termIds: number[];
  weights: number[];
}

/** What the pruned search reads from its index. */
export interface PrunedSearchIndex {
  source: BoundSource;
  bounds: TermBounds;
  blocks: BlockBounds;
  unionCounts: PairUnionCache;
  /** Adds and removes so far (the union cache's validity). */
  writeCount: number;
  slotKeys: readonly (string | undefined)[];
  slotLimit: number;
  docCount: number;
  scoring: CursorScoring;
  /** The dense score arrays, for the term-at-a-time finish. */
  scoringState: () => ScoringState;
}

/** The true top-k of the allowed documents, best first (ties by key). */
export function searchPruned(
  index: PrunedSearchIndex,
  groups: readonly TermGroup[],
  k: number,
  allow: ((docKey: string) => boolean) | undefined,
): TopKEntry[] {
  const cursors = groups.map((group) => cursorOf(index, group));
  const keys = index.slotKeys;
  const keyOf = (slot: number): string => keys[slot] ?? "";
  const top = new TopK(Math.min(k, index.docCount), keyOf);
  const stoppedAt = selectPruned(cursors, top, keyOf, allow, index.slotLimit);
  if (stoppedAt !== SLOT_END) finishExhaustive(index, groups, cursors, stoppedAt, top, allow);
  return top.drain();
}

/**
 * Scores every document from `fromSlot` on term at a time (query-term order, so the same
 * sums) and offers them to `top`, which holds the true top-k of the slots before.
 */
function finishExhaustive(
  index: PrunedSearchIndex,
  groups: readonly TermGroup[],
  cursors: readonly TermCursor[],
  fromSlot: number,
  top: TopK,
  allow: ((docKey: string) => boolean) | undefined,
): void {
  const state = index.scoringState();
  const { scores, touched } = state;
  try {
    groups.forEach((group, i) => {
      if (group.termIds.length === 1 && group.weights[0] === 1) {
        scoreExactTerm(state, group.termIds[0] as number, fromSlot);
      } else {
        const idf = (cursors[i] as TermCursor).idf;
        scoreTermGroup(state, group, { slot: fromSlot, idf });
      }
    });
    const keys = index.slotKeys;
    for (let i = 0; i < state.touchedCount; i++) {
      const slot = touched[i] as number;
      const score = scores[slot] as number;
      if (score < top.threshold() || !top.accepts(slot, score)) continue;
      if (allow !== undefined && !allow(keys[slot] ?? "")) continue;
      top.offer(slot, score);
    }
  } finally {
    for (let i = 0; i < state.touchedCount; i++) scores[touched[i] as number] = 0;
  }
}

/** A group's cursor, its IDF (FTS5's, over the documents holding any member) and bound. */
function cursorOf(index: PrunedSearchIndex, group: TermGroup): TermCursor {
  const { source, bounds, scoring } = index;
  const { pool, offsets, counts } = source;
  const members: CursorMember[] = [];
  let tfMax = 0;
  let lengthMin = Number.POSITIVE_INFINITY;
  group.termIds.forEach((termId, i) => {
    const weight = group.weights[i] as number;
    members.push({
      offset: offsets[termId] as number,
      count: counts[termId] as number,
      weight,
      blocks: index.blocks.of(termId, source, bounds),
    });
    tfMax += weight * bounds.tfMaxOf(termId, source);
    lengthMin = Math.min(lengthMin, bounds.lengthMinOf(termId, source));
  });
  const [a, b] = members as [CursorMember, CursorMember | undefined];
  const hitCount =
    b === undefined
      ? a.count
      : index.unionCounts.get(
          group.termIds[0] as number,
          group.termIds[1] as number,
          index.writeCount,
          () => unionCount(pool, a, b),
        );
  const cursor = new TermCursor(pool, scoring, members, bm25Idf(index.docCount, hitCount));
  const { k1, b: lengthWeight, avgDocLength } = scoring;
  cursor.bound =
    cursor.idf *
    ((tfMax * (k1 + 1.0)) /
      (tfMax + k1 * (1 - lengthWeight + (lengthWeight * lengthMin) / avgDocLength)));
  return cursor;
}
