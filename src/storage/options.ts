/**
 * Storage options: each limit with its default, its bounds and the reason for them.
 * The config schema mirrors these (see docs/durability.md, "Options").
 */
import { VltairError } from "../core/mod.ts";

/** When appended bytes are forced to stable storage before an append resolves. */
export type FsyncPolicy =
  | { kind: "always" }
  | { kind: "interval"; intervalMs: number }
  | { kind: "none" };

/** Severity of a storage log line; matches the foundation logger's levels. */
export type StorageLogLevel = "debug" | "info" | "warn" | "error";

/** The logger callback storage reports through: `(level, event, fields)`. */
export type StorageLog = (
  level: StorageLogLevel,
  event: string,
  fields: Record<string, unknown>,
) => void;

/** Tunable sizes and thresholds; every one is bounded by {@link STORAGE_LIMITS}. */
export interface StorageLimits {
  /** A segment is rotated before it would exceed this; recovery reads one segment into memory at a time. */
  segmentBytes: number;
  /** Largest record body; bounds one frame and therefore one read on recovery. */
  recordBytesMax: number;
  /** Most records one append call may carry (one batch is all-or-nothing on disk). */
  batchRecordsMax: number;
  /** Most bytes one group commit writes: bounds the group buffer and one write's latency. */
  groupBytesMax: number;
  /** Bytes waiting for the writer before appends fail with `queue_full` (back-pressure, not growth). */
  queueBytesMax: number;
  /** A snapshot is taken once this many WAL bytes were appended since the last one (0: never by size). */
  snapshotEveryBytes: number;
  /** A snapshot is taken on the first commit this long after the last one (0: never by time). */
  snapshotEveryMs: number;
  /** Snapshots kept; the oldest kept one decides which segments can be deleted. */
  snapshotsKept: number;
}

const MIB = 1024 * 1024;

/** Default, minimum and maximum of each limit, with the reason for the ceiling. */
export const STORAGE_LIMITS: Record<
  keyof StorageLimits,
  { def: number; min: number; max: number }
> = {
  // 64 MiB: a few seconds of heavy writes; 1 GiB ceiling keeps one recovery read in memory bounds.
  segmentBytes: { def: 64 * MIB, min: 64 * 1024, max: 1024 * MIB },
  // 4 MiB: a large context batch; 64 MiB ceiling because a record is held whole in memory.
  recordBytesMax: { def: 4 * MIB, min: 1024, max: 64 * MIB },
  // 10k records per append: one upsert batch; ceiling bounds the per-batch work in the writer.
  batchRecordsMax: { def: 10_000, min: 1, max: 1_000_000 },
  // 8 MiB per group write keeps one write's latency short while amortising the fsync.
  groupBytesMax: { def: 8 * MIB, min: 64 * 1024, max: 256 * MIB },
  // 256 MiB queued: beyond that the disk cannot keep up and callers must back off.
  queueBytesMax: { def: 256 * MIB, min: 1 * MIB, max: 4096 * MIB },
  // 256 MiB of log between snapshots bounds the replay on start to a few seconds.
  snapshotEveryBytes: { def: 256 * MIB, min: 0, max: 64 * 1024 * MIB },
  // One hour: a quiet server still gets a recent snapshot; 0 disables.
  snapshotEveryMs: { def: 3_600_000, min: 0, max: 7 * 86_400_000 },
  // Three: the newest may be damaged and fallback needs an older one plus its log.
  snapshotsKept: { def: 3, min: 1, max: 100 },
};

/** Longest `interval:<ms>` accepted: past a minute the window of loss is no longer a policy. */
export const FSYNC_INTERVAL_MS_MAX = 60_000;

/** The default limits. */
export function defaultLimits(): StorageLimits {
  const out = {} as StorageLimits;
  for (const key of Object.keys(STORAGE_LIMITS) as (keyof StorageLimits)[]) {
    out[key] = STORAGE_LIMITS[key].def;
  }
  return out;
}

/**
 * Fills defaults and checks every limit against its bounds and the relations between them.
 *
 * @example
 * ```ts
 * const limits = resolveLimits({ segmentBytes: 1 << 20 });
 * ```
 */
export function resolveLimits(partial: Partial<StorageLimits> = {}): StorageLimits {
  const limits = { ...defaultLimits(), ...partial };
  for (const key of Object.keys(STORAGE_LIMITS) as (keyof StorageLimits)[]) {
    const { min, max } = STORAGE_LIMITS[key];
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new VltairError(
        "config_invalid",
        `storage.${key} must be an integer in [${min}, ${max}]`,
        {
          details: { field: key, value, min, max },
        },
      );
    }
  }
  // One batch must fit in one segment and in one group, with room for the frame headers.
  if (limits.recordBytesMax * 2 > limits.segmentBytes) {
    throw new VltairError(
      "config_invalid",
      "storage.recordBytesMax must be at most half of segmentBytes",
      {
        details: { recordBytesMax: limits.recordBytesMax, segmentBytes: limits.segmentBytes },
      },
    );
  }
  return limits;
}

/**
 * Parses `always`, `none` or `interval:<ms>`.
 *
 * @example
 * ```ts
 * parseFsyncPolicy("interval:100"); // { kind: "interval", intervalMs: 100 }
 * ```
 */
export function parseFsyncPolicy(text: string): FsyncPolicy {
  if (text === "always") return { kind: "always" };
  if (text === "none") return { kind: "none" };
  const match = /^interval:(\d{1,6})$/.exec(text);
  const intervalMs = match ? Number(match[1]) : Number.NaN;
  if (!(intervalMs >= 1 && intervalMs <= FSYNC_INTERVAL_MS_MAX)) {
    throw new VltairError(
      "config_invalid",
      `fsync policy must be "always", "none" or "interval:<ms>" with 1..${FSYNC_INTERVAL_MS_MAX} ms`,
      { details: { field: "fsync", value: text } },
    );
  }
  return { kind: "interval", intervalMs };
}

/** A log callback that drops everything (the default when none is given). */
export const silentLog: StorageLog = () => {};
