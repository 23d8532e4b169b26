import { describe, expect, test } from "bun:test";
import { runSteps, runStepsYielding, type Steps } from "../../../src/core/mod.ts";

function* countTo(n: number, log: number[]): Steps<number> {
  for (let i = 1; i <= n; i++) {
    log.push(i);
    yield;
  }
  return n * 10;
}

describe("runSteps", () => {
  test("runs every step in order and returns the result", () => {
    const log: number[] = [];
    expect(runSteps(countTo(5, log))).toBe(50);
    expect(log).toEqual([1, 2, 3, 4, 5]);
  });

  test("an error thrown by a step propagates", () => {
    function* failing(): Steps<void> {
      yield;
      throw new Error("step 2 failed");
    }
    expect(() => runSteps(failing())).toThrow("step 2 failed");
  });
});

describe("runStepsYielding", () => {
  test("hands the event loop back once a slice has passed: a queued callback runs mid-computation", async () => {
    let nowMs = 0;
    const fired: number[] = [];
    setImmediate(() => fired.push(nowMs));
    function* slow(): Steps<string> {
      for (let i = 0; i < 100; i++) {
        nowMs += 1; // each step "takes" 1 ms of the injected clock
        yield;
      }
      return "done";
    }
    const result = await runStepsYielding(slow(), { sliceMs: 10, monotonicMs: () => nowMs });
    expect(result).toBe("done");
    expect(fired).toHaveLength(1);
    // The callback ran while steps were left (at the first pause), not after the last one.
    expect(fired[0] as number).toBe(10);
  });

  test("with a clock that does not move it never pauses and still finishes", async () => {
    const log: number[] = [];
    let ticks = 0;
    const tick = setImmediate(() => ticks++);
    const result = await runStepsYielding(countTo(50, log), { sliceMs: 5, monotonicMs: () => 0 });
    clearImmediate(tick);
    expect(result).toBe(500);
    expect(log).toHaveLength(50);
    expect(ticks).toBe(0);
  });
});
