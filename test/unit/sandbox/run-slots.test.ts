import { describe, expect, test } from "bun:test";
import { type RunSlot, RunSlots } from "../../../src/sandbox/run-slots.ts";

const limits = { runsMax: 2, tenantRunsMax: 1, queuedRunsMax: 2, tenantQueuedRunsMax: 1 };

/** A fake clock moved by the test. */
function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Resolves to the slot, or to "waiting" when the promise has not settled yet. */
async function state(pending: Promise<RunSlot>): Promise<RunSlot | "waiting"> {
  return Promise.race([pending, new Promise<"waiting">((r) => setImmediate(() => r("waiting")))]);
}

describe("RunSlots", () => {
  test("per tenant and in all: the excess waits FIFO, then 429 queue_full with Retry-After", async () => {
    const c = clock();
    const slots = new RunSlots(limits, c.now);
    const a1 = await slots.acquire("a");
    const b1 = await slots.acquire("b");
    expect([slots.running, slots.queued]).toEqual([2, 0]);
    const a2 = slots.acquire("a");
    const c1 = slots.acquire("c");
    expect(await state(a2)).toBe("waiting");
    expect(await state(c1)).toBe("waiting");
    // The queue is full now (2): a third waiter of any tenant is refused at once.
    await expect(slots.acquire("d")).rejects.toMatchObject({
      code: "queue_full",
      details: { scope: "server", queued_limit: 2 },
      headers: { "retry-after": "1" },
    });
    c.advance(250);
    b1.release();
    // b's slot frees a server slot; a2 waits for a's own slot, so c1 (behind it) starts.
    expect(await state(a2)).toBe("waiting");
    const c1Slot = await c1;
    expect(c1Slot.waitedMs).toBe(250);
    a1.release();
    a1.release(); // idempotent
    expect((await a2).waitedMs).toBe(250);
    expect([slots.running, slots.queued]).toEqual([2, 0]);
  });
  test("a tenant's share of the queue is bounded", async () => {
    const slots = new RunSlots({ ...limits, queuedRunsMax: 5 });
    await slots.acquire("a");
    const waiting = slots.acquire("a");
    await expect(slots.acquire("a")).rejects.toMatchObject({
      code: "queue_full",
      details: { scope: "tenant", queued_limit: 1, running: 1, queued: 1 },
    });
    expect(await state(waiting)).toBe("waiting");
    expect(await state(slots.acquire("b"))).not.toBe("waiting");
  });
  test("a waiter whose signal aborts leaves the queue; no-wait queues refuse at once", async () => {
    const slots = new RunSlots(limits);
    const held = await slots.acquire("a");
    const controller = new AbortController();
    const waiting = slots.acquire("a", controller.signal);
    controller.abort(new Error("client gone"));
    await expect(waiting).rejects.toThrow("client gone");
    expect(slots.queued).toBe(0);
    held.release();
    expect(slots.running).toBe(0);
    const none = new RunSlots({ ...limits, queuedRunsMax: 0, tenantQueuedRunsMax: 0 });
    await none.acquire("a");
    await expect(none.acquire("a")).rejects.toMatchObject({ code: "queue_full" });
  });
});
