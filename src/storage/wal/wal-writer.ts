/**
 * The write side of the log: group commit, segment rolling, the fsync policy and truncation.
 * One writer loop owns the active segment (segment-writer.ts): appends queue, the loop takes
 * every queued batch (bounded by `groupBytesMax` and the room left in the segment), writes them
 * with one write, fsyncs once under the policy, reports the records as committed (the owner
 * applies them), resolves the appends, then reports them as published (the owner hands them to
 * subscribers, log-reader.ts).
 */
import { VltairError } from "../../core/mod.ts";
import { storageUnavailable } from "../errors.ts";
import type { WalFileIo } from "../io.ts";
import type { FsyncPolicy, StorageLimits, StorageLog } from "../options.ts";
import {
  type AppendResult,
  buildGroup,
  type CommittedRecord,
  checkBatch,
  GroupScratch,
  type QueuedBatch,
  type WalAppendInput,
  type WalAppendOptions,
} from "./group-commit.ts";
import type { SegmentFile } from "./segment.ts";
import { SegmentWriter } from "./segment-writer.ts";

/**
 * A lone batch syncs on the calling thread (cheaper than the thread pool's round trip, ADR
 * 0002) only after this many quiet groups in a row, and then every `PROBE_EVERY`-th still syncs
 * off the thread: a sync on the thread blocks the appends that would otherwise queue behind it,
 * so only a sync off it can notice that writers overlap again (ADR 0020).
 */
const QUIET_GROUPS_MIN = 8;
const PROBE_EVERY = 16;

/** Options of `openWal`: the log's directory, fsync policy, limits, file I/O and log. */
export interface WalOptions {
  walDir: string;
  fsync: FsyncPolicy;
  limits: StorageLimits;
  io: WalFileIo;
  log: StorageLog;
}

/** What the log starts from: the files found by `openWal` and the end of the log. */
export interface WalState {
  segments: SegmentFile[];
  fd: number;
  sizeBytes: number;
  fileBytes: number;
  lastIndex: number;
  lastWallMs: number;
}

/**
 * What the writer reports to its owner, per group in this order: `committed` once the group is
 * durable under the policy and before its appends resolve (a throw stops the log: later appends
 * fail with `unavailable`), `published` after they resolved; `closed` once, when appends start
 * being refused.
 */
export interface WalWriterEvents {
  committed(records: readonly CommittedRecord[]): void;
  published(records: readonly CommittedRecord[]): void;
  closed(): void;
}

