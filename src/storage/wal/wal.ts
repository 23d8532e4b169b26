/**
 * The write-ahead log: segment files, group commit, rotation, reads and subscriptions.
 *
 * Its public face is deliberately narrow (`append`, `read`, `subscribe`, plus `sync` and `close`)
 * so that another ordered log (a NATS JetStream stream) could stand in for it (ARCHITECTURE.md,
 * "Beyond one machine"). One writer loop owns the file: appends queue, the loop takes every
 * queued batch (bounded by `groupBytesMax` and the room left in the segment), writes them with
 * one write, fsyncs once under the policy, hands the records to `onCommit`, then resolves.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { assert, VltairError } from "../../core/mod.ts";
import { storageUnavailable } from "../errors.ts";
import { fsyncDir, type WalFileIo } from "../io.ts";
import type { FsyncPolicy, StorageLimits, StorageLog } from "../options.ts";
import { MACHINE_NAME_PATTERN, payloadBytesMaxOf } from "./frame.ts";
import {
  type AppendResult,
  batchSizeBytes,
  buildGroup,
  type CommittedRecord,
  type QueuedBatch,
  type QueuedRecord,
} from "./group-commit.ts";
import { scanLog } from "./scan-log.ts";
import { type SegmentFile, segmentFileName } from "./segment.ts";

/**
 * The active segment grows in zero-filled steps of this size, written together with the group
 * that crosses the end of the file. Later groups overwrite already allocated zeros, and on ext4
 * and most file systems an fdatasync of an overwrite need not commit a metadata change, which
 * is 1.3-1.7x cheaper (measured here: about 4,000/s appending vs 5,100-7,700/s overwriting).
 */
export const EXTEND_BYTES = 4 * 1024 * 1024;

/** One record handed to {@link Wal.append}. */
export interface WalAppendInput {
  machine: string;
  body: Uint8Array;
  wallMs: number;
}

