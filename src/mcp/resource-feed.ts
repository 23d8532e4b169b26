/**
 * Which resources a committed record changes, so that a session subscribed to a document hears
 * of every change to it — made by itself, another session, REST, the CLI or a workflow step —
 * and only within its own tenant.
 */
import { docUri } from "./doc-uri.ts";

/** A resource changed in a tenant. */
export interface ResourceChange {
  tenant: string;
  uri: string;
}

/** Starts listening to resource changes; returns the function that stops. */
export type ResourceWatch = (listener: (change: ResourceChange) => void) => () => void;

/** A record as committed: its machine and body (storage's `CommittedValue`). */
export interface CommittedRecordLike {
  machine: string;
  value: unknown;
}

interface ContextRecordLike {
  op?: string;
  tenant?: string;
  items?: { id?: string; scope?: unknown }[];
}

/** The URI of a run: `vltair://runs/{id}`. */
export function runUri(runId: string): string {
  return `vltair://runs/${encodeURIComponent(runId)}`;
}

/** The tenant of a run, or null when it is unknown (the orchestrator's state). */
export type RunTenantOf = (runId: string) => string | null;

/**
 * The resource changes of committed records: a `context` upsert or delete changes the URI of
 * each of its documents; any `runs` record changes its run's URI.
 *
 * @example
 * ```ts
 * storage.onApplied((records) => { for (const c of changesOf(records)) notify(c); });
 * ```
 */
export function changesOf(
  records: readonly CommittedRecordLike[],
  runTenantOf: RunTenantOf = () => null,
): ResourceChange[] {
  const out: ResourceChange[] = [];
  for (const record of records) {
    if (record.machine === "runs") {
      const runId = (record.value as { run_id?: unknown }).run_id;
      const tenant = typeof runId === "string" ? runTenantOf(runId) : null;
      if (tenant !== null) out.push({ tenant, uri: runUri(runId as string) });
      continue;
    }
    if (record.machine !== "context") continue;
    const body = record.value as ContextRecordLike;
    if (typeof body.tenant !== "string") continue;
    for (const item of body.items ?? []) {
      if (typeof item.id === "string") {
        out.push({ tenant: body.tenant, uri: docUri(item.scope, item.id) });
      }
    }
  }
  return out;
}

/**
 * A watch fed by a listener registration such as `storage.onApplied`.
 *
 * @example
 * ```ts
 * const watch = resourceWatchOf((l) => storage.onApplied(l));
 * ```
 */
export function resourceWatchOf(
  onApplied: (listener: (records: readonly CommittedRecordLike[]) => void) => () => void,
  runTenantOf?: RunTenantOf,
): ResourceWatch {
  return (listener) =>
    onApplied((records) => {
      for (const change of changesOf(records, runTenantOf)) listener(change);
    });
}
