/**
 * A tenant's vector tail (ADR 0025): vectors applied while the helper thread still inserts an
 * earlier batch wait in the store instead of making the writer wait, and the graph ends the
 * same as when every batch went in on the calling thread.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { encodeVector, type UpsertItemRecord } from "../../../src/context/store/record.ts";
import { ContextState } from "../../../src/context/store/state.ts";
import { VECTOR_TAIL_MAX } from "../../../src/context/store/tenant.ts";
import type { VectorIndex } from "../../../src/search/mod.ts";
import { seededRandom } from "../../support/random.ts";

const DIMENSIONS = 8;
const states: ContextState[] = [];
afterEach(() => {
  for (const state of states.splice(0)) state.dispose();
});

function stateWith(helperThread: boolean): ContextState {
  const state = new ContextState({ helperThread });
  states.push(state);
  return state;
}

/** Documents `d<from>`…`d<from + count − 1>`, each with a seeded vector; `edition` changes them. */
function items(from: number, count: number, edition = 0): UpsertItemRecord[] {
  const random = seededRandom(from * 31 + edition);
  return Array.from({ length: count }, (_, i) => {
    const id = `d${from + i}`;
    const vector = Float32Array.from({ length: DIMENSIONS }, () => random() - 0.5);
    return {
      id,
      scope: { kind: "global" as const },
      text: `${id} edition ${edition}`,
      vector: encodeVector(vector),
      hash: `${id}:${edition}`,
    };
  });
}

let walIndex = 0;
function upsert(state: ContextState, batch: UpsertItemRecord[]): void {
  walIndex += 1;
  state.apply({ op: "upsert", tenant: "t", tokenizer: "code", items: batch }, walIndex, 1_000);
}

/** Makes the index report a batch in flight until the returned function is called. */
function holdBusy(index: VectorIndex): () => void {
  Object.defineProperty(index, "inserting", { configurable: true, get: () => true });
  return () => {
    delete (index as unknown as Record<string, unknown>).inserting;
  };
}

function indexOf(state: ContextState): VectorIndex {
  const index = state.tenant("t")?.vectorIndex();
  if (index == null) throw new Error("tenant t has no vector index");
  return index;
}

/** Keys of the 10 nearest neighbours of a few fixed queries. */
function answers(index: VectorIndex): string[][] {
  const random = seededRandom(99);
  return Array.from({ length: 8 }, () => {
    const query = Float32Array.from({ length: DIMENSIONS }, () => random() - 0.5);
    return Array.from(index.search(query, 10).keys, String);
  });
}

describe("a tenant's vector tail", () => {
  test("batches applied while the helper inserts wait in the store; the graph ends as if inserted inline", () => {
    const live = stateWith(true);
    const inline = stateWith(false);
    const both = (apply: (state: ContextState) => void) => {
      apply(live);
      apply(inline);
    };
    both((s) => upsert(s, items(0, 300)));
    const index = indexOf(live);
    const release = holdBusy(index);
    both((s) => upsert(s, items(300, 300)));
    // The second batch is held back: the index (joined, not flushed) has the first only.
    expect(index.size()).toBe(300);
    // Replacing a held-back document puts the tail in first, then removes the old version.
    both((s) => upsert(s, [...items(350, 1, 1), ...items(600, 50)]));
    expect(index.size()).toBe(600 - 1);
    both((s) =>
      s.apply(
        { op: "delete", tenant: "t", items: [{ id: "d10", scope: { kind: "global" } }] },
        ++walIndex,
        1_000,
      ),
    );
    release();
    // With the helper free again, the end of an upsert hands over what waited.
    both((s) => upsert(s, items(650, 40)));
    expect(index.size()).toBe(indexOf(inline).size());
    expect(index.size()).toBe(690 - 1); // d10 deleted; d350 replaced
    expect(indexOf(live).serialize()).toEqual(indexOf(inline).serialize());
    expect(answers(indexOf(live))).toEqual(answers(indexOf(inline)));
  });

  test(`at ${VECTOR_TAIL_MAX} held-back vectors the writer hands them over and waits`, () => {
    const live = stateWith(true);
    upsert(live, items(0, 100));
    const index = indexOf(live);
    const release = holdBusy(index);
    const batch = 1_000;
    let applied = 100;
    while (applied + batch - 100 < VECTOR_TAIL_MAX) {
      upsert(live, items(applied, batch));
      applied += batch;
      expect(index.size()).toBe(100);
    }
    upsert(live, items(applied, batch));
    applied += batch;
    expect(index.size()).toBe(applied);
    release();
  });

  test("vectorIndex() hands out the index with the held-back vectors posted", () => {
    const live = stateWith(true);
    upsert(live, items(0, 50));
    const index = indexOf(live);
    const release = holdBusy(index);
    upsert(live, items(50, 50));
    expect(index.size()).toBe(50);
    expect(live.tenant("t")?.vectorIndex()?.size()).toBe(100);
    release();
  });
});
