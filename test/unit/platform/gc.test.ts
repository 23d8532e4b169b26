import { expect, test } from "bun:test";
import { collectGarbage } from "../../../src/platform/mod.ts";

test("collectGarbage runs a full collection on Bun and says so", () => {
  let held: number[] | null = Array.from({ length: 100_000 }, (_, i) => i);
  expect(held.length).toBe(100_000);
  held = null;
  expect(collectGarbage()).toBe(true);
  expect(held).toBeNull();
});
