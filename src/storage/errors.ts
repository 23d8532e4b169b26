/**
 * The storage layer's operating errors, built in one place so their codes and details stay stable.
 * `details.reason` is a stable, matchable sub-code (tests and the CLI match on it, never on text).
 */
import { VltairError } from "../core/mod.ts";
import type { LogCorruption } from "./wal/scan-log.ts";

/** Stable reasons carried in `details.reason` of storage errors. */
export type StorageErrorReason =
  | "locked"
  | "format_unknown"
  | "format_too_new"
  | "wal_corrupt"
  | "wal_record_invalid"
  | "snapshot_ahead_of_log"
  | "io_failed"
  | "closed"
  | "failed"
  | "history_unavailable"
  | "machine_format_newer"
  | "dependency_failed";

/**
 * A 503-class storage error (`unavailable`) with a stable reason.
 *
 * @example
 * ```ts
 * throw storageUnavailable("io_failed", "append failed: ENOSPC", { cause: error });
 * ```
 */
export function storageUnavailable(
  reason: StorageErrorReason,
  message: string,
  options: { details?: Record<string, unknown>; cause?: unknown } = {},
): VltairError {
  const init: { details: Record<string, unknown>; cause?: unknown } = {
    details: { reason, ...options.details },
  };
  if (options.cause !== undefined) init.cause = options.cause;
  return new VltairError("unavailable", message, init);
}

/** What `repairWal` would do about `c`, in one sentence for the operator. */
export function describeRepair(c: LogCorruption): string {
  return (
    `\`vltair wal repair\` would cut the log at index ${c.walIndex} ` +
    `(${c.segmentPath} at byte ${c.offsetBytes}), dropping at least ${c.recordsAfter} later valid ` +
    `record(s) and moving ${c.segmentsAfter} later segment file(s) and any snapshot past that ` +
    "index into wal/quarantine/; copy the data directory first"
  );
}

/** The error that stops recovery when the log is damaged before its tail. */
export function corruptionError(c: LogCorruption): VltairError {
  return storageUnavailable(
    "wal_corrupt",
    `WAL corrupt before its tail: ${c.problem} at index ${c.walIndex}; refusing to start. ${describeRepair(c)}`,
    { details: { ...c } },
  );
}
