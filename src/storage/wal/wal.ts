/**
 * The write-ahead log: the writer (wal-writer.ts: group commit, segment rolling, the fsync
 * policy, truncation) and the reader (log-reader.ts: ordered reads and subscriptions) over the
 * same segment files.
 *
 * Its public face is deliberately narrow (`append`, the {@link LogReader} side `read`,
 * `subscribe`, `firstIndex`, `lastIndex`, plus `sync` and `close`) so that another ordered log
 * (a NATS JetStream stream) could stand in for it (ARCHITECTURE.md, "Beyond one machine"): a
 * replicated log replaces both halves, and nothing outside storage sees more than `LogReader`.
 */

import { payloadBytesMaxOf } from "./frame.ts";
import type {
  AppendResult,
  CommittedRecord,
  WalAppendInput,
  WalAppendOptions,
} from "./group-commit.ts";
import { type LogListener, type LogReader, SegmentLogReader } from "./log-reader.ts";
import { type WalOptions, type WalState, WalWriter } from "./wal-writer.ts";

/** The open log. Create with `openWal`. */
export class Wal implements LogReader {
  /** Called with each group's records, in index order, after they are durable and before appends resolve. */
  onCommit: (records: readonly CommittedRecord[]) => void = () => {};
  /**
   * Called with a group's records once they are written, applied and published, when no
   * subscriber received them: nothing reads their bodies any more.
   */
  onReleased: (records: readonly CommittedRecord[]) => void = () => {};
  private readonly writer: WalWriter;
  private readonly reader: SegmentLogReader;

  constructor(options: WalOptions, state: WalState) {
    this.writer = new WalWriter(options, state, {
      committed: (records) => this.onCommit(records),
      published: (records) => {
        if (!this.reader.publish(records)) this.onReleased(records);
      },
      closed: () => this.reader.close(),
    });
    this.reader = new SegmentLogReader(
      {
        walDir: options.walDir,
        payloadBytesMax: payloadBytesMaxOf(options.limits),
        log: options.log,
      },
      this.writer,
    );
  }

  /** Index of the last committed record (0 for an empty log). */
  get lastIndex(): number {
    return this.writer.lastIndex;
  }

  /** Index of the first record still held in segment files. */
  get firstIndex(): number {
    return this.writer.firstIndex;
  }

  /** Wall clock of the last committed record (0 for an empty log). */
  get lastWallMsValue(): number {
    return this.writer.lastWallMsValue;
  }

  /** Total bytes committed since this log was opened. */
  get committedBytes(): number {
    return this.writer.committedBytes;
  }

  /**
   * Appends one batch; resolves with its indexes once it is durable under the fsync policy.
   * The batch is all-or-nothing on disk. Rejects with `unavailable` on I/O failure (the log stays
   * valid), `queue_full` when the writer is too far behind, `payload_too_large`/`bad_request` on bad input.
   */
  append(inputs: readonly WalAppendInput[], options: WalAppendOptions = {}): Promise<AppendResult> {
    return this.writer.append(inputs, options);
  }

  /** Makes every record committed so far durable whatever the policy (does not wait for the queue). */
  syncWritten(): Promise<void> {
    return this.writer.syncWritten();
  }

  /** Waits for queued appends, then makes everything written durable whatever the policy. */
  sync(): Promise<void> {
    return this.writer.sync();
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
    return this.reader.read(fromIndex, options);
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
  subscribe(fromIndex: number, listener: LogListener): () => void {
    return this.reader.subscribe(fromIndex, listener);
  }

  /** Deletes the segments wholly covered by `walIndex`; returns how many were removed. */
  removeSegmentsThrough(walIndex: number): number {
    return this.writer.removeSegmentsThrough(walIndex);
  }

  /** Drains the queue, makes the log durable, closes the file. Later appends fail with `unavailable`. */
  close(): Promise<void> {
    return this.writer.close();
  }
}
