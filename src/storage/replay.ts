/**
 * Replay: fold the log up to an index or a time into fresh state machines (time travel, run
 * replay). Reads files only; never writes, never calls subscribers, never touches live state.
 */

import { VltairError } from "../core/mod.ts";
import type { DataDir } from "./data-dir.ts";
import { storageUnavailable } from "./errors.ts";
import type { StorageLimits, StorageLog } from "./options.ts";
import { startingPoint } from "./recovery.ts";
import type { MachineRegistry } from "./state-machine.ts";
import { payloadBytesMaxOf } from "./wal/frame.ts";
import { scanLog } from "./wal/scan-log.ts";

/** Fold up to and including record `walIndex`, or every record with `wallMs` at or before `wallMs`. */
export type ReplayTarget = { walIndex: number } | { wallMs: number };

/** The states after the fold and where it stopped. */
export interface ReplayResult {
  /** Index of the last record folded (0 when none). */
  walIndex: number;
  /** Wall clock of the last record folded (the snapshot's when no record was replayed). */
  wallMs: number;
  states: Map<string, unknown>;
  /** Snapshot the fold started from, or null for a fold from index 1. */
  snapshotPath: string | null;
  replayedRecords: number;
}

/**
 * Folds the log of `dataDir` into fresh states up to `target`. `lastIndex` is the newest
 * committed index (records beyond it are never read). Throws `bad_request` for a target past the
 * end and `not_found` (`history_unavailable`) for one older than the retained history.
 *
 * @example
 * ```ts
 * const past = replay(registry, dataDir, { walIndex: 10 }, { limits, lastIndex: 42, log });
 * ```
 */
export function replay(
  registry: MachineRegistry,
  dataDir: Pick<DataDir, "walDir" | "snapshotDir">,
  target: ReplayTarget,
  context: { limits: StorageLimits; lastIndex: number; log: StorageLog },
): ReplayResult {
  const byIndex = "walIndex" in target;
  const walIndexMax = byIndex ? target.walIndex : context.lastIndex;
  if (!Number.isSafeInteger(walIndexMax) || walIndexMax < 0 || walIndexMax > context.lastIndex) {
    throw new VltairError(
      "bad_request",
      `replay target ${walIndexMax} is outside 0..${context.lastIndex}`,
      {
        details: { wal_index: walIndexMax, last_index: context.lastIndex },
      },
    );
  }
  const wallMsMax = byIndex ? Number.POSITIVE_INFINITY : target.wallMs;
  let start: ReturnType<typeof startingPoint>;
  try {
    start = startingPoint(
      registry,
      dataDir,
      byIndex ? { walIndexMax } : { wallMsMax },
      context.log,
    );
  } catch (error) {
    if (error instanceof VltairError && error.details.reason === "history_unavailable") {
      throw new VltairError(
        "not_found",
        `the log no longer holds the history before ${JSON.stringify(target)}`,
        {
          details: { ...error.details },
          cause: error,
        },
      );
    }
    throw error;
  }
  const result: ReplayResult = {
    walIndex: start.walIndex,
    wallMs: start.wallMs,
    states: start.states,
    snapshotPath: start.snapshotPath,
    replayedRecords: 0,
  };
  if (start.walIndex >= walIndexMax) return result;
  let done = false;
  const scan = scanLog(dataDir.walDir, {
    payloadBytesMax: payloadBytesMaxOf(context.limits),
    fromIndex: start.walIndex + 1,
    toIndex: walIndexMax,
    onBatch(frames) {
      for (const f of frames) {
        if (done || f.walIndex <= start.walIndex) continue;
        if (f.walIndex > walIndexMax || f.wallMs > wallMsMax) {
          done = true;
          continue;
        }
        registry.applyRecord(result.states, f);
        result.walIndex = f.walIndex;
        result.wallMs = f.wallMs;
        result.replayedRecords++;
      }
    },
  });
  if (scan.corruption !== null && scan.lastIndex < walIndexMax && !done) {
    throw storageUnavailable(
      "wal_corrupt",
      `the log is damaged at index ${scan.corruption.walIndex}`,
      {
        details: { ...scan.corruption },
      },
    );
  }
  return result;
}
