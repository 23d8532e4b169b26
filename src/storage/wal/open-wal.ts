/**
 * Opening the log: scan the segments from a starting index, replay complete batches, cut a
 * torn tail (logging what was cut), refuse corruption before the tail, and hand a {@link Wal}
 * ready to append after the last record.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runStepsYielding, type Steps, type YieldingOptions } from "../../core/mod.ts";
import { corruptionError, storageUnavailable } from "../errors.ts";
import { fsyncDir } from "../io.ts";
import type { StorageLog } from "../options.ts";
import { type DecodedFrame, frameSizeBytes, payloadBytesMaxOf } from "./frame.ts";
import { scanLogSteps, type TornTail } from "./scan-log.ts";
import { listSegments, segmentFileName } from "./segment.ts";
import { Wal } from "./wal.ts";
import type { WalOptions } from "./wal-writer.ts";

/** What {@link openWal} found and fixed. */
export interface WalOpenReport {
  firstIndex: number | null;
  lastIndex: number;
  segmentCount: number;
  replayedRecords: number;
  /** Log bytes of the replayed records: they count toward the next size-triggered snapshot. */
  replayedBytes: number;
  tail: TornTail | null;
}

/**
 * Opens the log in `walDir`: scans from `fromIndex`, hands every complete batch with an index at
 * or above it to `onBatch`, cuts a torn tail (logging what was cut), refuses corruption before
 * the tail, and returns a log ready to append after its last record.
 *
 * @example
 * ```ts
 * const { wal } = await openWal(options, {
 *   fromIndex: 1,
 *   minLastIndex: 0,
 *   *onBatch(frames) { for (const f of frames) { fold(f); yield; } },
 *   yielding: { sliceMs: 5, monotonicMs: () => performance.now() },
 * });
 * ```
 */
export async function openWal(
  options: WalOptions,
  recovery: {
    fromIndex: number;
    minLastIndex: number;
    /** Folds one batch; its steps may pause (see `yielding`). */
    onBatch: (frames: DecodedFrame[]) => Steps<void>;
    /** How often the scan and the fold hand the event loop back. */
    yielding: YieldingOptions;
  },
): Promise<{ wal: Wal; report: WalOpenReport }> {
  fs.mkdirSync(options.walDir, { recursive: true });
  let replayedRecords = 0;
  let replayedBytes = 0;
  const steps = scanLogSteps(options.walDir, {
    payloadBytesMax: payloadBytesMaxOf(options.limits),
    fromIndex: recovery.fromIndex,
    *onBatchSteps(frames) {
      const wanted = frames.filter((f) => f.walIndex >= recovery.fromIndex);
      replayedRecords += wanted.length;
      for (const f of wanted) replayedBytes += frameSizeBytes(f.machine.length, f.body.length);
      if (wanted.length > 0) yield* recovery.onBatch(wanted);
    },
  });
  const scan = await runStepsYielding(steps, recovery.yielding);
  if (scan.corruption) throw corruptionError(scan.corruption);
  if (scan.tail) cutTail(scan.tail, options.log);
  if (scan.lastIndex < recovery.minLastIndex) {
    throw storageUnavailable(
      "snapshot_ahead_of_log",
      `the log ends at index ${scan.lastIndex} but a snapshot covers ${recovery.minLastIndex}; ` +
        "records are missing from wal/",
      { details: { lastIndex: scan.lastIndex, snapshotIndex: recovery.minLastIndex } },
    );
  }
  const segments = listSegments(options.walDir);
  let active = segments.at(-1);
  let sizeBytes = scan.segments.at(-1)?.scan?.completeEndBytes ?? 0;
  if (active === undefined) {
    active = {
      firstIndex: scan.lastIndex + 1,
      path: path.join(options.walDir, segmentFileName(scan.lastIndex + 1)),
    };
    segments.push(active);
    sizeBytes = 0;
  }
  const fd = await options.io.open(active.path);
  fsyncDir(options.walDir);
  const fileBytes = Math.max(sizeBytes, fs.statSync(active.path).size);
  const wal = new Wal(options, {
    segments,
    fd,
    sizeBytes,
    fileBytes,
    lastIndex: scan.lastIndex,
    lastWallMs: scan.lastWallMs,
  });
  const report: WalOpenReport = {
    firstIndex: segments[0]?.firstIndex ?? null,
    lastIndex: scan.lastIndex,
    segmentCount: segments.length,
    replayedRecords,
    replayedBytes,
    tail: scan.tail,
  };
  return { wal, report };
}

function cutTail(tail: TornTail, log: StorageLog): void {
  const fd = fs.openSync(tail.segmentPath, "r+");
  try {
    fs.ftruncateSync(fd, tail.cutAtBytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  log("warn", "wal.tail_truncated", {
    segment: tail.segmentPath,
    cut_at_bytes: tail.cutAtBytes,
    dropped_bytes: tail.droppedBytes,
    dropped_records: tail.droppedRecords,
  });
}
