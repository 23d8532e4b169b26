/**
 * The `steps_running_max` slots: a step attempt of a kind that holds a slot starts only with
 * one. A run that finds none free (or finds other runs already waiting) queues once; freed slots
 * are granted to queued runs one per run per turn, round-robin across tenants (FIFO within one),
 * so runs and tenants share slots fairly.
 */
import { assert } from "../core/mod.ts";
import { FairQueue } from "./fair-queue.ts";

export class StepSlots {
  readonly #max: number;
  #used = 0;
  readonly #waiting = new FairQueue();
  readonly #grants = new Map<string, number>();

  constructor(max: number) {
    assert(Number.isSafeInteger(max) && max >= 1, "steps_running_max >= 1");
    this.#max = max;
  }

  /** Slots taken (granted ones included). */
  get used(): number {
    return this.#used;
  }

  /** Runs waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * A slot for `runId`: one granted to it, else a free one when no other run waits; otherwise
   * the run is queued (once) and this returns false.
   */
  take(runId: string, tenant: string): boolean {
    const granted = this.#grants.get(runId) ?? 0;
    if (granted > 0) {
      this.#setGrants(runId, granted - 1);
      return true;
    }
    if (this.#used < this.#max && this.#waiting.length === 0) {
      this.#used += 1;
      return true;
    }
    this.#waiting.push(tenant, runId);
    return false;
  }

  /** Frees `count` slots taken with {@link StepSlots.take}. */
  release(count: number): void {
    this.#used -= count;
    assert(this.#used >= 0, "slots released at most once");
  }

  /** Grants free slots to queued runs (first come, one each) and returns those runs. */
  grant(): string[] {
    const out: string[] = [];
    while (this.#used < this.#max && this.#waiting.length > 0) {
      const runId = this.#waiting.shift() as string;
      this.#used += 1;
      this.#setGrants(runId, (this.#grants.get(runId) ?? 0) + 1);
      out.push(runId);
    }
    return out;
  }

  /** Frees the slots granted to `runId` that it did not use, and takes it off the queue. */
  forget(runId: string): void {
    this.release(this.#grants.get(runId) ?? 0);
    this.#grants.delete(runId);
    this.#waiting.remove(runId);
  }

  /** Frees the slots granted to `runId` that it did not use (it stays queued if it is). */
  returnGrants(runId: string): void {
    this.release(this.#grants.get(runId) ?? 0);
    this.#grants.delete(runId);
  }

  #setGrants(runId: string, count: number): void {
    if (count === 0) this.#grants.delete(runId);
    else this.#grants.set(runId, count);
  }
}
