/**
 * Group commit, the pure half: checks an append's records against the limits before they queue,
 * and turns queued append batches into one contiguous buffer of frames with consecutive
 * indexes, so one write and one fsync cover every writer waiting at that moment.
 */
import { assert, VltairError } from "../../core/mod.ts";
import type { StorageLimits } from "../options.ts";
import {
  FRAME_TYPE_RECORD,
  FRAME_TYPE_RECORD_LAST,
  frameSizeBytes,
  MACHINE_NAME_PATTERN,
  writeFrame,
} from "./frame.ts";

/** One record handed to `Wal.append`. */
export interface WalAppendInput {
  machine: string;
  body: Uint8Array;
  wallMs: number;
}

/** One record as queued: machine name bytes, encoded body and its wall clock. */
export interface QueuedRecord {
  machine: string;
  nameBytes: Uint8Array;
  body: Uint8Array;
  wallMs: number;
}

/**
 * How an append depends on appends queued before it (storage.ts, `CommitHook`): a batch whose
 * `valid` answers false when the writer reaches it is refused (`dependency_failed`) instead of
 * written; `settled` learns, synchronously and exactly once, whether the batch was applied
 * (true) or will never be (false), before its promise settles.
 */
export interface WalAppendOptions {
  valid?: () => boolean;
  settled?: (applied: boolean) => void;
}

/** One append call waiting for the writer. */
export interface QueuedBatch extends WalAppendOptions {
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

const nameCache = new Map<string, Uint8Array>();
function nameBytesOf(machine: string): Uint8Array {
  let bytes = nameCache.get(machine);
  if (bytes === undefined) {
    if (!MACHINE_NAME_PATTERN.test(machine)) {
      throw new VltairError("bad_request", `invalid machine name ${JSON.stringify(machine)}`);
    }
    bytes = new TextEncoder().encode(machine);
    if (nameCache.size < 1024) nameCache.set(machine, bytes);
  }
  return bytes;
}

/**
 * Checks one append call's records against `limits` and the writer's queue (`queuedBytes`
 * already waiting) and returns them ready to queue with their size on disk. Throws
 * `bad_request` (record count, machine name), `payload_too_large` (a record past
 * `recordBytesMax`, a batch larger than one group or segment) or `queue_full`.
 *
 * @example
 * ```ts
 * const { records, sizeBytes } = checkBatch(inputs, limits, queuedBytes);
 * ```
 */
export function checkBatch(
  inputs: readonly WalAppendInput[],
  limits: StorageLimits,
  queuedBytes: number,
): { records: QueuedRecord[]; sizeBytes: number } {
  if (inputs.length < 1 || inputs.length > limits.batchRecordsMax) {
    throw new VltairError("bad_request", `a batch holds 1..${limits.batchRecordsMax} records`, {
      details: { records: inputs.length, limit: limits.batchRecordsMax },
    });
  }
  const records = inputs.map((input) => queuedRecord(input, limits));
  const sizeBytes = batchSizeBytes(records);
  if (sizeBytes > limits.segmentBytes || sizeBytes > limits.groupBytesMax) {
    throw new VltairError("payload_too_large", "the batch is larger than one WAL group", {
      details: {
        size_bytes: sizeBytes,
        limit_bytes: Math.min(limits.segmentBytes, limits.groupBytesMax),
      },
    });
  }
  if (queuedBytes + sizeBytes > limits.queueBytesMax) {
    throw new VltairError("queue_full", "the WAL writer queue is full", {
      details: { queued_bytes: queuedBytes, limit_bytes: limits.queueBytesMax },
      headers: { "Retry-After": "1" },
    });
  }
  return { records, sizeBytes };
}

function queuedRecord(input: WalAppendInput, limits: StorageLimits): QueuedRecord {
  if (input.body.length > limits.recordBytesMax) {
    throw new VltairError("payload_too_large", "record body exceeds recordBytesMax", {
      details: { size_bytes: input.body.length, limit_bytes: limits.recordBytesMax },
    });
  }
  assert(Number.isSafeInteger(input.wallMs) && input.wallMs >= 0, "wallMs is a safe integer >= 0");
  return {
    machine: input.machine,
    nameBytes: nameBytesOf(input.machine),
    body: input.body,
    wallMs: input.wallMs,
  };
}

/**
 * Groups up to this size are framed in one buffer the writer keeps (a group of 500 code chunks
 * is ~1.5 MB): a fresh buffer per group is fresh pages, and on the project's VM each 4 KiB page
 * costs ~10 µs to fault in, ~0.8 faults per ingested chunk (ADR 0024). Larger groups get a
 * buffer of their own, so the writer never holds more than this between groups.
 */
export const GROUP_SCRATCH_BYTES_MAX = 16 * 1024 * 1024;

/**
 * The writer's reusable buffer for group frames. What {@link buildGroup} frames into it is
 * valid until the next group: committed records never point into it (their `body` is the
 * appended array), so the bytes only live until they are written.
 */
export class GroupScratch {
  #bytes = new Uint8Array(0);

  /** `sizeBytes` to frame into: the kept buffer when it fits under the cap, else a fresh one. */
  take(sizeBytes: number): Uint8Array {
    if (sizeBytes > GROUP_SCRATCH_BYTES_MAX) return new Uint8Array(sizeBytes);
    if (this.#bytes.length < sizeBytes) {
      const grown = Math.max(sizeBytes, this.#bytes.length * 2);
      this.#bytes = new Uint8Array(Math.min(GROUP_SCRATCH_BYTES_MAX, grown));
    }
    return this.#bytes.subarray(0, sizeBytes);
  }
}

/** Size on disk of a batch. */
export function batchSizeBytes(records: readonly QueuedRecord[]): number {
  let size = 0;
  for (const r of records) size += frameSizeBytes(r.nameBytes.length, r.body.length);
  return size;
}

/**
 * Encodes `batches` starting at `firstIndex`, into `scratch` when given (else a fresh buffer).
 * Wall clocks never go backwards: a record's `wallMs` is raised to the previous record's, so
 * replay "up to a time" is a prefix of the log. The records' bodies are the appended arrays,
 * not views of the group's bytes, so they stay valid when the scratch is reused.
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
  scratch?: GroupScratch,
): GroupBuffer {
  let total = 0;
  for (const b of batches) total += b.sizeBytes;
  const bytes = scratch === undefined ? new Uint8Array(total) : scratch.take(total);
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
        body: r.body,
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
