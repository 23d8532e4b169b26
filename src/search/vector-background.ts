/**
 * One index's jobs on the helper thread (vector-thread.ts holds the thread and its protocol):
 * a batch insertion posted and later joined, and an unfiltered search posted and later
 * collected. The index's rule holds here: its two instances never run at the same time, so
 * every other call on the index first joins the pending batch, and nothing may be called while
 * a background search is out.
 *
 * A job the helper has not started when it is needed is claimed back and run on the calling
 * thread (ADR 0006), so a busy machine costs what the inline path costs.
 */
import { assert } from "../core/mod.ts";
import type { VectorInput } from "./vector-input.ts";
import {
  F32_KIND,
  moduleError,
  type StagedBatch,
  type VectorMatches,
  type VectorMemory,
} from "./vector-memory.ts";
import {
  attachToThread,
  detachFromThread,
  outstanding,
  settle,
  type ThreadLink,
  tryPost,
} from "./vector-thread.ts";
import { unfilteredWalk } from "./vector-walk.ts";

/** Detaches the helper's instance of an index that was collected without `dispose()`. */
const THREAD_LINKS = new FinalizationRegistry<ThreadLink>((link) => detachFromThread(link));

/** An index's link to the helper thread and the jobs it has out there. */
export class VectorBackground {
  private readonly memory: VectorMemory;
  /** The helper thread's instance over this index's memory: undefined until first needed. */
  private thread: ThreadLink | null | undefined = undefined;
  /** A batch the helper is inserting; every other call joins it first. */
  private pending: (StagedBatch & { sequence: number }) | null = null;
  /** The helper's job number of a background search not yet collected. */
  private searching: number | null = null;

  constructor(memory: VectorMemory, options: { helperThread: boolean }) {
    this.memory = memory;
    // Without the helper thread every job runs on the calling thread.
    if (!options.helperThread) this.thread = null;
  }

  /** True while a background search is out (posted and not collected). */
  get searchOut(): boolean {
    return this.searching !== null;
  }

  /**
   * True while a posted batch is not inserted yet (queued for the helper or running there):
   * any call on the index now would wait for it.
   */
  get inserting(): boolean {
    const pending = this.pending;
    return pending !== null && outstanding(this.thread as ThreadLink, pending.sequence);
  }

  /** The helper thread's link, attached on first use; null when jobs stay on this thread. */
  private link(): ThreadLink | null {
    if (this.thread === undefined) {
      this.thread = attachToThread(this.memory.wasm.memory);
      if (this.thread !== null) THREAD_LINKS.register(this, this.thread, this);
    }
    return this.thread;
  }

  /**
   * Posts the insertion of a staged batch; returns false (nothing posted, the caller inserts and
   * frees the staging) when there is no helper or it is busy. Once posted, the staging belongs
   * to the job: `join` frees it.
   */
  postBatch(batch: StagedBatch): boolean {
    const thread = this.link();
    if (thread === null) return false;
    const sequence = tryPost(thread, {
      type: "add",
      handle: this.memory.handle,
      keys: batch.keysPointer,
      vectors: batch.vectorsPointer,
      count: batch.count,
      dimensions: this.memory.dimensions,
      errorSlot: this.memory.wasm.errorSlot,
    });
    if (sequence === null) return false;
    this.pending = { ...batch, sequence };
    return true;
  }

  /**
   * Waits for the batch the helper thread is inserting, if any, and frees its staging. Throws
   * like a synchronous `addBatch` would have when the insertion failed.
   */
  join(): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    const memory = this.memory;
    try {
      const outcome = settle(this.thread as ThreadLink, pending.sequence);
      // Not started yet (a busy machine): cheaper to insert here than to wait for the helper.
      const added = outcome.claimed ? memory.insertStaged(pending) : outcome.result >>> 0;
      memory.check("addBatch");
      if (!outcome.claimed && !outcome.ok) {
        throw moduleError("addBatch", "the helper thread failed");
      }
      assert(added === pending.count, "vltair_add_batch added fewer vectors without an error");
    } finally {
      memory.freeStaged(pending);
    }
  }

  /**
   * Posts an approximate unfiltered search of `query` (checked and copied into scratch once
   * there is a helper); returns the function that waits for and returns its `k` matches, or
   * null (nothing posted) when there is no helper or it is busy.
   */
  postSearch(query: VectorInput, k: number): (() => VectorMatches) | null {
    const thread = this.link();
    if (thread === null) return null;
    const memory = this.memory;
    const wasm = memory.wasm;
    memory.setQuery(query, "query");
    wasm.clearError();
    const sequence = tryPost(thread, {
      type: "search",
      handle: memory.handle,
      query: memory.queryPointer,
      scalarKind: F32_KIND,
      count: k,
      keys: memory.keysPointer,
      distances: memory.distancesPointer,
      errorSlot: wasm.errorSlot,
    });
    if (sequence === null) return null;
    this.searching = sequence;
    return () => {
      assert(this.searching === sequence, "a background search is collected once");
      this.searching = null;
      const outcome = settle(thread, sequence);
      // Not started yet (a busy machine): search here rather than wait for the helper.
      if (outcome.claimed) return memory.matches(unfilteredWalk(memory, k, false));
      memory.check("search");
      if (!outcome.ok) throw moduleError("search", "the helper thread failed");
      return memory.matches(outcome.result >>> 0);
    };
  }

  /**
   * Ends every job (an uncollected search, the pending batch, whose failure no longer matters)
   * and detaches from the helper. Idempotent.
   */
  close(): void {
    try {
      if (this.searching !== null) {
        // The helper may still be walking this index: end that before freeing anything.
        const sequence = this.searching;
        this.searching = null;
        settle(this.thread as ThreadLink, sequence);
      }
      this.join();
    } catch {
      // The index is going away: a failed last batch changes nothing of that.
    }
    if (this.thread) {
      THREAD_LINKS.unregister(this);
      detachFromThread(this.thread);
      this.thread = null;
    }
  }
}
