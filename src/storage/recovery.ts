/**
 * Recovery: the newest valid snapshot plus a replay of the log after it. A snapshot that fails
 * its checksum or cannot be restored is skipped (logged) in favour of an older one, and with
 * none left the whole log is replayed when it still starts at index 1.
 */
import { runSteps, runStepsYielding, type Steps, type YieldingOptions } from "../core/mod.ts";
import { type CarriedMachine, decodeCarriedRecords } from "./carried.ts";
import { storageUnavailable } from "./errors.ts";
import type { StorageLog } from "./options.ts";
import { listSnapshots, readSnapshotSteps, type SnapshotData } from "./snapshot.ts";
import type { AnyStateMachine, MachineRegistry } from "./state-machine.ts";
import { openWal, type WalOpenReport } from "./wal/open-wal.ts";
import { listSegments } from "./wal/segment.ts";
import type { Wal } from "./wal/wal.ts";
import type { WalOptions } from "./wal/wal-writer.ts";

/** Where a fold starts: restored states and the index/time they stand at. */
export interface FoldStart {
  states: Map<string, unknown>;
  /** Machines of the snapshot this binary does not know, kept intact (carried.ts). */
  carried: Map<string, CarriedMachine>;
  walIndex: number;
  wallMs: number;
  snapshotPath: string | null;
  /** Version of the binary that wrote the snapshot (null: none, or a version-1 file). */
  writtenBy: string | null;
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
  return runSteps(startingPointSteps(registry, dirs, choice, log));
}

