/** Round-robin across tenants, FIFO within one: admission and step slots share it. */
import { describe, expect, test } from "bun:test";
import { FairQueue } from "../../../src/orchestrator/fair-queue.ts";
import { StepSlots } from "../../../src/orchestrator/step-slots.ts";

function drain(q: FairQueue): string[] {
  const out: string[] = [];
  for (let id = q.shift(); id !== undefined; id = q.shift()) out.push(id);
  return out;
}

describe("FairQueue", () => {
  test("a tenant with many queued ids delays another's by one turn at most", () => {
    const q = new FairQueue();
    for (const id of ["a1", "a2", "a3", "a4"]) q.push("A", id);
    q.push("B", "b1");
    q.push("C", "c1");
    q.push("B", "b2");
    expect(q.length).toBe(7);
    expect(drain(q)).toEqual(["a1", "b1", "c1", "a2", "b2", "a3", "a4"]);
    expect(q.length).toBe(0);
  });

  test("push is idempotent; remove takes an id off wherever it stands", () => {
    const q = new FairQueue();
    q.push("A", "a1");
    q.push("A", "a1");
    q.push("A", "a2");
    q.push("B", "b1");
    q.remove("a1");
    q.remove("nope");
    expect(q.includes("a1")).toBe(false);
    expect(drain(q)).toEqual(["a2", "b1"]);
  });
});

describe("StepSlots", () => {
  test("freed slots go round-robin across tenants", () => {
    const slots = new StepSlots(1);
    expect(slots.take("a-run-1", "A")).toBe(true);
    for (const run of ["a-run-2", "a-run-3"]) expect(slots.take(run, "A")).toBe(false);
    expect(slots.take("b-run-1", "B")).toBe(false);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      slots.release(1);
      const [granted] = slots.grant();
      order.push(granted as string);
      expect(slots.take(granted as string, "ignored")).toBe(true);
    }
    expect(order).toEqual(["a-run-2", "b-run-1", "a-run-3"]);
  });
});
