/**
 * WAL segment files: naming and scanning. A segment is a plain sequence of frames; its file name
 * is the 20-digit index of its first record, so the directory listing alone orders the log and
 * a segment can be dropped whole once a snapshot covers it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { assert, runSteps, type Steps } from "../../core/mod.ts";
import type { FrameProblem } from "./frame.ts";
import {
  type DecodedFrame,
  FRAME_HEADER_BYTES,
  FRAME_TYPE_RECORD_LAST,
  readFrame,
} from "./frame.ts";

/** Suffix of segment files inside `wal/`. */
export const SEGMENT_SUFFIX = ".seg";
const INDEX_DIGITS = 20;

/** The file name of the segment whose first record has `firstIndex`. */
export function segmentFileName(firstIndex: number): string {
  assert(Number.isSafeInteger(firstIndex) && firstIndex >= 1, "segment first index >= 1");
  return `${String(firstIndex).padStart(INDEX_DIGITS, "0")}${SEGMENT_SUFFIX}`;
}

/** The first index named by a segment file name, or null when the name is not a segment's. */
export function parseSegmentFileName(name: string): number | null {
  const match = /^(\d{20})\.seg$/.exec(name);
  if (match === null) return null;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) && value >= 1 ? value : null;
}

/** Damage found while scanning: where it starts and what follows it. */
export interface SegmentDamage {
  offsetBytes: number;
  problem: FrameProblem | "index_gap";
  /** True when every byte from the damage to the end is zero (space the OS extended, never written). */
  zeroTail: boolean;
  /** The first valid frame found after the damage, if any: its presence means mid-log corruption. */
  resync: { offsetBytes: number; walIndex: number } | null;
}

/** Result of {@link scanSegment}. */
export interface SegmentScan {
  firstIndex: number;
  /** Complete records (their batch's last frame is present). */
  recordCount: number;
  /** Index of the last complete record, `firstIndex - 1` when there is none. */
  lastIndex: number;
  lastWallMs: number;
  /** End of the last complete batch: where the segment is cut when its tail is torn. */
  completeEndBytes: number;
  /** Valid frames after the last complete batch (an append batch cut short). */
  incompleteCount: number;
  sizeBytes: number;
  damage: SegmentDamage | null;
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Finds the first offset after `from` holding a valid frame with an index above `afterIndex`. */
function resync(
  bytes: Uint8Array,
  from: number,
  end: number,
  afterIndex: number,
  payloadMax: number,
) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let q = from + 1; q + FRAME_HEADER_BYTES + 8 <= end; q++) {
    const type = bytes[q + 8];
    if (type !== 1 && type !== 2) continue;
    const walIndex = view.getUint32(q + 9, true) + view.getUint32(q + 13, true) * 0x100000000;
    if (walIndex <= afterIndex || walIndex > afterIndex + (end - q)) continue;
    const read = readFrame(bytes, q, end, payloadMax, view);
    if (typeof read !== "string") return { offsetBytes: q, walIndex: read.walIndex };
  }
  return null;
}

/**
 * Scans `bytes` (one segment's content) frame by frame, handing each complete append batch to
 * `onBatch` in order. Stops at the first damage and describes it; never throws on bad input.
 *
 * @example
 * ```ts
 * const scan = scanSegment(bytes, 1, { payloadBytesMax: 1 << 20, onBatch: (frames) => {} });
 * if (scan.damage === null) console.log(scan.lastIndex);
 * ```
 */
export function scanSegment(
  bytes: Uint8Array,
  firstIndex: number,
  options: ScanSegmentOptions,
): SegmentScan {
  return runSteps(scanSegmentSteps(bytes, firstIndex, options));
}

/** Options of {@link scanSegment}. */
export interface ScanSegmentOptions {
  payloadBytesMax: number;
  /** Called with each complete batch. */
  onBatch?: (frames: DecodedFrame[]) => void;
  /** Like `onBatch`, as steps that run (and may pause) before the scan goes on. */
  onBatchSteps?: (frames: DecodedFrame[]) => Steps<void>;
  /** Stop after the complete batch holding this index (the rest of the segment is not read). */
  stopAfterIndex?: number;
}

/** {@link scanSegment} as steps: it may pause after each batch and inside `onBatch`'s steps. */
export function* scanSegmentSteps(
  bytes: Uint8Array,
  firstIndex: number,
  options: ScanSegmentOptions,
): Steps<SegmentScan> {
  const scan: SegmentScan = {
    firstIndex,
    recordCount: 0,
    lastIndex: firstIndex - 1,
    lastWallMs: 0,
    completeEndBytes: 0,
    incompleteCount: 0,
    sizeBytes: bytes.length,
    damage: null,
  };
  let batch: DecodedFrame[] = [];
  let offset = 0;
  let expected = firstIndex;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (offset < bytes.length) {
    const read = readFrame(bytes, offset, bytes.length, options.payloadBytesMax, view);
    const problem =
      typeof read === "string" ? read : read.walIndex !== expected ? "index_gap" : null;
    if (problem !== null || typeof read === "string") {
      const zeroTail = isZero(bytes, offset, bytes.length);
      const found = zeroTail
        ? null
        : resync(bytes, offset, bytes.length, expected - 1, options.payloadBytesMax);
      scan.damage = {
        offsetBytes: offset,
        problem: problem ?? "index_gap",
        zeroTail,
        resync: found,
      };
      break;
    }
    batch.push(read);
    offset = read.endOffset;
    expected++;
    if (read.type === FRAME_TYPE_RECORD_LAST) {
      scan.recordCount += batch.length;
      scan.lastIndex = read.walIndex;
      scan.lastWallMs = read.wallMs;
      scan.completeEndBytes = offset;
      options.onBatch?.(batch);
      if (options.onBatchSteps !== undefined) yield* options.onBatchSteps(batch);
      batch = [];
      yield;
      if (options.stopAfterIndex !== undefined && scan.lastIndex >= options.stopAfterIndex) break;
    }
  }
  scan.incompleteCount = batch.length;
  return scan;
}

/** A segment file found in the WAL directory. */
export interface SegmentFile {
  firstIndex: number;
  path: string;
}

/** The segment files of `walDir`, ordered by first index; other files are ignored. */
export function listSegments(walDir: string): SegmentFile[] {
  const out: SegmentFile[] = [];
  for (const name of fs.readdirSync(walDir)) {
    const firstIndex = parseSegmentFileName(name);
    if (firstIndex !== null) out.push({ firstIndex, path: path.join(walDir, name) });
  }
  return out.sort((a, b) => a.firstIndex - b.firstIndex);
}
