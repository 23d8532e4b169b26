/**
 * The signals of one live run as its `wait` steps see them: a step takes the oldest pending
 * signal of its name that no other step has taken (a claim, in memory), or waits for one. The
 * claim becomes durable when the step's completion record consumes the signal; after a restart
 * claims start empty and the pending signals are offered again.
 */
import type { TakenSignal } from "./executors/mod.ts";
import type { PendingSignal } from "./run-state.ts";

interface Waiter {
  name: string;
  resolve: (signal: TakenSignal) => void;
  reject: (reason: unknown) => void;
}

export class SignalBox {
  readonly #claimed = new Set<number>();
  #waiters: Waiter[] = [];

  /** Claims the oldest unclaimed pending signal `name`, if any. */
  take(pending: readonly PendingSignal[], name: string): TakenSignal | undefined {
    const signal = pending.find((s) => s.name === name && !this.#claimed.has(s.seq));
    if (signal === undefined) return undefined;
    this.#claimed.add(signal.seq);
    return { seq: signal.seq, payload: signal.payload };
  }

  /** Waits for a signal `name` (resolved by {@link SignalBox.offer}); the returned function gives up. */
  wait(name: string, resolve: Waiter["resolve"], reject: Waiter["reject"]): () => void {
    const waiter: Waiter = { name, resolve, reject };
    this.#waiters.push(waiter);
    return () => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
    };
  }

  /** Gives pending signals to waiters, oldest waiter first. */
  offer(pending: readonly PendingSignal[]): void {
    for (const waiter of [...this.#waiters]) {
      const taken = this.take(pending, waiter.name);
      if (taken === undefined) continue;
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(taken);
    }
  }

  /** Releases a claim whose step did not consume it (it failed or was cancelled). */
  release(seq: number): void {
    this.#claimed.delete(seq);
  }

  /** Rejects every waiter (the run ended or the server stops). */
  rejectAll(reason: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(reason);
  }
}
