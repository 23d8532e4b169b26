import { afterEach, describe, expect, test } from "bun:test";
import { AssertionError } from "../../../src/core/mod.ts";
import { createVectorIndex, type VectorIndex } from "../../../src/search/mod.ts";
import { BACKGROUND_BATCH_MIN } from "../../../src/search/vector.ts";
import { VECTOR_THREAD_COUNTS } from "../../../src/search/vector-thread.ts";
import { clusteredSpace } from "./clustered.ts";

const DIMENSIONS = 16;
const open: VectorIndex[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});

/** An index with the helper thread (the default) or, with `helperThread: false`, without. */
function make(helperThread = true): VectorIndex {
  const index = createVectorIndex({ dimensions: DIMENSIONS, metric: "cos", helperThread });
  open.push(index);
  return index;
}

/** `batches` batches of 128 clustered vectors, keyed 1..n, a fixed seed. */
function batchesOf(batches: number): { keys: number[]; vectors: Float32Array }[] {
  const space = clusteredSpace({
    dimensions: DIMENSIONS,
    seed: 11,
    clusters: 8,
    subspaceDimensions: 4,
  });
  const out: { keys: number[]; vectors: Float32Array }[] = [];
  for (let b = 0; b < batches; b++) {
    out.push({
      keys: Array.from({ length: 128 }, (_, i) => b * 128 + i + 1),
      vectors: space.sample(128),
    });
  }
  return out;
}

/**
 * A background search, polled for until the helper takes it (null means the helper was still
 * starting or busy; nothing was done then).
 */
function backgroundSearch(index: VectorIndex, query: Float32Array, k: number) {
  const deadlineMs = performance.now() + 10_000;
  for (;;) {
    const collect = index.searchInBackground(query, k);
    if (collect !== null) return collect;
    if (performance.now() > deadlineMs) throw new Error("the helper thread never took a search");
  }
}

/** Every search of `queries` at k = 10, as arrays of keys and distances. */
function answers(
  index: VectorIndex,
  queries: Float32Array,
): { keys: string[]; distances: number[] }[] {
  const out: { keys: string[]; distances: number[] }[] = [];
  for (let q = 0; q < queries.length / DIMENSIONS; q++) {
    const m = index.search(queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS), 10);
    out.push({ keys: Array.from(m.keys, String), distances: Array.from(m.distances) });
  }
  return out;
}

