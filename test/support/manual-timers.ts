/**
 * A manual clock for the orchestrator (`Timers`): time moves only when a test calls `advance`,
 * which fires the timers that fall due in time order. Retries (1 s and up), durable timers and
 * timeouts are tested without sleeping.
 */
import type { Timers } from "../../src/orchestrator/mod.ts";

interface Pending {
  atMs: number;
  seq: number;
  fire: () => void;
}

export class ManualTimers implements Timers {
  #nowMs: number;
  #seq = 0;
  readonly #pending = new Set<Pending>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  setTimer(delayMs: number, fire: () => void): () => void {
    const pending = { atMs: this.#nowMs + Math.max(0, delayMs), seq: this.#seq++, fire };
    this.#pending.add(pending);
    return () => this.#pending.delete(pending);
  }

  /** Timers armed and not yet fired. */
  get armed(): number {
    return this.#pending.size;
  }

  /** Moves the clock `ms` on, firing every timer due by then in order. */
  advance(ms: number): void {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      const due = [...this.#pending]
        .filter((p) => p.atMs <= targetMs)
        .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#pending.delete(due);
      this.#nowMs = Math.max(this.#nowMs, due.atMs);
      due.fire();
    }
    this.#nowMs = targetMs;
  }
}
