import { describe, expect, test } from "bun:test";
import { VltairError } from "../../../src/core/mod.ts";
import { createVectorIndex } from "../../../src/search/mod.ts";
import { clusteredSpace } from "./clustered.ts";

const MIB = 1024 * 1024;

describe("VectorIndex memory", () => {
  test("calls free what they allocate: outstanding allocations and memory stay flat", () => {
    const space = clusteredSpace({ dimensions: 32, seed: 11, clusters: 8, subspaceDimensions: 4 });
    const data = space.sample(600);
    const index = createVectorIndex({ dimensions: 32, capacity: 2048 });
    try {
      const baseline = index.outstandingAllocations();
      // Scratch buffers (error slot, query, k keys, k distances) live as long as the index.
      expect(baseline.count).toBe(4);
      const row = (i: number) => data.subarray(i * 32, (i + 1) * 32);
      index.addBatch(
        Array.from({ length: 500 }, (_, i) => i),
        data.subarray(0, 500 * 32),
      );
      const cycle = (round: number) => {
        const query = row(round % 600);
        index.search(query, 10);
        index.exactSearch(query, 10);
        index.search(query, 10, { filter: { allowedKeys: [1, 2, 3, round % 500] } });
        index.search(query, 10, { filter: { predicate: (key) => key % 3n === 0n } });
        index.serialize();
        index.add(10_000 + round, row(500 + (round % 100)));
        index.remove(10_000 + round);
        expect(() => index.add(1, query)).toThrow(VltairError);
        expect(() => index.search([1, 2], 3)).toThrow(VltairError);
      };
      for (let round = 0; round < 50; round++) cycle(round);
      const warmedBytes = index.memoryUsage().wasmMemoryBytes;
      for (let round = 50; round < 550; round++) cycle(round);
      expect(index.outstandingAllocations()).toEqual(baseline);
      expect(index.memoryUsage().wasmMemoryBytes).toBe(warmedBytes);
      expect(index.size()).toBe(500);
    } finally {
      index.dispose();
    }
  }, 120_000);

  // 4-5 s and 400 MiB: a long variant (npm run test:slow). Growth itself is covered in the
  // default run by the helper-thread tests (memory the helper grows is seen by the caller).
  test.if(process.env.VLTAIR_SLOW === "1")(
    "views follow memory growth past 400 MiB: results stay right",
    () => {
      const dims = 4096;
      const batchCount = 6000;
      const batches = 4;
      // Cheap graph knobs: the point is memory, not recall.
      const index = createVectorIndex({
        dimensions: dims,
        metric: "l2sq",
        connectivity: 4,
        expansionAdd: 8,
        expansionSearch: 16,
      });
      try {
        const initialBytes = index.memoryUsage().wasmMemoryBytes;
        const batch = new Float32Array(batchCount * dims);
        const probe = new Float32Array(dims);
        let key = 0;
        for (let b = 0; b < batches; b++) {
          // Each vector is its key repeated: the nearest vector to [x, x, ...] is key round(x).
          for (let i = 0; i < batchCount; i++) batch.fill(key + i, i * dims, (i + 1) * dims);
          index.addBatch(
            Array.from({ length: batchCount }, (_, i) => key + i),
            batch,
          );
          key += batchCount;
          for (const target of [0, key - 1, Math.floor(key / 2)]) {
            probe.fill(target + 0.25);
            expect(index.exactSearch(probe, 1).keys[0]).toBe(BigInt(target));
            expect(index.contains(target)).toBe(true);
          }
        }
        const grownBytes = index.memoryUsage().wasmMemoryBytes;
        expect(grownBytes).toBeGreaterThan(400 * MIB);
        expect(grownBytes).toBeGreaterThan(initialBytes * 10);
        expect(index.size()).toBe(batchCount * batches);
        probe.fill(123.1);
        const { keys, distances } = index.exactSearch(probe, 3);
        expect(Array.from(keys)).toEqual([123n, 124n, 122n]);
        expect(distances[0]).toBeCloseTo(0.01 * dims, 1);
      } finally {
        index.dispose();
      }
    },
    300_000,
  );
});
