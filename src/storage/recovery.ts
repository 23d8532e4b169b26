/**
 * Recovery: the newest valid snapshot plus a replay of the log after it. A snapshot that fails
 * its checksum or cannot be restored is skipped (logged) in favour of an older one, and with
 * none left the whole log is replayed when it still starts at index 1.
 */
import { storageUnavailable } from "./errors.ts";
import type { StorageLog } from "./options.ts";
import { listSnapshots, readSnapshot } from "./snapshot.ts";
import type { MachineRegistry } from "./state-machine.ts";
import { openWal, type WalOpenReport } from "./wal/open-wal.ts";
import { listSegments } from "./wal/segment.ts";
import type { Wal, WalOptions } from "./wal/wal.ts";

/** Where a fold starts: restored states and the index/time they stand at. */
export interface FoldStart {
  states: Map<string, unknown>;
  walIndex: number;
  wallMs: number;
  snapshotPath: string | null;
  skipped: { path: string; problem: string }[];
}

/** Limits on which snapshot may serve as a starting point. */
export interface SnapshotChoice {
  /** Newest index the snapshot may cover (replay to an index). */
  walIndexMax?: number;
  /** Newest wall clock the snapshot may cover (replay to a time). */
  wallMsMax?: number;
}

/**
 * Restores the newest snapshot of `snapshotDir` that verifies, fits `choice` and is followed by
 * the retained log; falls back to fresh states at index 0 when the log starts at 1.
 *
 * @example
 * ```ts
 * const start = startingPoint(registry, dirs, {}, log);
 * ```
 */
export function startingPoint(
  registry: MachineRegistry,
  dirs: { walDir: string; snapshotDir: string },
  choice: SnapshotChoice,
  log: StorageLog,
): FoldStart {
  const firstRetained = listSegments(dirs.walDir)[0]?.firstIndex ?? 1;
  const skipped: { path: string; problem: string }[] = [];
  for (const file of listSnapshots(dirs.snapshotDir)) {
    if (choice.walIndexMax !== undefined && file.walIndex > choice.walIndexMax) continue;
    if (file.walIndex + 1 < firstRetained) {
      skipped.push({ path: file.path, problem: "log_gap" });
      continue;
    }
    const read = readSnapshot(file);
    if (!read.ok) {
      skipped.push({ path: file.path, problem: read.problem });
      log("warn", "snapshot.invalid", { path: file.path, problem: read.problem });
      continue;
    }
    if (choice.wallMsMax !== undefined && read.data.wallMs > choice.wallMsMax) continue;
    try {
      const states = registry.initial();
      for (const m of registry.list()) {
        const bytes = read.data.machines.get(m.name);
        if (bytes !== undefined) states.set(m.name, m.restore(bytes));
      }
      return {
        states,
        walIndex: read.data.walIndex,
        wallMs: read.data.wallMs,
        snapshotPath: file.path,
        skipped,
      };
    } catch (error) {
      skipped.push({ path: file.path, problem: "restore_failed" });
      log("warn", "snapshot.restore_failed", { path: file.path, error: String(error) });
    }
  }
  if (firstRetained > 1) {
    throw storageUnavailable(
      "history_unavailable",
      `no usable snapshot and the log starts at index ${firstRetained}, so the state before it cannot be rebuilt`,
      { details: { first_retained_index: firstRetained, skipped } },
    );
  }
  return { states: registry.initial(), walIndex: 0, wallMs: 0, snapshotPath: null, skipped };
}

/** What {@link recover} did, for the start-up log line and `/v1/ready`. */
export interface RecoveryReport {
  snapshotIndex: number;
  snapshotPath: string | null;
  snapshotsSkipped: { path: string; problem: string }[];
  replayedRecords: number;
  /** Log bytes replayed after the snapshot (they count toward the next size-triggered one). */
  replayedBytes: number;
  skippedRecords: number;
  lastIndex: number;
  segmentCount: number;
  tailTruncatedBytes: number;
  tailDroppedRecords: number;
  durationMs: number;
}

/**
 * Rebuilds every registered machine's state and opens the log for appends.
 *
 * @example
 * ```ts
 * const { wal, states, report } = await recover(registry, walOptions, snapshotDir, nowMs);
 * ```
 */
export async function recover(
  registry: MachineRegistry,
  walOptions: WalOptions,
  snapshotDir: string,
  clockMs: () => number,
): Promise<{ wal: Wal; states: Map<string, unknown>; report: RecoveryReport; wallMs: number }> {
  const startedMs = clockMs();
  const start = startingPoint(
    registry,
    { walDir: walOptions.walDir, snapshotDir },
    {},
    walOptions.log,
  );
  let skippedRecords = 0;
  const states = start.states;
  const opened: { wal: Wal; report: WalOpenReport } = await openWal(walOptions, {
    fromIndex: start.walIndex + 1,
    minLastIndex: start.walIndex,
    onBatch(frames) {
      for (const f of frames) if (!registry.applyRecord(states, f)) skippedRecords++;
    },
  });
  const report: RecoveryReport = {
    snapshotIndex: start.walIndex,
    snapshotPath: start.snapshotPath,
    snapshotsSkipped: start.skipped,
    replayedRecords: opened.report.replayedRecords,
    replayedBytes: opened.report.replayedBytes,
    skippedRecords,
    lastIndex: opened.report.lastIndex,
    segmentCount: opened.report.segmentCount,
    tailTruncatedBytes: opened.report.tail?.droppedBytes ?? 0,
    tailDroppedRecords: opened.report.tail?.droppedRecords ?? 0,
    durationMs: clockMs() - startedMs,
  };
  if (skippedRecords > 0) {
    walOptions.log("warn", "storage.records_skipped", {
      count: skippedRecords,
      reason: "machine_not_registered",
    });
  }
  return {
    wal: opened.wal,
    states,
    report,
    wallMs: Math.max(start.wallMs, opened.wal.lastWallMsValue),
  };
}
