/**
 * Batch deletes for `vltair ingest`: ids of one scope go to `POST /v1/context/docs:delete` (or
 * `ContextService.deleteBatch`) in batches of at most `DELETE_BATCH_ITEMS_MAX` (or the engine's
 * own, lower limit when known); a batch the engine refuses as too large (413
 * `payload_too_large`, a server with a lower `batch_items_max`) is halved and sent again. Each
 * batch is one WAL record, and a batch naming only missing ids writes nothing.
 */
import type { Scope } from "../context/mod.ts";
import { VltairError } from "../core/mod.ts";
import type { ContextClient } from "./context-client.ts";

/** Most ids per delete request: the engine's default `batch_items_max`. */
export const DELETE_BATCH_ITEMS_MAX = 1000;

/** What a run of batch deletes did. */
export interface DeleteOutcome {
  /** Documents deleted. */
  deleted: number;
  /** Ids that named no document. */
  missing: Set<string>;
  /** WAL index of the last batch that deleted something; null when none did. */
  walIndex: number | null;
}

/**
 * Deletes `ids` (all in `scope`) in batches.
 *
 * @example
 * ```ts
 * const { deleted, missing } = await deleteIds(client, { kind: "global" }, ["a.ts#3", "a.ts#4"]);
 * ```
 */
export async function deleteIds(
  client: ContextClient,
  scope: Scope,
  ids: readonly string[],
): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: 0, missing: new Set(), walIndex: null };
  const size = Math.min(DELETE_BATCH_ITEMS_MAX, client.batchItemsMax ?? DELETE_BATCH_ITEMS_MAX);
  for (let start = 0; start < ids.length; start += size)
    await send(client, scope, ids.slice(start, start + size), outcome);
  return outcome;
}

async function send(
  client: ContextClient,
  scope: Scope,
  ids: readonly string[],
  outcome: DeleteOutcome,
): Promise<void> {
  let response: Awaited<ReturnType<ContextClient["deleteBatch"]>>;
  try {
    response = await client.deleteBatch({ items: ids.map((id) => ({ id, scope })) });
  } catch (error) {
    if (!(error instanceof VltairError) || error.code !== "payload_too_large" || ids.length < 2)
      throw error;
    const half = Math.ceil(ids.length / 2);
    await send(client, scope, ids.slice(0, half), outcome);
    await send(client, scope, ids.slice(half), outcome);
    return;
  }
  outcome.deleted += response.deleted;
  for (const item of response.missing) outcome.missing.add(item.id);
  if (response.deleted > 0) outcome.walIndex = Math.max(outcome.walIndex ?? 0, response.wal_index);
}
