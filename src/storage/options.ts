/**
 * Storage options: each limit with its default, its bounds and the reason for them.
 * The config schema mirrors these (see docs/durability.md, "Options").
 */
import { LimitTable, VltairError } from "../core/mod.ts";

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

/**
 * Default, bounds, unit and reason of each storage limit (docs/configuration.md's
 * `storage_limits` table is checked against it). One batch must fit in one segment with room
 * for the frame headers: `record_bytes_max` is at most half of `segment_bytes`.
 */
export const STORAGE_LIMITS = new LimitTable<keyof StorageLimits>(
  "storage_limits",
  {
    segmentBytes: {
      default: 64 * MIB,
      min: 64 * 1024,
      max: 1024 * MIB,
      unit: "bytes",
      reason:
        "a segment is rotated before it would exceed this; recovery reads one segment into memory at a time",
    },
    recordBytesMax: {
      default: 4 * MIB,
      min: 1024,
      max: 64 * MIB,
      unit: "bytes",
      reason: "largest record body (at most half a segment); a record is held whole in memory",
    },
    batchRecordsMax: {
      default: 10_000,
      min: 1,
      max: 1_000_000,
      unit: "records",
      reason: "most records of one atomic append (one upsert batch)",
    },
    groupBytesMax: {
      default: 8 * MIB,
      min: 64 * 1024,
      max: 256 * MIB,
      unit: "bytes",
      reason: "most bytes one group commit writes: bounds one write's size and latency",
    },
    queueBytesMax: {
      default: 256 * MIB,
      min: 1 * MIB,
      max: 4096 * MIB,
      unit: "bytes",
      reason:
        "bytes waiting for the writer before appends fail with 429 queue_full (back-pressure, not growth)",
    },
    snapshotEveryBytes: {
      default: 256 * MIB,
      min: 0,
      max: 64 * 1024 * MIB,
      unit: "bytes",
      reason:
        "a snapshot after this many WAL bytes since the last (0: never by size); bounds replay at start. A clean shutdown also snapshots when the log since the last snapshot is ≥ 1/16 of it (and ≥ 1 MiB)",
    },
    snapshotEveryMs: {
      default: 3_600_000,
      min: 0,
      max: 7 * 86_400_000,
      unit: "ms",
      reason: "a snapshot on the first commit this long after the last (0: never by time)",
    },
    snapshotsKept: {
      default: 3,
      min: 1,
      max: 100,
      unit: "snapshots",
      reason: "snapshots kept; fallback when the newest is damaged, and the time-travel window",
    },
  },
  [
    {
      key: "recordBytesMax",
      message: "must be at most half of storage_limits.segment_bytes",
      holds: (l) => l.recordBytesMax * 2 <= l.segmentBytes,
    },
  ],
);

/** Longest `interval:<ms>` accepted: past a minute the window of loss is no longer a policy. */
export const FSYNC_INTERVAL_MS_MAX = 60_000;

/** The default limits. */
export function defaultLimits(): StorageLimits {
  return STORAGE_LIMITS.defaults();
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
  return STORAGE_LIMITS.resolve(partial);
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
