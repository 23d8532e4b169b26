/**
 * Line-based three-way merge (CE-2, CE-11) over node-diff3. Changes made on one side only are
 * taken; the same change on both sides is taken once; different changes to the same lines are
 * a conflict, written with the stable markers of API.md:
 *
 * ```
 * <<<<<<< ours
 * …our lines…
 * =======
 * …their lines…
 * >>>>>>> theirs
 * ```
 */
import { diff3Merge, diffComm } from "node-diff3";
import { VltairError } from "../core/mod.ts";

/** The merge markers (API.md, "Context engine"). */
export const MERGE_MARKERS = {
  ours: "<<<<<<< ours",
  separator: "=======",
  theirs: ">>>>>>> theirs",
} as const;

/** Lines per side a merge accepts; diff3 is O(n·d) in time and memory. */
export const MERGE_LINES_MAX = 200_000;

/** What `merge` returns (wire names). */
export interface MergeResult {
  merged: string;
  /** Conflict regions written with markers. */
  conflicts: number;
  /** Lines of the result (outside markers) that are not in base. */
  added: number;
  /** Lines of base that are not in the result. */
  removed: number;
  clean: boolean;
}

function lines(text: string, side: string): string[] {
  const out = text.split("\n");
  if (out.length > MERGE_LINES_MAX) {
    throw new VltairError(
      "validation_failed",
      `${side}: at most ${MERGE_LINES_MAX} lines can be merged`,
      {
        details: { field: side, limit: MERGE_LINES_MAX },
      },
    );
  }
  return out;
}

/**
 * Merges `ours` and `theirs`, both edited from `base`.
 *
 * @example
 * ```ts
 * merge3({ base: "a\nb\n", ours: "a\nB\n", theirs: "A\nb\n" }); // merged "A\nB\n", clean
 * ```
 */
export function merge3(input: { base: string; ours: string; theirs: string }): MergeResult {
  const base = lines(input.base, "base");
  const ours = lines(input.ours, "ours");
  const theirs = lines(input.theirs, "theirs");
  const out: string[] = [];
  const content: string[] = [];
  let conflicts = 0;
  for (const region of diff3Merge(ours, base, theirs, { excludeFalseConflicts: true })) {
    if (region.ok !== undefined) {
      out.push(...region.ok);
      content.push(...region.ok);
      continue;
    }
    const conflict = region.conflict;
    if (conflict === undefined) continue;
    conflicts += 1;
    out.push(
      MERGE_MARKERS.ours,
      ...conflict.a,
      MERGE_MARKERS.separator,
      ...conflict.b,
      MERGE_MARKERS.theirs,
    );
    content.push(...conflict.a, ...conflict.b);
  }
  let added = 0;
  let removed = 0;
  for (const part of diffComm(base, content)) {
    if (part.common !== undefined) continue;
    removed += part.buffer1.length;
    added += part.buffer2.length;
  }
  return { merged: out.join("\n"), conflicts, added, removed, clean: conflicts === 0 };
}
