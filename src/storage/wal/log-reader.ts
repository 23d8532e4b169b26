/**
 * The read side of the log: ordered reads from an index and subscriptions. `LogReader` is the
 * narrow interface that components outside storage hold (`Storage.wal`: followers, exporters),
 * and the one a replicated log would implement to stand in for the segment files
 * (ARCHITECTURE.md, "Beyond one machine"). `SegmentLogReader` implements it over this
 * machine's segment files.
 */
import { assert } from "../../core/mod.ts";
import type { StorageLog } from "../options.ts";
import type { CommittedRecord } from "./group-commit.ts";
import { scanLog } from "./scan-log.ts";

/** Called with each run of records, in index order, with no gaps between calls. */
export type LogListener = (records: readonly CommittedRecord[]) => void;

/**
 * The log as a reader sees it: committed records in index order, read from an index or followed
 * from an index on, and where the log starts and ends. Nothing here writes or deletes.
 *
 * This is the seam for a replicated log: the contract is index order, no gap, no duplicate, and
 * a record at an index never changes. A NATS JetStream stream would implement it with stream
 * sequences as indexes: `read(fromIndex)` a bounded fetch starting at sequence `fromIndex`,
 * `subscribe(fromIndex)` an ordered consumer started at that sequence (catch-up, then live),
 * `lastIndex` the last sequence this node has committed, `firstIndex` the first one the stream
 * still retains. The state machines are pure, so every node folding the same records from the
 * same snapshot reaches the same state; nothing may reach past this interface to the files.
 *
 * @example
 * ```ts
 * const page = reader.read(reader.firstIndex, { limit: 100 });
 * const stop = reader.subscribe(reader.lastIndex + 1, (records) => forward(records));
 * stop();
 * ```
 */
export interface LogReader {
  /** Index of the first record still held (older ones are covered by snapshots). */
  readonly firstIndex: number;
  /** Index of the last committed record (0 for an empty log). */
  readonly lastIndex: number;
  /**
   * Committed records from `fromIndex` (inclusive), in index order: at most `limit` (>= 1), none
   * past `toIndex` (default and ceiling: `lastIndex`). Empty when `fromIndex` is past the end.
   */
  read(fromIndex: number, options: { limit: number; toIndex?: number }): CommittedRecord[];
  /**
   * Calls `listener` with every record from `fromIndex` on: first those already committed, then
   * each new group once its appends have resolved. Returns the function that ends it.
   */
  subscribe(fromIndex: number, listener: LogListener): () => void;
}

/** Options of {@link SegmentLogReader}. */
export interface SegmentLogReaderOptions {
  walDir: string;
  /** Frames longer than this are damage, never allocated (see `payloadBytesMaxOf`). */
  payloadBytesMax: number;
  log: StorageLog;
}

/** Records handed to a subscriber per call while it catches up with the committed log. */
const CATCH_UP_PAGE_RECORDS = 4096;

/**
 * A {@link LogReader} over the segment files of `walDir`. Its bounds come from the writer
 * (`ends`), which also hands it each committed group through {@link SegmentLogReader.publish}.
 */
export class SegmentLogReader implements LogReader {
  private readonly options: SegmentLogReaderOptions;
  private readonly ends: Pick<LogReader, "firstIndex" | "lastIndex">;
  private readonly listeners = new Set<LogListener>();

  constructor(options: SegmentLogReaderOptions, ends: Pick<LogReader, "firstIndex" | "lastIndex">) {
    this.options = options;
    this.ends = ends;
  }

  get firstIndex(): number {
    return this.ends.firstIndex;
  }

  get lastIndex(): number {
    return this.ends.lastIndex;
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
    const last = this.ends.lastIndex;
    const toIndex = Math.min(options.toIndex ?? last, last);
    const out: CommittedRecord[] = [];
    if (fromIndex > toIndex) return out;
    const stopAt = Math.min(toIndex, fromIndex + options.limit - 1);
    scanLog(this.options.walDir, {
      payloadBytesMax: this.options.payloadBytesMax,
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
  subscribe(fromIndex: number, listener: LogListener): () => void {
    let next = fromIndex;
    // Bounded by the log length at subscription time divided by the page size.
    while (next <= this.ends.lastIndex) {
      const page = this.read(next, { limit: CATCH_UP_PAGE_RECORDS });
      if (page.length === 0) break;
      listener(page);
      next = (page.at(-1) as CommittedRecord).walIndex + 1;
    }
    const live: LogListener = (records) => {
      const fresh = records.filter((r) => r.walIndex >= next);
      if (fresh.length === 0) return;
      next = (fresh.at(-1) as CommittedRecord).walIndex + 1;
      listener(fresh);
    };
    this.listeners.add(live);
    return () => this.listeners.delete(live);
  }

  /**
   * Hands a committed group to every subscriber. A subscriber that throws is logged and skipped:
   * the group is committed and applied whatever a follower does with it. Returns whether any
   * subscriber received the records (and may keep them).
   */
  publish(records: readonly CommittedRecord[]): boolean {
    // Counted as delivered before the call: a listener may unsubscribe while it runs.
    let delivered = false;
    for (const listener of this.listeners) {
      delivered = true;
      try {
        listener(records);
      } catch (error) {
        this.options.log("error", "wal.subscriber_failed", { error: String(error) });
      }
    }
    return delivered;
  }

  /** Ends every subscription (the log is closing). */
  close(): void {
    this.listeners.clear();
  }
}
