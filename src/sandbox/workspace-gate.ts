/**
 * Who may be inside one workspace at a time. Runs share it with each other; maintenance (the
 * files API, checkpoints, restore, delete) needs it to itself, because those resolve a path and
 * then use it, and a run could swap a directory for a symlink to `/` in between. Maintenance
 * never waits for a run (a run may last an hour): it is refused at once with `409 conflict`,
 * `details.reason = "run_in_progress"`. A run waits for maintenance in progress (it is short:
 * bounded by the upload cap or the tree size), and so does other maintenance, in arrival order.
 */
import { assert, VltairError } from "../core/mod.ts";

/** Leaves the gate; idempotent. */
export type GateRelease = () => void;

/** Waiters of one gate at most; past it `429 queue_full` (a bound on memory, not a policy). */
export const GATE_WAITERS_MAX = 1024;

/**
 * The gate of one workspace.
 *
 * @example
 * ```ts
 * const leave = await gate.enterMaintenance();
 * try { await writeFile(…); } finally { leave(); }
 * ```
 */
export class WorkspaceGate {
  #runs = 0;
  #busy = false;
  readonly #waiters: (() => void)[] = [];

  /** Runs inside now. */
  get runs(): number {
    return this.#runs;
  }

  /** True when nothing is inside and nobody waits (the gate may be dropped). */
  get idle(): boolean {
    return this.#runs === 0 && !this.#busy && this.#waiters.length === 0;
  }

  /** Waits for maintenance in progress, then counts a run in. */
  async enterRun(): Promise<GateRelease> {
    await this.#lock();
    this.#runs += 1;
    this.#unlock();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      assert(this.#runs > 0, "a run leaves a gate it entered");
      this.#runs -= 1;
    };
  }

  /** Takes the workspace for maintenance; `409 conflict` while a run is inside. */
  async enterMaintenance(): Promise<GateRelease> {
    this.#refuseRuns();
    await this.#lock();
    try {
      this.#refuseRuns();
    } catch (error) {
      this.#unlock();
      throw error;
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#unlock();
    };
  }

  /** Takes the workspace only when nobody is inside or waiting (the expiry sweep); else null. */
  tryEnterMaintenance(): GateRelease | null {
    if (!this.idle) return null;
    this.#busy = true;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#unlock();
    };
  }

  #refuseRuns(): void {
    if (this.#runs > 0) {
      throw new VltairError("conflict", "a run is in progress in this workspace", {
        details: { reason: "run_in_progress", runs: this.#runs },
      });
    }
  }

  #lock(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    if (this.#waiters.length >= GATE_WAITERS_MAX) {
      throw new VltairError("queue_full", "too many requests wait for this workspace", {
        details: { scope: "workspace" },
        headers: { "retry-after": "1" },
      });
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #unlock(): void {
    assert(this.#busy, "unlock of a held gate");
    const next = this.#waiters.shift();
    if (next === undefined) this.#busy = false;
    else next();
  }
}
