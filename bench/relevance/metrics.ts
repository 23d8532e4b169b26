/** Ranking metrics of bench/relevance.ts: one relevant document per query. */
import { round } from "../search/stats.ts";

/** MRR@10 and hit@1/5/10 of one engine over a list of queries. */
export interface RankSummary {
  queries: number;
  mrr_at_10: number;
  hit_at_1: number;
  hit_at_5: number;
  hit_at_10: number;
}

/** 1-based rank of `target` in `ids`, or 0 when it is not there. */
export function rankOf(ids: readonly string[], target: string): number {
  return ids.indexOf(target) + 1;
}

/** Summary of ranks (0 = not in the top 10). */
export function summarise(ranks: readonly number[]): RankSummary {
  const n = Math.max(1, ranks.length);
  const within = (cut: number) => ranks.filter((r) => r > 0 && r <= cut).length / n;
  const mrr = ranks.reduce((sum, r) => sum + (r > 0 && r <= 10 ? 1 / r : 0), 0) / n;
  return {
    queries: ranks.length,
    mrr_at_10: round(mrr, 4),
    hit_at_1: round(within(1), 4),
    hit_at_5: round(within(5), 4),
    hit_at_10: round(within(10), 4),
  };
}

/** Queries where `ranks` puts the target higher (better) / lower (worse) than `reference`. */
export function versus(
  ranks: readonly number[],
  reference: readonly number[],
): { better: number; worse: number } {
  const score = (r: number) => (r > 0 && r <= 10 ? 1 / r : 0);
  let better = 0;
  let worse = 0;
  ranks.forEach((r, q) => {
    const d = score(r) - score(reference[q] ?? 0);
    if (d > 0) better++;
    else if (d < 0) worse++;
  });
  return { better, worse };
}

/**
 * The whole set and its two halves: even query positions tune the settings, odd ones check
 * them (the halves are disjoint; a setting chosen on `tune` should hold on `check`).
 */
export function summariseSplit(ranks: readonly number[]) {
  return {
    all: summarise(ranks),
    tune: summarise(ranks.filter((_, q) => q % 2 === 0)),
    check: summarise(ranks.filter((_, q) => q % 2 === 1)),
  };
}
