/**
 * The `requests` unit: every authenticated request counts against its tenant's `requests`
 * budgets. Writing a record per request would put an fsync on every read, so requests are
 * counted in memory and written as one `charge` record per tenant at most every `flushMs`;
 * the limit is checked against what is written plus what is counted. A crash loses at most the
 * last interval's count (requests are under-counted, never counted twice).
 */
import type { Call } from "../../core/mod.ts";
import type { MachineHandle, Storage } from "../../storage/mod.ts";
import { assertRoom, usedFor } from "./ledger.ts";
import type { BudgetBody, BudgetsState } from "./machine.ts";

export class RequestMeter {
  readonly #pending = new Map<string, { count: number; call: Call }>();
  readonly #storage: Storage;
  readonly #handle: MachineHandle<BudgetsState, BudgetBody>;
  readonly #nowMs: () => number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: {
    storage: Storage;
    handle: MachineHandle<BudgetsState, BudgetBody>;
    nowMs: () => number;
    flushMs: number;
  }) {
    this.#storage = options.storage;
    this.#handle = options.handle;
    this.#nowMs = options.nowMs;
    this.#timer = setInterval(() => void this.flush(), options.flushMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Counts one request of the call's tenant, or throws `budget_exceeded` (nothing counted). */
  admit(call: Call): void {
    const tenant = call.principal.tenant;
    const ledgers = this.#handle
      .state()
      .ledgersOf(tenant)
      .filter((l) => l.unit === "requests" && l.period !== "run");
    const pending = this.#pending.get(tenant)?.count ?? 0;
    const nowMs = this.#nowMs();
    for (const ledger of ledgers) assertRoom(ledger, usedFor(ledger, null, nowMs) + pending, 1);
    if (ledgers.length === 0) return;
    this.#pending.set(tenant, { count: pending + 1, call });
  }

  /** Writes the counted requests (one record per tenant). */
  flush(): Promise<void> {
    const batch = [...this.#pending];
    this.#pending.clear();
    if (batch.length === 0) return this.#flushing;
    this.#flushing = this.#flushing.then(async () => {
      for (const [tenant, { count, call }] of batch) {
        await this.#storage
          .commit(
            [
              this.#handle.record({
                op: "charge",
                tenant,
                unit: "requests",
                amount: count,
                run_id: null,
              }),
            ],
            call,
          )
          .catch(() => undefined);
      }
    });
    return this.#flushing;
  }

  /** Stops the timer and writes what is counted. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