/** Options of {@link openWal}. */
export interface WalOptions {
  walDir: string;
  fsync: FsyncPolicy;
  limits: StorageLimits;
  io: WalFileIo;
  log: StorageLog;
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

/** What {@link Wal} starts from: the files found by `openWal` and the end of the log. */
export interface WalState {
  segments: SegmentFile[];
  fd: number;
  sizeBytes: number;
  fileBytes: number;
  lastIndex: number;
  lastWallMs: number;
}

type Listener = (records: readonly CommittedRecord[]) => void;

/**
 * The read side of the log that other components may hold (followers, exporters, a future
 * replicated log): ordered reads and subscriptions by index, nothing that writes or deletes.
 */
export interface LogReader {
  readonly firstIndex: number;
  readonly lastIndex: number;
  read(fromIndex: number, options: { limit: number; toIndex?: number }): CommittedRecord[];
  subscribe(fromIndex: number, listener: (records: readonly CommittedRecord[]) => void): () => void;
}

/** The open log. Create with {@link openWal}. */
export class Wal implements LogReader {
  /** Called with each group's records, in index order, after they are durable and before appends resolve. */
  onCommit: (records: readonly CommittedRecord[]) => void = () => {};
  private readonly options: WalOptions;
  private readonly segments: SegmentFile[];
  private fd: number;
  private sizeBytes: number;
  /** Physical size of the active segment file: `sizeBytes` plus zero fill ahead of it. */
  private fileBytes: number;
  /** False after a zero fill failed (disk nearly full) until the next segment. */
  private zeroFill = true;
  private last: number;
  private lastWallMs: number;
  private queue: QueuedBatch[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | null = null;
  private dirty = false;
  private syncing: Promise<void> | null = null;
  private needsTruncate = false;
  private failure: unknown = null;
  private closed = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly listeners = new Set<Listener>();
  private appendedBytes = 0;

  constructor(options: WalOptions, state: WalState) {
    this.options = options;
    this.segments = state.segments;
    this.fd = state.fd;
    this.sizeBytes = state.sizeBytes;
    this.fileBytes = state.fileBytes;
    this.last = state.lastIndex;
    this.lastWallMs = state.lastWallMs;
    const policy = options.fsync;
    if (policy.kind === "interval") {
      this.timer = setInterval(() => void this.syncIfDirty(), policy.intervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Index of the last committed record (0 for an empty log). */
  get lastIndex(): number {
    return this.last;
  }

  /** Index of the first record still held in segment files. */
  get firstIndex(): number {
    return (this.segments[0] as SegmentFile).firstIndex;
  }

  /** Wall clock of the last committed record (0 for an empty log). */
  get lastWallMsValue(): number {
    return this.lastWallMs;
  }

  /** Total bytes committed since this log was opened. */
  get committedBytes(): number {
    return this.appendedBytes;
  }

  /**
   * Appends one batch; resolves with its indexes once it is durable under the fsync policy.
   * The batch is all-or-nothing on disk. Rejects with `unavailable` on I/O failure (the log stays
   * valid), `queue_full` when the writer is too far behind, `payload_too_large`/`bad_request` on bad input.
   */
  append(inputs: readonly WalAppendInput[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(storageUnavailable("closed", "the WAL is closed"));
    if (this.failure !== null) {
      return Promise.reject(
        storageUnavailable("failed", "the WAL stopped after a failed apply", {
          cause: this.failure,
        }),
      );
    }
    const limits = this.options.limits;
    if (inputs.length < 1 || inputs.length > limits.batchRecordsMax) {
      return Promise.reject(
        new VltairError("bad_request", `a batch holds 1..${limits.batchRecordsMax} records`, {
          details: { records: inputs.length, limit: limits.batchRecordsMax },
        }),
      );
    }
    let records: QueuedRecord[];
    try {
      records = inputs.map((input) => this.queued(input));
    } catch (error) {
      return Promise.reject(error);
    }
    const sizeBytes = batchSizeBytes(records);
    if (sizeBytes > limits.segmentBytes || sizeBytes > limits.groupBytesMax) {
      return Promise.reject(
        new VltairError("payload_too_large", "the batch is larger than one WAL group", {
          details: {
            size_bytes: sizeBytes,
            limit_bytes: Math.min(limits.segmentBytes, limits.groupBytesMax),
          },
        }),
      );
    }
    if (this.queuedBytes + sizeBytes > limits.queueBytesMax) {
      return Promise.reject(
        new VltairError("queue_full", "the WAL writer queue is full", {
          details: { queued_bytes: this.queuedBytes, limit_bytes: limits.queueBytesMax },
          headers: { "Retry-After": "1" },
        }),
      );
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ records, sizeBytes, resolve, reject });
      this.queuedBytes += sizeBytes;
      this.flushing ??= this.flushLoop();
    });
  }

  private queued(input: WalAppendInput): QueuedRecord {
    if (input.body.length > this.options.limits.recordBytesMax) {
      throw new VltairError("payload_too_large", "record body exceeds recordBytesMax", {
        details: { size_bytes: input.body.length, limit_bytes: this.options.limits.recordBytesMax },
      });
    }
    assert(
      Number.isSafeInteger(input.wallMs) && input.wallMs >= 0,
      "wallMs is a safe integer >= 0",
    );
    return {
      machine: input.machine,
      nameBytes: nameBytesOf(input.machine),
      body: input.body,
      wallMs: input.wallMs,
    };
  }

  private async flushLoop(): Promise<void> {
    try {
      // Each turn removes at least one batch, so the loop is bounded by the queue length.
      while (this.queue.length > 0) {
        const group = this.takeGroup();
        await this.commitGroup(group);
      }
    } finally {
      this.flushing = null;
    }
  }

  private takeGroup(): QueuedBatch[] {
    const limits = this.options.limits;
    const room = limits.segmentBytes - this.sizeBytes;
    const first = this.queue[0] as QueuedBatch;
    const budget = first.sizeBytes > room ? limits.segmentBytes : room;
    let count = 0;
    let size = 0;
    while (count < this.queue.length) {
      const next = this.queue[count] as QueuedBatch;
      const over = size + next.sizeBytes > budget || size + next.sizeBytes > limits.groupBytesMax;
      if (count > 0 && over) break;
      size += next.sizeBytes;
      count++;
    }
    this.queuedBytes -= size;
    return this.queue.splice(0, count);
  }

  private async commitGroup(group: QueuedBatch[]): Promise<void> {
    const fail = (error: unknown) => {
      const wrapped =
        error instanceof VltairError
          ? error
          : storageUnavailable("io_failed", `WAL append failed: ${String(error)}`, {
              cause: error,
            });
      for (const b of group) b.reject(wrapped);
    };
    if (this.failure !== null) {
      fail(
        storageUnavailable("failed", "the WAL stopped after a failed apply", {
          cause: this.failure,
        }),
      );
      return;
    }
    try {
      if (this.needsTruncate) await this.restoreEnd();
      const size = group.reduce((n, b) => n + b.sizeBytes, 0);
      if (this.sizeBytes > 0 && this.sizeBytes + size > this.options.limits.segmentBytes)
        await this.rotate();
    } catch (error) {
      fail(error);
      return;
    }
    const built = buildGroup(group, this.last + 1, this.lastWallMs);
    let written = this.withZeroFill(built.bytes);
    try {
      written = await this.writeGroup(built.bytes, written);
      if (this.options.fsync.kind === "always") {
        const io = this.options.io;
        if (group.length === 1 && io.datasyncNow !== undefined) io.datasyncNow(this.fd);
        else await io.datasync(this.fd);
      }
    } catch (error) {
      this.needsTruncate = true;
      await this.restoreEnd().catch((e: unknown) =>
        this.options.log("error", "wal.truncate_failed", { error: String(e) }),
      );
      this.options.log("error", "wal.append_failed", {
        error: String(error),
        records: built.records.length,
      });
      fail(error);
      return;
    }
    this.sizeBytes += built.bytes.length;
    this.fileBytes = Math.max(this.fileBytes, this.sizeBytes + written.length - built.bytes.length);
    this.appendedBytes += built.bytes.length;
    this.last += built.records.length;
    this.lastWallMs = built.lastWallMs;
    if (this.options.fsync.kind !== "always") this.dirty = true;
    try {
      this.onCommit(built.records);
    } catch (error) {
      this.failure = error;
      this.options.log("error", "wal.apply_failed", {
        error: String(error),
        last_index: this.last,
      });
      fail(new VltairError("internal", "applying committed records failed", { cause: error }));
      return;
    }
    for (let i = 0; i < group.length; i++)
      (group[i] as QueuedBatch).resolve(built.results[i] as AppendResult);
    for (const listener of this.listeners) {
      try {
        listener(built.records);
      } catch (error) {
        this.options.log("error", "wal.subscriber_failed", { error: String(error) });
      }
    }
  }

  /**
   * When `bytes` would end past the file, returns them followed by zeros up to the next
   * {@link EXTEND_BYTES} step (bounded by the segment size), so one write both appends and
   * allocates ahead; otherwise returns `bytes` unchanged.
   */
  private withZeroFill(bytes: Uint8Array): Uint8Array {
    const end = this.sizeBytes + bytes.length;
    if (!this.zeroFill || end <= this.fileBytes) return bytes;
    const target = Math.min(
      this.options.limits.segmentBytes,
      Math.ceil(end / EXTEND_BYTES) * EXTEND_BYTES,
    );
    if (target <= end) return bytes;
    const padded = new Uint8Array(target - this.sizeBytes);
    padded.set(bytes);
    return padded;
  }

  /**
   * Writes a group (with its zero fill when there is one). Zero fill is best effort: when that
   * write fails (a nearly full disk), the file is cut back and the group alone is written, and
   * the segment grows without fill until the next rotation. Returns what was written.
   */
  private async writeGroup(group: Uint8Array, padded: Uint8Array): Promise<Uint8Array> {
    try {
      await this.options.io.write(this.fd, padded, this.sizeBytes);
      return padded;
    } catch (error) {
      if (padded === group) throw error;
      this.options.log("warn", "wal.zero_fill_failed", { error: String(error) });
      this.zeroFill = false;
      await this.restoreEnd();
      await this.options.io.write(this.fd, group, this.sizeBytes);
      return group;
    }
  }

  /** Cuts the active segment back to its last committed byte after a failed write or fsync. */
  private async restoreEnd(): Promise<void> {
    await this.options.io.truncate(this.fd, this.sizeBytes);
    await this.options.io.datasync(this.fd);
    this.fileBytes = this.sizeBytes;
    this.needsTruncate = false;
  }

  private async rotate(): Promise<void> {
    await this.syncIfDirty();
    const firstIndex = this.last + 1;
    const file = { firstIndex, path: path.join(this.options.walDir, segmentFileName(firstIndex)) };
    const fd = await this.options.io.open(file.path);
    try {
      await this.options.io.truncate(fd, 0);
      fsyncDir(this.options.walDir);
    } catch (error) {
      await this.options.io.close(fd).catch(() => undefined);
      throw error;
    }
    const old = this.fd;
    const oldSizeBytes = this.sizeBytes;
    this.fd = fd;
    this.sizeBytes = 0;
    this.fileBytes = 0;
    this.zeroFill = true;
    this.segments.push(file);
    // The zero fill past the old segment's records is no longer needed; losing this trim in a
    // crash is harmless (a zero tail reads as the end of a segment).
    await this.options.io.truncate(old, oldSizeBytes).catch((error: unknown) => {
      this.options.log("warn", "wal.trim_failed", { error: String(error) });
    });
    await this.options.io.close(old);
    this.options.log("debug", "wal.segment_rotated", { first_index: firstIndex });
  }

  private async syncIfDirty(): Promise<void> {
    // Bounded: each wait ends one in-flight fsync, and only this method starts one.
    while (this.syncing) await this.syncing;
    if (!this.dirty) return;
    this.dirty = false;
    this.syncing = this.options.io.datasync(this.fd).catch((error: unknown) => {
      this.dirty = true;
      this.options.log("error", "wal.fsync_failed", { error: String(error) });
    });
    await this.syncing;
    this.syncing = null;
  }

  /** Makes every record committed so far durable whatever the policy (does not wait for the queue). */
  async syncWritten(): Promise<void> {
    await this.syncIfDirty();
  }

  /** Waits for queued appends, then makes everything written durable whatever the policy. */
  async sync(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.syncIfDirty();
  }

  /**
   * Reads committed records from `fromIndex` (inclusive), at most `limit`, from the segment files.
   *
   * @example
   * ```ts
   * const records = wal.read(1, { limit: 100 });
   * ```
   */
  read(fromIndex: number, options: { limit: number; toIndex?: number }): CommittedRecord[] {
    assert(options.limit >= 1, "read limit >= 1");
    const toIndex = Math.min(options.toIndex ?? this.last, this.last);
    const out: CommittedRecord[] = [];
    if (fromIndex > toIndex) return out;
    const stopAt = Math.min(toIndex, fromIndex + options.limit - 1);
    scanLog(this.options.walDir, {
      payloadBytesMax: payloadBytesMaxOf(this.options.limits),
      fromIndex,
      toIndex: stopAt,
      onBatch(frames) {
        for (const f of frames) {
          if (f.walIndex < fromIndex || f.walIndex > stopAt) continue;
          out.push({
            walIndex: f.walIndex,
            wallMs: f.wallMs,
            machine: f.machine,
            body: f.body.slice(),
          });
        }
      },
    });
    return out;
  }

  /**
   * Calls `listener` with every record from `fromIndex` on: first those already in the log, then
   * each new group as it commits. Returns a function that ends the subscription.
   *
   * @example
   * ```ts
   * const stop = wal.subscribe(1, (records) => console.log(records.length));
   * ```
   */
  subscribe(fromIndex: number, listener: Listener): () => void {
    let next = fromIndex;
    const catchUpLimit = 4096;
    // Bounded by the log length at subscription time divided by the page size.
    while (next <= this.last) {
      const page = this.read(next, { limit: catchUpLimit });
      if (page.length === 0) break;
      listener(page);
      next = (page.at(-1) as CommittedRecord).walIndex + 1;
    }
    const live: Listener = (records) => {
      const fresh = records.filter((r) => r.walIndex >= next);
      if (fresh.length === 0) return;
      next = (fresh.at(-1) as CommittedRecord).walIndex + 1;
      listener(fresh);
    };
    this.listeners.add(live);
    return () => this.listeners.delete(live);
  }

  /** Segment files whose every record is at or below `walIndex` (never the active one). */
  segmentsCoveredBy(walIndex: number): SegmentFile[] {
    const out: SegmentFile[] = [];
    for (let i = 0; i + 1 < this.segments.length; i++) {
      const next = this.segments[i + 1] as SegmentFile;
      if (next.firstIndex - 1 <= walIndex) out.push(this.segments[i] as SegmentFile);
    }
    return out;
  }

  /** Deletes the segments wholly covered by `walIndex`; returns how many were removed. */
  removeSegmentsThrough(walIndex: number): number {
    const covered = this.segmentsCoveredBy(walIndex);
    for (const s of covered) fs.rmSync(s.path, { force: true });
    if (covered.length > 0) fsyncDir(this.options.walDir);
    this.segments.splice(0, covered.length);
    return covered.length;
  }

  /** Drains the queue, makes the log durable, closes the file. Later appends fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.listeners.clear();
    await this.options.io.datasync(this.fd).catch((error: unknown) => {
      this.options.log("error", "wal.fsync_failed", { error: String(error) });
    });
    await this.options.io.close(this.fd);
  }
}
