/**
 * `vltair wal repair`: makes a damaged log startable again by cutting it at the first damage.
 * Nothing is deleted: the damaged segment's original bytes, every later segment and every
 * snapshot past the cut are moved to `wal/quarantine/<ms>/` for a human to inspect.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openDataDir } from "./data-dir.ts";
import { fsyncDir } from "./io.ts";
import { resolveLimits, type StorageLimits, type StorageLog, silentLog } from "./options.ts";
import { listSnapshots } from "./snapshot.ts";
import { payloadBytesMaxOf } from "./wal/frame.ts";
import { type LogCorruption, scanLog, type TornTail } from "./wal/scan-log.ts";
import { listSegments } from "./wal/segment.ts";

/** Options of {@link repairWal}. */
export interface RepairOptions {
  /** Report what would be done without changing anything. */
  dryRun: boolean;
  log?: StorageLog;
  limits?: Partial<StorageLimits>;
  /** Clock used to name the quarantine folder. */
  nowMs?: () => number;
}

/** What {@link repairWal} did (or, with `dryRun`, would do). */
export interface RepairReport {
  dryRun: boolean;
  /** True when the log needed no change. */
  clean: boolean;
  corruption: LogCorruption | null;
  tail: TornTail | null;
  /** The log ends at this index afterwards. */
  lastIndexAfter: number;
  /** Segment file cut, and where. */
  cut: { segmentPath: string; atBytes: number; droppedBytes: number } | null;
  segmentsMoved: string[];
  snapshotsMoved: string[];
  quarantineDir: string | null;
}

/**
 * Repairs the data directory `dir` (takes its lock: the server must be stopped).
 *
 * @example
 * ```ts
 * const plan = repairWal("./.vltair", { dryRun: true });
 * ```
 */
export function repairWal(dir: string, options: RepairOptions): RepairReport {
  const log = options.log ?? silentLog;
  const dataDir = openDataDir(dir, { log });
  try {
    const scan = scanLog(dataDir.walDir, {
      payloadBytesMax: payloadBytesMaxOf(resolveLimits(options.limits)),
    });
    const report: RepairReport = {
      dryRun: options.dryRun,
      clean: scan.corruption === null && scan.tail === null,
      corruption: scan.corruption,
      tail: scan.tail,
      lastIndexAfter: scan.lastIndex,
      cut: null,
      segmentsMoved: [],
      snapshotsMoved: [],
      quarantineDir: null,
    };
    const c = scan.corruption;
    if (c !== null) {
      report.lastIndexAfter = c.walIndex - 1;
      const isGap = c.problem === "segment_gap";
      const size = fs.statSync(c.segmentPath).size;
      if (!isGap)
        report.cut = {
          segmentPath: c.segmentPath,
          atBytes: c.offsetBytes,
          droppedBytes: size - c.offsetBytes,
        };
      const firstMoved = isGap ? c.segmentFirstIndex : c.segmentFirstIndex + 1;
      report.segmentsMoved = listSegments(dataDir.walDir)
        .filter((s) => s.firstIndex >= firstMoved)
        .map((s) => s.path);
      report.snapshotsMoved = listSnapshots(dataDir.snapshotDir)
        .filter((s) => s.walIndex >= c.walIndex)
        .map((s) => s.path);
    } else if (scan.tail !== null) {
      report.cut = {
        segmentPath: scan.tail.segmentPath,
        atBytes: scan.tail.cutAtBytes,
        droppedBytes: scan.tail.droppedBytes,
      };
    }
    if (!options.dryRun && !report.clean) apply(report, dataDir.walDir, options.nowMs ?? Date.now);
    log(options.dryRun ? "info" : "warn", "wal.repair", { ...report });
    return report;
  } finally {
    dataDir.close();
  }
}

function apply(report: RepairReport, walDir: string, nowMs: () => number): void {
  const quarantine = path.join(walDir, "quarantine", String(nowMs()));
  fs.mkdirSync(quarantine, { recursive: true });
  report.quarantineDir = quarantine;
  if (report.cut !== null) {
    const cutPath = report.cut.segmentPath;
    fs.copyFileSync(cutPath, path.join(quarantine, `${path.basename(cutPath)}.before-cut`));
    const fd = fs.openSync(cutPath, "r+");
    try {
      fs.ftruncateSync(fd, report.cut.atBytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  for (const p of [...report.segmentsMoved, ...report.snapshotsMoved]) {
    fs.renameSync(p, path.join(quarantine, path.basename(p)));
  }
  fsyncDir(quarantine);
  fsyncDir(walDir);
  if (report.snapshotsMoved.length > 0) fsyncDir(path.dirname(report.snapshotsMoved[0] as string));
}
