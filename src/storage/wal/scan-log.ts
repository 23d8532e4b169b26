/**
 * Scans the whole log (every segment from a starting index) and classifies its end:
 * clean, a torn tail that recovery may cut, or corruption before the tail that needs a human.
 */

import { runSteps, type Steps } from "../../core/mod.ts";
import { readFileBytesSteps } from "../io.ts";
import type { DecodedFrame } from "./frame.ts";
import {
  listSegments,
  type ScanSegmentOptions,
  type SegmentFile,
  type SegmentScan,
  scanSegment,
  scanSegmentSteps,
} from "./segment.ts";

/** Where and how the log is damaged before its tail: recovery refuses to start. */
export interface LogCorruption {
  segmentPath: string;
  segmentFirstIndex: number;
  offsetBytes: number;
  /** The index the damaged frame should have had. */
  walIndex: number;
  problem: string;
  /** Valid records known to follow the damage (found by resynchronising); repair drops them. */
  recordsAfter: number;
  /** Segment files after the damaged one; repair moves them aside. */
  segmentsAfter: number;
}

/** A torn tail: bytes after the last complete batch of the last segment. */
export interface TornTail {
  segmentPath: string;
  cutAtBytes: number;
  droppedBytes: number;
  /** Valid frames of an append batch whose last frame never reached the disk. */
  droppedRecords: number;
}

/** Bytes from `from` up to the last non-zero byte (the zero fill after it is not data). */
function dataBytesAfter(bytes: Uint8Array, from: number): number {
  let end = bytes.length;
  while (end > from && bytes[end - 1] === 0) end--;
  return end - from;
}

/** Result of {@link scanLog}. */
export interface LogScan {
  segments: (SegmentFile & { scan: SegmentScan | null })[];
  /** Index of the first record the scanned segments hold, or null for an empty log. */
  firstIndex: number | null;
  /** Index of the last complete record before any damage; `firstIndex - 1` when empty. */
  lastIndex: number;
  lastWallMs: number;
  recordCount: number;
  tail: TornTail | null;
  corruption: LogCorruption | null;
}

/** Options of {@link scanLog}. */
export interface ScanLogOptions {
  payloadBytesMax: number;
  /** Skip segments that end before this index (they are not read at all). */
  fromIndex?: number;
  /** Stop reading once the batch holding this index is read (damage after it is not seen). */
  toIndex?: number;
  onBatch?: (frames: DecodedFrame[]) => void;
  /** Like `onBatch`, as steps that run (and may pause) before the scan goes on. */
  onBatchSteps?: (frames: DecodedFrame[]) => Steps<void>;
}

function countAfter(bytes: Uint8Array, scan: SegmentScan, payloadBytesMax: number): number {
  const resync = scan.damage?.resync;
  if (!resync) return 0;
  const rest = scanSegment(bytes.subarray(resync.offsetBytes), resync.walIndex, {
    payloadBytesMax,
  });
  return rest.recordCount + rest.incompleteCount;
}

/**
 * Scans the segments of `walDir` in order and hands complete batches to `onBatch`.
 * Never modifies anything; never throws on damaged content (only on I/O errors).
 *
 * @example
 * ```ts
 * const scan = scanLog("/data/.vltair/wal", { payloadBytesMax: 1 << 22 });
 * if (scan.corruption) console.error(scan.corruption.problem);
 * ```
 */
export function scanLog(walDir: string, options: ScanLogOptions): LogScan {
  return runSteps(scanLogSteps(walDir, options));
}

/** {@link scanLog} as steps: it may pause after each batch (recovery keeps serving meanwhile). */
export function* scanLogSteps(walDir: string, options: ScanLogOptions): Steps<LogScan> {
  const files = listSegments(walDir);
  const result: LogScan = {
    segments: files.map((f) => ({ ...f, scan: null })),
    firstIndex: null,
    lastIndex: 0,
    lastWallMs: 0,
    recordCount: 0,
    tail: null,
    corruption: null,
  };
  const fromIndex = options.fromIndex ?? 1;
  let expected: number | null = null;
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as SegmentFile;
    const next = files[i + 1];
    if (next !== undefined && next.firstIndex <= fromIndex) continue;
    if (options.toIndex !== undefined && file.firstIndex > options.toIndex) break;
    const isLast = next === undefined;
    if (expected !== null && file.firstIndex !== expected) {
      result.corruption = gap(file, expected, files.length - i - 1);
      return result;
    }
    const bytes = yield* readFileBytesSteps(file.path);
    const scanOptions: ScanSegmentOptions = { payloadBytesMax: options.payloadBytesMax };
    if (options.onBatch) scanOptions.onBatch = options.onBatch;
    if (options.onBatchSteps) scanOptions.onBatchSteps = options.onBatchSteps;
    if (options.toIndex !== undefined) scanOptions.stopAfterIndex = options.toIndex;
    const scan = yield* scanSegmentSteps(bytes, file.firstIndex, scanOptions);
    (result.segments[i] as { scan: SegmentScan | null }).scan = scan;
    result.firstIndex ??= file.firstIndex;
    result.recordCount += scan.recordCount;
    result.lastIndex = scan.lastIndex;
    if (scan.recordCount > 0) result.lastWallMs = scan.lastWallMs;
    expected = scan.lastIndex + 1;
    const damaged = scan.damage !== null && !scan.damage.zeroTail;
    // Zeros after the last complete batch are the allocated-ahead space of the segment: clean.
    const torn = damaged || scan.incompleteCount > 0;
    if (!torn) continue;
    if (isLast && (scan.damage === null || scan.damage.resync === null)) {
      result.tail = {
        segmentPath: file.path,
        cutAtBytes: scan.completeEndBytes,
        droppedBytes: dataBytesAfter(bytes, scan.completeEndBytes),
        droppedRecords: scan.incompleteCount,
      };
    } else if (damaged || scan.incompleteCount > 0) {
      result.corruption = {
        segmentPath: file.path,
        segmentFirstIndex: file.firstIndex,
        offsetBytes: scan.completeEndBytes,
        walIndex: scan.lastIndex + 1,
        problem: scan.damage?.problem ?? "incomplete_batch",
        recordsAfter: countAfter(bytes, scan, options.payloadBytesMax),
        segmentsAfter: files.length - i - 1,
      };
      return result;
    }
  }
  if (result.firstIndex === null) result.lastIndex = Math.max(0, fromIndex - 1);
  return result;
}

function gap(file: SegmentFile, expected: number, segmentsAfter: number): LogCorruption {
  return {
    segmentPath: file.path,
    segmentFirstIndex: file.firstIndex,
    offsetBytes: 0,
    walIndex: expected,
    problem: "segment_gap",
    recordsAfter: 0,
    segmentsAfter: segmentsAfter + 1,
  };
}
