import { expect, test } from "bun:test";
import { collectGarbage } from "../../../src/platform/mod.ts";

/** Weak references to `count` objects nothing else holds. */
function unreachable(count: number): WeakRef<number[]>[] {
  return Array.from(
    { length: count },
    () => new WeakRef(Array.from({ length: 10_000 }, (_, i) => i)),
  );
}

test("collectGarbage runs a full collection on Bun and says so: unreachable objects are gone", async () => {
  const refs = unreachable(64);
  // A WeakRef's target is kept until the current job ends (ECMA-262 KeepDuringJob).
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(collectGarbage()).toBe(true);
  // The collector scans the stack conservatively, so a stray word may keep one alive; without
  // a full collection all 64 would still be there.
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  expect(alive).toBeLessThan(8);
});