describe("vector helper thread", () => {
  test("background inserts build the same index, byte for byte, as inserts on the calling thread", () => {
    const data = batchesOf(6);
    const background = make();
    for (const b of data) background.addBatch(b.keys, b.vectors, { background: true });
    const inline = make(false);
    for (const b of data) inline.addBatch(b.keys, b.vectors, { background: true });
    expect(background.size()).toBe(6 * 128);
    expect(background.serialize()).toEqual(inline.serialize());
    const queries = clusteredSpace({
      dimensions: DIMENSIONS,
      seed: 12,
      clusters: 8,
      subspaceDimensions: 4,
    }).sample(20);
    expect(answers(background, queries)).toEqual(answers(inline, queries));
  });

  test("memory the helper grows is seen by the calling thread: same bytes as inline inserts", () => {
    const dims = 64;
    const space = clusteredSpace({
      dimensions: dims,
      seed: 21,
      clusters: 16,
      subspaceDimensions: 8,
    });
    const batches = Array.from({ length: 4 }, (_, b) => ({
      keys: Array.from({ length: 1000 }, (_, i) => b * 1000 + i + 1),
      vectors: space.sample(1000),
    }));
    // The inline index never gets a helper (attached while the helper is off); each of its
    // batches is the other work during which the helper inserts the background index's batch.
    // A job the helper has not started when it is needed is taken back, so a few tries at most.
    let inline: VectorIndex | null = null;
    let helperRan = false;
    let background: VectorIndex | null = null;
    for (let attempt = 0; attempt < 5 && !helperRan; attempt++) {
      inline?.dispose();
      inline = createVectorIndex({ dimensions: dims, metric: "cos", helperThread: false });
      // An index without the helper thread runs every job on its own thread.
      expect(inline.searchInBackground(new Float32Array(dims).fill(1), 1)).toBeNull();
      background?.dispose();
      background = createVectorIndex({ dimensions: dims, metric: "cos" });
      const before = { ...VECTOR_THREAD_COUNTS };
      for (const b of batches) {
        background.addBatch(b.keys, b.vectors, { background: true });
        inline.addBatch(b.keys, b.vectors, { background: true });
      }
      background.size();
      const posted = VECTOR_THREAD_COUNTS.posted - before.posted;
      helperRan = posted > VECTOR_THREAD_COUNTS.claimedBack - before.claimedBack;
    }
    open.push(inline as VectorIndex, background as VectorIndex);
    expect(helperRan).toBe(true);
    const grown = background as VectorIndex;
    const startBytes = grown.memoryUsage().wasmMemoryBytes;
    expect(startBytes).toBeGreaterThan(4 * 1000 * dims * 4);
    const reference = inline as VectorIndex;
    expect(grown.serialize()).toEqual(reference.serialize());
    const query = space.sample(1);
    expect(Array.from(grown.search(query, 10).keys)).toEqual(
      Array.from(reference.search(query, 10).keys),
    );
  });

  test("a background search returns what the same search returns on the calling thread", () => {
    const index = make();
    for (const b of batchesOf(4)) index.addBatch(b.keys, b.vectors, { background: true });
    const queries = clusteredSpace({
      dimensions: DIMENSIONS,
      seed: 13,
      clusters: 8,
      subspaceDimensions: 4,
    }).sample(20);
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS);
      const background = backgroundSearch(index, query, 10)();
      const inline = index.search(query, 10);
      expect(Array.from(background.keys)).toEqual(Array.from(inline.keys));
      expect(Array.from(background.distances)).toEqual(Array.from(inline.distances));
    }
  });

  test("nothing else may run on the index while a background search is out", () => {
    const index = make();
    const [batch] = batchesOf(1);
    index.addBatch(batch?.keys ?? [], batch?.vectors ?? new Float32Array(0));
    const query = (batch?.vectors ?? new Float32Array(0)).subarray(0, DIMENSIONS);
    const collect = backgroundSearch(index, query, 5);
    expect(() => index.size()).toThrow(AssertionError);
    collect();
    expect(() => collect()).toThrow(AssertionError);
    expect(index.size()).toBe(128);
  });

  test("a search right after a background insert sees the whole batch; dispose waits for one in flight", () => {
    const index = make();
    const [batch] = batchesOf(1);
    const keys = batch?.keys ?? [];
    const vectors = batch?.vectors ?? new Float32Array(0);
    index.addBatch(keys, vectors, { background: true });
    const last = vectors.subarray((keys.length - 1) * DIMENSIONS, keys.length * DIMENSIONS);
    expect(index.search(last, 1).keys[0]).toBe(BigInt(keys.length));
    const other = make();
    other.addBatch(keys, vectors, { background: true });
    other.dispose();
    expect(() => other.size()).toThrow(AssertionError);
  });

  test("inserting: true from a background post until the helper ends it, never without the helper", () => {
    const count = 8_192;
    const keys = Array.from({ length: count }, (_, i) => i + 1);
    const vectors = clusteredSpace({
      dimensions: DIMENSIONS,
      seed: 13,
      clusters: 8,
      subspaceDimensions: 4,
    }).sample(count);
    const index = make();
    expect(index.inserting).toBe(false);
    index.addBatch(keys, vectors, { background: true });
    // 8k insertions take the helper far longer than this check takes to run.
    expect(index.inserting).toBe(true);
    const deadlineMs = performance.now() + 30_000;
    while (index.inserting) {
      if (performance.now() > deadlineMs) throw new Error("the batch never ended");
    }
    expect(index.size()).toBe(count);
    expect(index.inserting).toBe(false);
    const inline = make(false);
    inline.addBatch(keys, vectors, { background: true });
    expect(inline.inserting).toBe(false);
    expect(inline.size()).toBe(count);
  });

  test("off, or a batch below the minimum, inserts on the calling thread", () => {
    const index = make(false);
    const [batch] = batchesOf(1);
    index.addBatch(batch?.keys ?? [], batch?.vectors ?? new Float32Array(0), { background: true });
    expect(index.searchInBackground(new Float32Array(DIMENSIONS).fill(1), 3)).toBeNull();
    const small = make();
    const smallCount = BACKGROUND_BATCH_MIN - 1;
    small.addBatch(
      Array.from({ length: smallCount }, (_, i) => i + 1),
      (batch?.vectors ?? new Float32Array(0)).subarray(0, smallCount * DIMENSIONS),
      { background: true },
    );
    expect(small.size()).toBe(smallCount);
  });
});
