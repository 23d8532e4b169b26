/**
 * `vltair wal verify`: checks every frame's checksum and index in every segment, and every
 * snapshot's checksum, without taking the lock or changing anything.
 */
import * as fs from "node:fs";
import { dataDirPaths } from "./data-dir.ts";
import { describeRepair } from "./errors.ts";
import { resolveLimits, type StorageLimits } from "./options.ts";
import { listSnapshots, readSnapshot } from "./snapshot.ts";
import { payloadBytesMaxOf } from "./wal/frame.ts";
import { type LogCorruption, scanLog, type TornTail } from "./wal/scan-log.ts";

/** The outcome of {@link verifyWal}. */
export interface VerifyReport {
  /** True when no corruption was found (a torn tail is fixed by the next start, so it is not a failure). */
  ok: boolean;
  segmentCount: number;
  recordCount: number;
  /** Index range `[firstIndex, lastIndex]` held by the segments; null when the log is empty. */
  firstIndex: number | null;
  lastIndex: number;
  sizeBytes: number;
  tail: TornTail | null;
  corruption: LogCorruption | null;
  /** What `repairWal` would do, when there is corruption. */
  repair: string | null;
  snapshots: { walIndex: number; path: string; ok: boolean; problem: string | null }[];
}

/**
 * Verifies the data directory `dir` read-only. Safe while a server runs on it, except that a
 * group being written at that instant may show as a torn tail.
 *
 * @example
 * ```ts
 * const report = verifyWal("./.vltair");
 * if (!report.ok) console.error(report.repair);
 * ```
 */
export function verifyWal(
  dir: string,
  options: { limits?: Partial<StorageLimits> } = {},
): VerifyReport {
  const paths = dataDirPaths(dir);
  const limits = resolveLimits(options.limits);
  const scan = fs.existsSync(paths.walDir)
    ? scanLog(paths.walDir, { payloadBytesMax: payloadBytesMaxOf(limits) })
    : null;
  const snapshots = fs.existsSync(paths.snapshotDir)
    ? listSnapshots(paths.snapshotDir).map((file) => {
        const read = readSnapshot(file);
        return {
          walIndex: file.walIndex,
          path: file.path,
          ok: read.ok,
          problem: read.ok ? null : read.problem,
        };
      })
    : [];
  let sizeBytes = 0;
  for (const s of scan?.segments ?? []) sizeBytes += s.scan?.sizeBytes ?? 0;
  return {
    ok: scan?.corruption === null || scan === null,
    segmentCount: scan?.segments.length ?? 0,
    recordCount: scan?.recordCount ?? 0,
    firstIndex: scan?.firstIndex ?? null,
    lastIndex: scan?.lastIndex ?? 0,
    sizeBytes,
    tail: scan?.tail ?? null,
    corruption: scan?.corruption ?? null,
    repair: scan?.corruption ? describeRepair(scan.corruption) : null,
    snapshots,
  };
}
