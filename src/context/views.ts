/**
 * Time travel (CE-12): past states materialised by replaying the WAL from the newest snapshot at
 * or before the target, cached (least recently used first out) because a replay re-folds every
 * record since that snapshot, indexes included. Cost: one replay per new target, synchronous.
 */
import type { ReplayTarget } from "../storage/mod.ts";
import { CONTEXT_MACHINE } from "./store/record.ts";
import type { ContextState } from "./store/state.ts";

/** A materialised past state and the WAL index it reflects. */
export interface PastView {
  walIndex: number;
  state: ContextState;
}

export class PastViews {
  readonly #views = new Map<string, PastView>();

  constructor(
    private readonly capacity: number,
    private readonly replay: (target: ReplayTarget) => {
      walIndex: number;
      states: Map<string, unknown>;
    },
  ) {}

  /** The state at `target` (replayed, or from the cache). */
  get(target: ReplayTarget): PastView {
    const key = "walIndex" in target ? `i${target.walIndex}` : `t${target.wallMs}`;
    const hit = this.#views.get(key);
    if (hit !== undefined) {
      this.#views.delete(key);
      this.#views.set(key, hit);
      return hit;
    }
    const result = this.replay(target);
    for (const [name, state] of result.states) {
      if (name !== CONTEXT_MACHINE) (state as { dispose?: () => void }).dispose?.();
    }
    const view = {
      walIndex: result.walIndex,
      state: result.states.get(CONTEXT_MACHINE) as ContextState,
    };
    if (this.capacity === 0) {
      queueMicrotask(() => view.state.dispose());
      return view;
    }
    this.#views.set(key, view);
    while (this.#views.size > this.capacity) {
      const [oldest, old] = this.#views.entries().next().value as [string, PastView];
      this.#views.delete(oldest);
      old.state.dispose();
    }
    return view;
  }

  /** Frees every cached view. */
  clear(): void {
    for (const view of this.#views.values()) view.state.dispose();
    this.#views.clear();
  }
}