/** {@link startingPoint} as steps that may pause (checksum slices, machine restores). */
export function* startingPointSteps(
  registry: MachineRegistry,
  dirs: { walDir: string; snapshotDir: string },
  choice: SnapshotChoice,
  log: StorageLog,
): Steps<FoldStart> {
  const firstRetained = listSegments(dirs.walDir)[0]?.firstIndex ?? 1;
  const skipped: { path: string; problem: string }[] = [];
  for (const file of listSnapshots(dirs.snapshotDir)) {
    if (choice.walIndexMax !== undefined && file.walIndex > choice.walIndexMax) continue;
    if (file.walIndex + 1 < firstRetained) {
      skipped.push({ path: file.path, problem: "log_gap" });
      continue;
    }
    const read = yield* readSnapshotSteps(file);
    if (!read.ok) {
      skipped.push({ path: file.path, problem: read.problem });
      log("warn", "snapshot.invalid", { path: file.path, problem: read.problem });
      continue;
    }
    if (choice.wallMsMax !== undefined && read.data.wallMs > choice.wallMsMax) continue;
    refuseNewerFormats(registry, read.data, file.path);
    try {
      const restored = yield* restoreMachines(registry, read.data);
      return {
        ...restored,
        walIndex: read.data.walIndex,
        wallMs: read.data.wallMs,
        snapshotPath: file.path,
        writtenBy: read.data.writtenBy,
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
  return {
    states: registry.initial(),
    carried: new Map(),
    walIndex: 0,
    wallMs: 0,
    snapshotPath: null,
    writtenBy: null,
    skipped,
  };
}

/**
 * A known machine whose snapshot format is newer than this binary's cannot be restored, and its
 * records may be newer too: recovery refuses (never guesses, never drops).
 */
function refuseNewerFormats(registry: MachineRegistry, data: SnapshotData, path: string): void {
  for (const m of registry.list()) {
    const part = data.machines.get(m.name);
    const known = m.format ?? 1;
    if (part === undefined || part.format <= known) continue;
    throw storageUnavailable(
      "machine_format_newer",
      `the snapshot ${path} holds state machine ${m.name} in format ${part.format}, written by ` +
        `vltair ${data.writtenBy ?? "(unknown version)"}; this binary reads format ${known} at ` +
        "most: run that version or newer",
      {
        details: {
          machine: m.name,
          format: part.format,
          format_known: known,
          written_by: data.writtenBy,
        },
      },
    );
  }
}

/** Restores each known machine (then folds records a binary without it carried) and carries the rest. */
function* restoreMachines(
  registry: MachineRegistry,
  data: SnapshotData,
): Steps<{ states: Map<string, unknown>; carried: Map<string, CarriedMachine> }> {
  const states = registry.initial();
  const carried = new Map<string, CarriedMachine>();
  for (const [name, part] of data.machines) {
    const records = part.records === null ? [] : decodeCarriedRecords(part.records);
    if (!registry.has(name)) {
      carried.set(name, { format: part.format, state: part.state?.slice() ?? null, records });
      continue;
    }
    const m = registry.get(name) as AnyStateMachine;
    if (part.state !== null) {
      const state = m.restoreSteps ? yield* m.restoreSteps(part.state) : m.restore(part.state);
      states.set(name, state);
    }
    for (const r of records) {
      registry.applyRecord(states, { ...r, machine: name });
      yield;
    }
  }
  return { states, carried };
}

/** What {@link recover} did, for the start-up log line and `/v1/ready`. */
export interface RecoveryReport {
  snapshotIndex: number;
  snapshotPath: string | null;
  snapshotsSkipped: { path: string; problem: string }[];
  replayedRecords: number;
  /** Log bytes replayed after the snapshot (they count toward the next size-triggered one). */
  replayedBytes: number;
  /** Records of machines this binary does not know, carried intact (carried.ts). */
  carriedRecords: number;
  lastIndex: number;
  segmentCount: number;
  tailTruncatedBytes: number;
  tailDroppedRecords: number;
  durationMs: number;
}

/** Options of {@link recover}. */
export interface RecoverOptions {
  /** Clock (ms) for the report's duration. */
  clockMs: () => number;
  /** How often recovery hands the event loop back, so health checks answer meanwhile. */
  yielding: YieldingOptions;
}

/** What {@link recover} returns: the open log, the folded states, what was carried. */
export interface Recovered {
  wal: Wal;
  states: Map<string, unknown>;
  carried: Map<string, CarriedMachine>;
  report: RecoveryReport;
  wallMs: number;
}

/**
 * Rebuilds every registered machine's state, carries the records of machines this binary does
 * not know, and opens the log for appends. Pauses every `yielding.sliceMs`.
 *
 * @example
 * ```ts
 * const { wal, states, report } = await recover(registry, walOptions, snapshotDir, options);
 * ```
 */
export async function recover(
  registry: MachineRegistry,
  walOptions: WalOptions,
  snapshotDir: string,
  options: RecoverOptions,
): Promise<Recovered> {
  const startedMs = options.clockMs();
  const start = await runStepsYielding(
    startingPointSteps(registry, { walDir: walOptions.walDir, snapshotDir }, {}, walOptions.log),
    options.yielding,
  );
  let carriedRecords = 0;
  const { states, carried } = start;
  const opened: { wal: Wal; report: WalOpenReport } = await openWal(walOptions, {
    fromIndex: start.walIndex + 1,
    minLastIndex: start.walIndex,
    *onBatch(frames) {
      for (const f of frames) {
        if (!registry.applyRecord(states, f)) {
          carry(carried, f);
          carriedRecords++;
        }
        yield;
      }
    },
    yielding: options.yielding,
  });
  const report: RecoveryReport = {
    snapshotIndex: start.walIndex,
    snapshotPath: start.snapshotPath,
    snapshotsSkipped: start.skipped,
    replayedRecords: opened.report.replayedRecords,
    replayedBytes: opened.report.replayedBytes,
    carriedRecords,
    lastIndex: opened.report.lastIndex,
    segmentCount: opened.report.segmentCount,
    tailTruncatedBytes: opened.report.tail?.droppedBytes ?? 0,
    tailDroppedRecords: opened.report.tail?.droppedRecords ?? 0,
    durationMs: options.clockMs() - startedMs,
  };
  if (carried.size > 0) {
    walOptions.log("warn", "storage.machines_carried", {
      reason: "machine_not_registered",
      machines: [...carried].map(([name, c]) => ({
        machine: name,
        format: c.format,
        has_state: c.state !== null,
        records: c.records.length,
      })),
      snapshot_written_by: start.writtenBy,
      hint: "records of a newer vltair are kept intact; run that version to use them",
    });
  }
  return {
    wal: opened.wal,
    states,
    carried,
    report,
    wallMs: Math.max(start.wallMs, opened.wal.lastWallMsValue),
  };
}

function carry(
  carried: Map<string, CarriedMachine>,
  frame: { walIndex: number; wallMs: number; machine: string; body: Uint8Array },
): void {
  let machine = carried.get(frame.machine);
  if (machine === undefined) {
    // First seen in the log: its format is unknown until a binary that knows it snapshots it.
    machine = { format: 1, state: null, records: [] };
    carried.set(frame.machine, machine);
  }
  machine.records.push({
    walIndex: frame.walIndex,
    wallMs: frame.wallMs,
    body: frame.body.slice(),
  });
}
