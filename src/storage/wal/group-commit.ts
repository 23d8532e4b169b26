/**
 * Group commit, the pure half: turns queued append batches into one contiguous buffer of frames
 * with consecutive indexes, so one write and one fsync cover every writer waiting at that moment.
 */
import { assert } from "../../core/mod.ts";
import { FRAME_TYPE_RECORD, FRAME_TYPE_RECORD_LAST, frameSizeBytes, writeFrame } from "./frame.ts";

/** One record as queued: machine name bytes, encoded body and its wall clock. */
export interface QueuedRecord {
  machine: string;
  nameBytes: Uint8Array;
  body: Uint8Array;
  wallMs: number;
}

/** One append call waiting for the writer. */
export interface QueuedBatch {
  records: QueuedRecord[];
  sizeBytes: number;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** What an append resolves to once its batch is durable: the indexes it received. */
export interface AppendResult {
  firstIndex: number;
  lastIndex: number;
}

/** A record as committed: what state machines and subscribers receive. */
export interface CommittedRecord {
  walIndex: number;
  wallMs: number;
  machine: string;
  body: Uint8Array;
  /** The body array the append was given (the group buffer holds a copy): the key under which the appender may keep the decoded value. */
  appended?: Uint8Array;
}

/** The bytes of one group and what they hold. */
export interface GroupBuffer {
  bytes: Uint8Array;
  records: CommittedRecord[];
  results: AppendResult[];
  lastWallMs: number;
}

/** Size on disk of a batch. */
export function batchSizeBytes(records: readonly QueuedRecord[]): number {
  let size = 0;
  for (const r of records) size += frameSizeBytes(r.nameBytes.length, r.body.length);
  return size;
}

/**
 * Encodes `batches` starting at `firstIndex`. Wall clocks never go backwards: a record's
 * `wallMs` is raised to the previous record's, so replay "up to a time" is a prefix of the log.
 *
 * @example
 * ```ts
 * const group = buildGroup(batches, 42, lastWallMs);
 * ```
 */
export function buildGroup(
  batches: readonly QueuedBatch[],
  firstIndex: number,
  previousWallMs: number,
): GroupBuffer {
  let total = 0;
  for (const b of batches) total += b.sizeBytes;
  const bytes = new Uint8Array(total);
  const records: CommittedRecord[] = [];
  const results: AppendResult[] = [];
  let offset = 0;
  let walIndex = firstIndex;
  let wallMs = previousWallMs;
  for (const batch of batches) {
    assert(batch.records.length >= 1, "a batch holds at least one record");
    const batchFirst = walIndex;
    for (let i = 0; i < batch.records.length; i++) {
      const r = batch.records[i] as QueuedRecord;
      wallMs = Math.max(wallMs, r.wallMs);
      const type = i === batch.records.length - 1 ? FRAME_TYPE_RECORD_LAST : FRAME_TYPE_RECORD;
      const start = offset;
      offset = writeFrame(bytes, offset, {
        type,
        walIndex,
        wallMs,
        nameBytes: r.nameBytes,
        body: r.body,
      });
      records.push({
        walIndex,
        wallMs,
        machine: r.machine,
        body: bytes.subarray(offset - r.body.length, offset),
        appended: r.body,
      });
      assert(offset - start === frameSizeBytes(r.nameBytes.length, r.body.length), "frame size");
      walIndex++;
    }
    results.push({ firstIndex: batchFirst, lastIndex: walIndex - 1 });
  }
  assert(offset === total, "group buffer filled exactly");
  return { bytes, records, results, lastWallMs: wallMs };
}
