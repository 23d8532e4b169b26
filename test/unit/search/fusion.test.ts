import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fuse, type HalfHit } from "../../../src/search/fusion.ts";

const h = (id: string, score: number): HalfHit => ({ id, score });

describe("fuse rrf", () => {
  test("sums 1/(k+rank) over both halves", () => {
    const out = fuse(
      [h("a", 0.9), h("b", 0.8)],
      [h("b", 12), h("c", 3)],
      { method: "rrf", rrfK: 60 },
      10,
    );
    expect(out.map((x) => x.id)).toEqual(["b", "a", "c"]);
    expect(out[0]).toEqual({ id: "b", fused: 1 / 62 + 1 / 61, dense: 0.8, sparse: 12 });
    expect(out[1]).toEqual({ id: "a", fused: 1 / 61, dense: 0.9 });
    expect(out[2]).toEqual({ id: "c", fused: 1 / 62, sparse: 3 });
  });

  test("ties break by id ascending, whatever the input order", () => {
    const dense = [h("z", 1), h("m", 1)];
    const sparse = [h("m", 5), h("z", 5)];
    const a = fuse(dense, sparse, { method: "rrf", rrfK: 60 }, 10);
    const b = fuse([...dense].reverse(), [...sparse].reverse(), { method: "rrf", rrfK: 60 }, 10);
    expect(a.map((x) => x.id)).toEqual(["m", "z"]);
    expect(b).toEqual(a);
  });

  test("k cuts the list", () => {
    const out = fuse([h("a", 1), h("b", 0.5), h("c", 0.1)], [], { method: "rrf", rrfK: 1 }, 2);
    expect(out.map((x) => x.id)).toEqual(["a", "b"]);
  });
});

describe("fuse weighted", () => {
  test("min-max normalises each half then weighs", () => {
    const out = fuse(
      [h("a", 0.9), h("b", 0.5)],
      [h("b", 10), h("c", 2)],
      { method: "weighted", denseWeight: 0.5, sparseWeight: 0.5 },
      10,
    );
    expect(out).toEqual([
      { id: "a", fused: 0.5, dense: 0.9 },
      { id: "b", fused: 0.5, dense: 0.5, sparse: 10 },
      { id: "c", fused: 0, sparse: 2 },
    ]);
  });

  test("a half whose scores are all equal normalises to 1", () => {
    const out = fuse(
      [h("a", 0.3), h("b", 0.3)],
      [],
      { method: "weighted", denseWeight: 0.25, sparseWeight: 0.75 },
      10,
    );
    expect(out.map((x) => x.fused)).toEqual([0.25, 0.25]);
  });

  test("weight 0 for a half ignores its scores", () => {
    const out = fuse(
      [h("a", 1), h("b", 0)],
      [h("b", 1), h("a", 0)],
      { method: "weighted", denseWeight: 1, sparseWeight: 0 },
      10,
    );
    expect(out.map((x) => x.id)).toEqual(["a", "b"]);
  });
});

describe("fuse properties", () => {
  const half = fc.uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 3 }),
      score: fc.double({ min: -5, max: 5, noNaN: true }),
    }),
    { selector: (x) => x.id, maxLength: 20 },
  );
  test("output is sorted by fused desc then id asc, holds no duplicates, and is independent of input order", () => {
    fc.assert(
      fc.property(half, half, fc.boolean(), (dense, sparse, rrf) => {
        const options = rrf
          ? ({ method: "rrf", rrfK: 60 } as const)
          : ({ method: "weighted", denseWeight: 0.4, sparseWeight: 0.6 } as const);
        const out = fuse(dense, sparse, options, 50);
        for (let i = 1; i < out.length; i++) {
          const prev = out[i - 1];
          const cur = out[i];
          if (prev === undefined || cur === undefined) throw new Error("unreachable");
          expect(prev.fused > cur.fused || (prev.fused === cur.fused && prev.id < cur.id)).toBe(
            true,
          );
        }
        expect(new Set(out.map((x) => x.id)).size).toBe(out.length);
        expect(fuse([...dense].reverse(), [...sparse].reverse(), options, 50)).toEqual(out);
      }),
      { seed: 3, numRuns: 300 },
    );
  });
});