/** The log's writer. Owned by `Wal` (wal.ts), which adds the read side. */
export class WalWriter {
  private readonly options: WalOptions;
  private readonly events: WalWriterEvents;
  private readonly files: SegmentWriter;
  private last: number;
  private lastWallMs: number;
  private queue: QueuedBatch[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | null = null;
  private dirty = false;
  private syncing: Promise<void> | null = null;
  private failure: unknown = null;
  private closed = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private appendedBytes = 0;
  /** Frames of one group at a time: `commitGroup` calls never overlap (`flushLoop`). */
  private readonly groupScratch = new GroupScratch();
  /**
   * Groups in a row that were one batch with nothing queued behind when they finished. Below
   * `QUIET_GROUPS_MIN` appends overlap lately, and a lone batch syncs off the thread too, so
   * that the appends arriving meanwhile can queue behind it.
   */
  private quietGroups = 0;
  /** Lone batches synced on the thread; every `PROBE_EVERY`-th syncs off it to look for overlap. */
  private loneSyncs = 0;

  constructor(options: WalOptions, state: WalState, events: WalWriterEvents) {
    this.options = options;
    this.events = events;
    this.files = new SegmentWriter(
      {
        walDir: options.walDir,
        segmentBytes: options.limits.segmentBytes,
        io: options.io,
        log: options.log,
      },
      state,
    );
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
    return this.files.firstIndex;
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
  append(inputs: readonly WalAppendInput[], options: WalAppendOptions = {}): Promise<AppendResult> {
    let checked: ReturnType<typeof checkBatch>;
    try {
      if (this.closed) throw storageUnavailable("closed", "the WAL is closed");
      if (this.failure !== null) {
        throw storageUnavailable("failed", "the WAL stopped after a failed apply", {
          cause: this.failure,
        });
      }
      checked = checkBatch(inputs, this.options.limits, this.queuedBytes);
    } catch (error) {
      this.settle(options, false);
      return Promise.reject(error);
    }
    const { records, sizeBytes } = checked;
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ records, sizeBytes, resolve, reject, ...options });
      this.queuedBytes += sizeBytes;
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      // Each turn removes at least one batch, so the loop is bounded by the queue length.
      while (this.queue.length > 0) {
        const group = this.takeGroup();
        if (group.length > 0) await this.commitGroup(group);
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Takes the next group off the queue, in order. A batch whose dependency failed (`valid`
   * false) is refused on the way, so a later batch that depends on it sees it refused.
   */
  private takeGroup(): QueuedBatch[] {
    const limits = this.options.limits;
    const group: QueuedBatch[] = [];
    let budget = 0;
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as QueuedBatch;
      if (next.valid !== undefined && !next.valid()) {
        this.queue.shift();
        this.queuedBytes -= next.sizeBytes;
        this.settle(next, false);
        next.reject(
          storageUnavailable(
            "dependency_failed",
            "an earlier write this one builds on failed; retry it",
          ),
        );
        continue;
      }
      if (group.length === 0) {
        const room = limits.segmentBytes - this.files.sizeBytes;
        budget = next.sizeBytes > room ? limits.segmentBytes : room;
      }
      const over = size + next.sizeBytes > budget || size + next.sizeBytes > limits.groupBytesMax;
      if (group.length > 0 && over) break;
      this.queue.shift();
      this.queuedBytes -= next.sizeBytes;
      size += next.sizeBytes;
      group.push(next);
    }
    return group;
  }

  /** Tells a batch's owner whether it was applied; an owner's throw is logged, never spread. */
  private settle(batch: WalAppendOptions, applied: boolean): void {
    if (batch.settled === undefined) return;
    try {
      batch.settled(applied);
    } catch (error) {
      this.options.log("error", "wal.settle_failed", { error: String(error) });
    }
  }

  /** Syncs a lone batch on this thread, unless appends overlap lately (or it is time to probe). */
  private syncsHere(group: readonly QueuedBatch[]): boolean {
    if (group.length !== 1 || this.quietGroups < QUIET_GROUPS_MIN) return false;
    this.loneSyncs += 1;
    return this.loneSyncs % PROBE_EVERY !== 0;
  }

  private async commitGroup(group: QueuedBatch[]): Promise<void> {
    const fail = (error: unknown) => {
      const wrapped =
        error instanceof VltairError
          ? error
          : storageUnavailable("io_failed", `WAL append failed: ${String(error)}`, {
              cause: error,
            });
      for (const b of group) {
        this.settle(b, false);
        b.reject(wrapped);
      }
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
      await this.files.restoreIfTorn();
      const size = group.reduce((n, b) => n + b.sizeBytes, 0);
      const sizeBytes = this.files.sizeBytes;
      if (sizeBytes > 0 && sizeBytes + size > this.options.limits.segmentBytes) await this.rotate();
    } catch (error) {
      fail(error);
      return;
    }
    const built = buildGroup(group, this.last + 1, this.lastWallMs, this.groupScratch);
    let writtenBytes: number;
    try {
      writtenBytes = await this.files.write(built.bytes);
      if (this.options.fsync.kind === "always") {
        // A lone append syncs on this thread when appends do not overlap (ADR 0002, 0020).
        if (!(this.syncsHere(group) && this.files.datasyncNow())) await this.files.datasync();
      }
    } catch (error) {
      await this.files
        .cutBack()
        .catch((e: unknown) =>
          this.options.log("error", "wal.truncate_failed", { error: String(e) }),
        );
      this.options.log("error", "wal.append_failed", {
        error: String(error),
        records: built.records.length,
      });
      fail(error);
      return;
    }
    this.files.commit(built.bytes.length, writtenBytes);
    this.appendedBytes += built.bytes.length;
    this.last += built.records.length;
    this.lastWallMs = built.lastWallMs;
    if (this.options.fsync.kind !== "always") this.dirty = true;
    try {
      this.events.committed(built.records);
    } catch (error) {
      this.failure = error;
      this.options.log("error", "wal.apply_failed", {
        error: String(error),
        last_index: this.last,
      });
      fail(new VltairError("internal", "applying committed records failed", { cause: error }));
      return;
    }
    this.quietGroups = group.length > 1 || this.queue.length > 0 ? 0 : this.quietGroups + 1;
    for (let i = 0; i < group.length; i++) {
      const batch = group[i] as QueuedBatch;
      this.settle(batch, true);
      batch.resolve(built.results[i] as AppendResult);
    }
    this.events.published(built.records);
  }

  private async rotate(): Promise<void> {
    await this.syncIfDirty();
    await this.files.rotate(this.last + 1);
  }

  private async syncIfDirty(): Promise<void> {
    // Bounded: each wait ends one in-flight fsync, and only this method starts one.
    while (this.syncing) await this.syncing;
    if (!this.dirty) return;
    this.dirty = false;
    this.syncing = this.files.datasync().catch((error: unknown) => {
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

  /** Deletes the segments wholly covered by `walIndex`; returns how many were removed. */
  removeSegmentsThrough(walIndex: number): number {
    return this.files.removeThrough(walIndex);
  }

  /** Drains the queue, makes the log durable, closes the file. Later appends fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.events.closed();
    await this.files.close();
  }
}
