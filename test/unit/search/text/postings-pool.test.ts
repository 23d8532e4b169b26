import { describe, expect, test } from "bun:test";
import { PostingsPool } from "../../../../src/search/text/postings-pool.ts";

function listOf(pool: PostingsPool, termId: number): [number, number][] {
  const offset = pool.offsets[termId] ?? 0;
  const list: [number, number][] = [];
  for (let i = 0; i < (pool.counts[termId] ?? 0); i++) {
    list.push([pool.pool[offset + 2 * i] ?? -1, pool.pool[offset + 2 * i + 1] ?? -1]);
  }
  return list;
}

describe("PostingsPool", () => {
  test("append/remove keep every list sorted and exact through moves and compactions", () => {
    const pool = new PostingsPool();
    const expected = new Map<number, [number, number][]>();
    let slot = 0;
    for (let round = 0; round < 20_000; round++) {
      slot++;
      const termId = (round * 31) % 97;
      pool.append(termId, slot, (round % 5) + 1);
      const list = expected.get(termId) ?? [];
      list.push([slot, (round % 5) + 1]);
      expected.set(termId, list);
      if (round % 3 === 0 && list.length > 1) {
        const [victim] = list.splice(Math.floor(list.length / 2), 1);
        expect(pool.remove(termId, victim?.[0] ?? -1)).toBe(list.length);
      }
    }
    let total = 0;
    for (const [termId, list] of expected) {
      expect(listOf(pool, termId)).toEqual(list);
      total += list.length;
    }
    expect(pool.postingCount).toBe(total);
    // Holes are bounded: the pool stays within a small factor of the live postings.
    expect(pool.pool.length).toBeLessThan(total * 2 * 4);
  });

  test("remapSlots rewrites slots in place, keeping order", () => {
    const pool = new PostingsPool();
    pool.append(0, 10, 1);
    pool.append(0, 20, 2);
    pool.append(1, 20, 3);
    const newSlotOf = new Int32Array(21).fill(-1);
    newSlotOf[10] = 0;
    newSlotOf[20] = 1;
    pool.remapSlots(newSlotOf, 2);
    expect(listOf(pool, 0)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(listOf(pool, 1)).toEqual([[1, 3]]);
  });

  test("appending a slot not above the list's last is a bug (assertion)", () => {
    const pool = new PostingsPool();
    pool.append(0, 5, 1);
    expect(() => pool.append(0, 5, 1)).toThrow("slots must ascend");
  });
  test("trim packs the pool to its blocks and keeps every list; appends go on", () => {
    const pool = new PostingsPool();
    const expected = new Map<number, [number, number][]>();
    for (let slot = 0; slot < 5000; slot++) {
      for (const termId of [slot % 7, 7 + (slot % 13), 20]) {
        pool.append(termId, slot, 1 + (slot % 3));
        expected.set(termId, [...(expected.get(termId) ?? []), [slot, 1 + (slot % 3)]]);
      }
    }
    const before = pool.sizeBytes;
    pool.trim();
    expect(pool.sizeBytes).toBeLessThan(before);
    for (const [termId, list] of expected) expect(listOf(pool, termId)).toEqual(list);
    for (let slot = 5000; slot < 6000; slot++) {
      pool.append(20, slot, 2);
      expected.set(20, [...(expected.get(20) ?? []), [slot, 2]]);
    }
    for (const [termId, list] of expected) expect(listOf(pool, termId)).toEqual(list);
  });
});
