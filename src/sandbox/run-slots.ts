/**
 * Bounded concurrency of sandbox runs: at most `runsMax` at once in all and `tenantRunsMax` per
 * tenant; beyond that a run waits in one FIFO queue of at most `queuedRunsMax` entries (and
 * `tenantQueuedRunsMax` per tenant, so one tenant cannot fill it), and beyond that it is refused
 * at once (`429 queue_full` with `Retry-After`). A waiter whose client goes away leaves the queue.
 */
import { assert, VltairError } from "../core/mod.ts";

/** The four bounds, from `sandbox_limits`. */
export interface RunSlotLimits {
  runsMax: number;
  tenantRunsMax: number;
  queuedRunsMax: number;
  tenantQueuedRunsMax: number;
}

/** A granted slot: how long it waited, and its release (idempotent). */
export interface RunSlot {
  waitedMs: number;
  release(): void;
}

/** Seconds a refused client is told to wait before trying again. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 1;

interface Waiter {
  tenant: string;
  enqueuedMs: number;
  grant: (slot: RunSlot) => void;
}

interface TenantCount {
  running: number;
  queued: number;
}

/**
 * The slots of one server.
 *
 * @example
 * ```ts
 * const slots = new RunSlots({ runsMax: 16, tenantRunsMax: 4, queuedRunsMax: 64, tenantQueuedRunsMax: 16 });
 * const slot = await slots.acquire("acme", request.signal);
 * try { await run(); } finally { slot.release(); }
 * ```
 */
export class RunSlots {
  readonly #limits: RunSlotLimits;
  readonly #clockMs: () => number;
  readonly #queue: Waiter[] = [];
  readonly #tenants = new Map<string, TenantCount>();
  #running = 0;

  constructor(limits: RunSlotLimits, clockMs: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#clockMs = clockMs;
  }

  /** Runs in progress and runs waiting, in all. */
  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Waits for a slot of `tenant`. Throws `queue_full` at once when the queue (or the tenant's
   * share of it) is full; rejects with `signal`'s reason when it aborts while waiting.
   */
  async acquire(tenant: string, signal?: AbortSignal): Promise<RunSlot> {
    const count = this.#count(tenant);
    if (this.#canStart(count)) return this.#start(tenant, count, 0);
    const scope =
      this.#queue.length >= this.#limits.queuedRunsMax
        ? "server"
        : count.queued >= this.#limits.tenantQueuedRunsMax
          ? "tenant"
          : null;
    if (scope !== null) {
      this.#forget(tenant, count);
      throw this.#full(scope, count);
    }
    signal?.throwIfAborted();
    return new Promise<RunSlot>((resolve, reject) => {
      const waiter: Waiter = { tenant, enqueuedMs: this.#clockMs(), grant: resolve };
      this.#queue.push(waiter);
      count.queued += 1;
      signal?.addEventListener(
        "abort",
        () => {
          const at = this.#queue.indexOf(waiter);
          if (at < 0) return; // Already granted: the caller releases the slot.
          this.#queue.splice(at, 1);
          count.queued -= 1;
          this.#forget(tenant, count);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  #count(tenant: string): TenantCount {
    let count = this.#tenants.get(tenant);
    if (count === undefined) {
      count = { running: 0, queued: 0 };
      this.#tenants.set(tenant, count);
    }
    return count;
  }

  #canStart(count: TenantCount): boolean {
    return this.#running < this.#limits.runsMax && count.running < this.#limits.tenantRunsMax;
  }

  #start(tenant: string, count: TenantCount, waitedMs: number): RunSlot {
    this.#running += 1;
    count.running += 1;
    let released = false;
    return {
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        this.#running -= 1;
        count.running -= 1;
        assert(this.#running >= 0 && count.running >= 0, "slot counts stay non-negative");
        this.#forget(tenant, count);
        this.#dispatch();
      },
    };
  }

  /** Starts, in queue order, every waiter that now fits. */
  #dispatch(): void {
    for (let i = 0; i < this.#queue.length && this.#running < this.#limits.runsMax; ) {
      const waiter = this.#queue[i] as Waiter;
      const count = this.#count(waiter.tenant);
      if (!this.#canStart(count)) {
        i += 1;
        continue;
      }
      this.#queue.splice(i, 1);
      count.queued -= 1;
      waiter.grant(this.#start(waiter.tenant, count, this.#clockMs() - waiter.enqueuedMs));
    }
  }

  #forget(tenant: string, count: TenantCount): void {
    if (count.running === 0 && count.queued === 0) this.#tenants.delete(tenant);
  }

  #full(scope: "server" | "tenant", count: TenantCount): VltairError {
    const limit =
      scope === "server" ? this.#limits.queuedRunsMax : this.#limits.tenantQueuedRunsMax;
    return new VltairError("queue_full", `sandbox run queue of the ${scope} is full`, {
      details: {
        scope,
        queued_limit: limit,
        running: scope === "server" ? this.#running : count.running,
        queued: scope === "server" ? this.#queue.length : count.queued,
      },
      headers: { "retry-after": String(QUEUE_FULL_RETRY_AFTER_SECONDS) },
    });
  }
}
