/**
 * Prepare, then commit (ARCHITECTURE decision 9; TigerBeetle's state machine): a service
 * validates and plans a write against the current state and returns a {@link PreparedWrite}
 * — its records, how to answer once they are committed, and the lease (a tenant lock) that
 * keeps the plan valid until then. {@link commitPrepared} commits any number of prepared writes
 * and extra records as ONE atomic batch through `storage.commit` (hooks included), so a caller
 * such as an orchestrator step can join "step done" and a context upsert in one record batch.
 */
import type { Call } from "../core/mod.ts";
import type { AppendInput, Storage } from "./storage.ts";

/** A planned write, not yet committed. */
export interface PreparedWrite<R> {
  /** The records to commit; empty when the write changes nothing (e.g. every item skipped). */
  readonly records: readonly AppendInput[];
  /** The answer, given the WAL index the write stands at (its batch's last index). */
  result(walIndex: number): R;
  /** Ends the lease that keeps the plan valid; {@link commitPrepared} calls it exactly once. */
  release(): void;
}

/**
 * Commits prepared writes (and `extra` records) as one atomic batch, answers each, and
 * releases every lease whatever happens. With nothing to write it answers at the current index.
 *
 * @example
 * ```ts
 * const [upserted] = await commitPrepared(storage, call, [await context.prepareUpsert(call, req)]);
 * ```
 */
export async function commitPrepared<R extends unknown[]>(
  storage: Storage,
  call: Call,
  writes: { [K in keyof R]: PreparedWrite<R[K]> },
  extra: readonly AppendInput[] = [],
): Promise<R> {
  try {
    const records = [...writes.flatMap((w) => w.records), ...extra];
    const walIndex =
      records.length === 0 ? storage.lastIndex : (await storage.commit(records, call)).lastIndex;
    return writes.map((w) => w.result(walIndex)) as R;
  } finally {
    for (const w of writes) w.release();
  }
}
