/**
 * Storage: the data directory's log folded into registered state machines.
 *
 * Appends are validated against the machine's schema, encoded, group-committed by the WAL and,
 * once durable, applied in index order by the single writer loop before the append resolves.
 * Snapshots are taken automatically by log size or time, and on request.
 */
import { assert, type Call, VltairError, type YieldingOptions } from "../core/mod.ts";
import { type CarriedMachine, encodeCarriedRecords } from "./carried.ts";
import type { DataDir } from "./data-dir.ts";
import { storageUnavailable } from "./errors.ts";
import { nodeWalIo, type WalFileIo } from "./io.ts";
import {
  type FsyncPolicy,
  parseFsyncPolicy,
  resolveLimits,
  type StorageLimits,
  type StorageLog,
  silentLog,
} from "./options.ts";
import { releaseBody } from "./record-body.ts";
import { type Recovered, type RecoveryReport, recover } from "./recovery.ts";
import { type ReplayResult, type ReplayTarget, replay } from "./replay.ts";
import {
  pruneSnapshots,
  type SnapshotFile,
  type SnapshotMachineToWrite,
  type SnapshotToWrite,
  writeSnapshot,
} from "./snapshot.ts";
import { MachineRegistry, type StateMachine } from "./state-machine.ts";
import type { AppendResult, CommittedRecord, WalAppendOptions } from "./wal/group-commit.ts";
import type { LogReader } from "./wal/log-reader.ts";
import type { Wal } from "./wal/wal.ts";

/** Options of {@link createStorage}. */
export interface StorageOptions {
  /** `always` (default), `interval:<ms>` or `none` (tests and benchmarks only). */
  fsync?: FsyncPolicy | string;
  limits?: Partial<StorageLimits>;
  /** `(level, event, fields)`; the foundation logger adapts to it. */
  log?: StorageLog;
  /** Clock (ms since epoch) stamped on records that carry no `wallMs`, and used for snapshot timing. */
  nowMs?: () => number;
  /** File operations of the write path; tests inject failures here. */
  io?: WalFileIo;
  /** Version of this binary, written into snapshots (names the writer in later refusals). */
  binaryVersion?: string;
  /**
   * Longest stretch of recovery work between two returns to the event loop, in ms (default 5):
   * the server answers `/v1/health` and `/v1/ready` while it recovers.
   */
  recoverySliceMs?: number;
  /** Monotonic clock (ms) that times recovery's slices. */
  monotonicMs?: () => number;
}

/** Default of {@link StorageOptions.recoverySliceMs}. */
export const RECOVERY_SLICE_MS_DEFAULT = 5;

/** One record to append: the machine it is for, its JSON body and, optionally, its time. */
export interface AppendInput {
  machine: string;
  body: unknown;
  /** When the command that made this record ran (ms since epoch); defaults to `nowMs()`. */
  wallMs?: number;
}

/** A registered machine: its live state, and records addressed to it. */
export interface MachineHandle<S, B> {
  readonly name: string;
  /** The live state (the fold of every committed record); only after recovery. */
  state(): S;
  /** A record of this machine for {@link Storage.commit}. */
  record(body: B, wallMs?: number): AppendInput;
}

/**
 * A pre-commit hook: sees the batch about to be committed and the call committing it; throws
 * to refuse the whole batch (fail closed), or returns records to add to it — as a list, or as a
 * {@link HookRecords} when the records build on earlier commits still in flight.
 */
export type CommitHook = (
  batch: readonly AppendInput[],
  call: Call,
) => readonly AppendInput[] | HookRecords | undefined;

/**
 * Records a hook adds that build on commits still in flight (e.g. an audit record linking to the
 * hash of one queued just before it): the log refuses the batch (`dependency_failed`) when
 * `valid` answers false as the writer reaches it — the commit it builds on failed — and
 * `settled` hears, synchronously and exactly once, whether the batch was applied.
 */
export interface HookRecords extends WalAppendOptions {
  records: readonly AppendInput[];
}

/** A record this process committed and applied, as {@link Storage.onApplied} hands it over. */
export interface CommittedValue {
  machine: string;
  walIndex: number;
  /** The record's body as appended (decoded, validated). */
  value: unknown;
}

/** Told of records after they are durable and applied; must not throw, must not append. */
export type AppliedListener = (records: readonly CommittedValue[]) => void;

/** What {@link Storage.takeSnapshot} wrote and cleaned. */
export interface SnapshotReport {
  walIndex: number;
  path: string;
  sizeBytes: number;
  snapshotsKept: number;
  segmentsRemoved: number;
}

function isRecordList(
  added: readonly AppendInput[] | HookRecords,
): added is readonly AppendInput[] {
  return Array.isArray(added);
}

/** A close snapshots once the tail since the last snapshot is 1/16 of `snapshotEveryBytes`… */
const CLOSE_SNAPSHOT_FRACTION = 16;
/** …and at least 1 MiB (a shorter tail replays in well under a second). */
const CLOSE_SNAPSHOT_BYTES_MIN = 1024 * 1024;

/** The dependency of a batch: every hook's `valid` must hold; each hook hears the outcome. */
function dependencyOf(dependent: readonly HookRecords[]): WalAppendOptions {
  if (dependent.length === 0) return {};
  return {
    valid: () => dependent.every((d) => d.valid?.() ?? true),
    settled: (applied) => {
      for (const d of dependent) d.settled?.(applied);
    },
  };
}

/** A record's time: the given one (a non-negative integer of ms) or the storage clock's. */
function wallMsOf(given: number | undefined, nowMs: () => number): number {
  const wallMs = given ?? Math.floor(nowMs());
  if (!Number.isSafeInteger(wallMs) || wallMs < 0) {
    throw new VltairError("bad_request", "wallMs must be a non-negative integer (ms since epoch)", {
      details: { wall_ms: given },
    });
  }
  return wallMs;
}

/**
 * Opens storage over an open data directory (which it then owns: `close` releases the lock).
 *
 * @example
 * ```ts
 * const storage = createStorage(openDataDir("./.vltair"), { fsync: "always" });
 * storage.register(counterMachine);
 * await storage.recover();
 * const { lastIndex } = await storage.append([{ machine: "counter", body: { add: 1 } }]);
 * await storage.close();
 * ```
 */
export function createStorage(dataDir: DataDir, options: StorageOptions = {}): Storage {
  return new Storage(dataDir, options);
}

/** The durable store. Create with {@link createStorage}; `register` every machine, then `recover`. */
export class Storage {
  private readonly dataDir: DataDir;
  private readonly registry = new MachineRegistry();
  private readonly limits: StorageLimits;
  private readonly fsync: FsyncPolicy;
  private readonly log: StorageLog;
  private readonly nowMs: () => number;
  private readonly io: WalFileIo;
  private readonly binaryVersion: string | null;
  private readonly yielding: YieldingOptions;
  private current: Wal | null = null;
  private states = new Map<string, unknown>();
  /** Machines this binary does not know, carried into every snapshot (carried.ts). */
  private carried = new Map<string, CarriedMachine>();
  private readonly hooks: { name: string; hook: CommitHook }[] = [];
  private readonly appliedListeners = new Set<AppliedListener>();
  private appliedIndex = 0;
  private appliedWallMs = 0;
  private snapshotBytesMark = 0;
  private lastSnapshotMs = 0;
  private snapshotting: Promise<SnapshotReport> | null = null;
  private closed = false;
  /** Values of records appended by this process, keyed by their encoded bytes, until applied. */
  private readonly appendedValues = new WeakMap<Uint8Array, { value: unknown }>();

  constructor(dataDir: DataDir, options: StorageOptions) {
    this.dataDir = dataDir;
    this.limits = resolveLimits(options.limits);
    this.fsync =
      typeof options.fsync === "string"
        ? parseFsyncPolicy(options.fsync)
        : (options.fsync ?? { kind: "always" });
    this.log = options.log ?? silentLog;
    this.nowMs = options.nowMs ?? Date.now;
    this.io = options.io ?? nodeWalIo;
    this.binaryVersion = options.binaryVersion ?? null;
    const sliceMs = options.recoverySliceMs ?? RECOVERY_SLICE_MS_DEFAULT;
    assert(Number.isFinite(sliceMs) && sliceMs >= 0, "recoverySliceMs >= 0");
    this.yielding = { sliceMs, monotonicMs: options.monotonicMs ?? (() => performance.now()) };
  }

  /**
   * Adds a state machine (only before {@link Storage.recover}) and returns its typed handle:
   * the machine's live state and records for {@link Storage.commit}, without casts.
   */
  register<S, B>(machine: StateMachine<S, B>): MachineHandle<S, B> {
    assert(this.current === null, "register state machines before recover()");
    this.registry.register(machine);
    const name = machine.name;
    return {
      name,
      state: () => this.#stateOf(name) as S,
      record: (body: B, wallMs?: number) =>
        wallMs === undefined ? { machine: name, body } : { machine: name, body, wallMs },
    };
  }

  /**
   * Adds a pre-commit hook; hooks run in the order they were added, on every
   * {@link Storage.commit}. The order the composition root adds them in is the contract:
   * policy, then budgets, then audit (ADR 0010).
   */
  addHook(name: string, hook: CommitHook): void {
    assert(!this.hooks.some((h) => h.name === name), "hook names are unique");
    this.hooks.push({ name, hook });
  }

  /**
   * Listens to the records this process commits, after each batch is durable and applied (live
   * updates: MCP resource notifications). Recovery replays do not call it. Returns the
   * function that stops listening. A listener that throws is logged and kept.
   */
  onApplied(listener: AppliedListener): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  /**
   * The one write path of every service: runs the pre-commit hooks in order over the batch
   * (each sees the records of the hooks before it and may add its own, e.g. an audit record),
   * then appends the whole batch atomically, with no wait in between: commits reach the log in
   * the order they were called, which is what lets a hook build on commits still in flight
   * ({@link HookRecords}). A hook that throws aborts the commit: nothing is appended, no state
   * changes. Resolves once the batch is durable and applied.
   */
  async commit(records: readonly AppendInput[], call: Call): Promise<AppendResult> {
    let batch: readonly AppendInput[] = records;
    const dependent: HookRecords[] = [];
    try {
      for (const { hook } of this.hooks) {
        const added = hook(batch, call);
        if (added === undefined) continue;
        let own: readonly AppendInput[];
        if (isRecordList(added)) own = added;
        else {
          dependent.push(added);
          own = added.records;
        }
        if (own.length > 0) batch = [...batch, ...own];
      }
    } catch (error) {
      for (const d of dependent) d.settled?.(false);
      throw error;
    }
    return this.append(batch, dependencyOf(dependent));
  }

  /**
   * Loads the newest valid snapshot, replays the log after it (cutting a torn tail), and opens
   * the log for appends. Throws `unavailable` (`wal_corrupt`, with what repair would do) when the
   * log is damaged before its tail.
   */
  async recover(): Promise<RecoveryReport> {
    assert(this.current === null, "recover() runs once");
    const walOptions = {
      walDir: this.dataDir.walDir,
      fsync: this.fsync,
      limits: this.limits,
      io: this.io,
      log: this.log,
    };
    let result: Recovered;
    try {
      result = await recover(this.registry, walOptions, this.dataDir.snapshotDir, {
        clockMs: this.nowMs,
        yielding: this.yielding,
      });
    } catch (error) {
      // Nothing was opened for writing; release the lock so `wal repair` can run at once.
      this.closed = true;
      this.dataDir.close();
      throw error;
    }
    this.current = result.wal;
    this.states = result.states;
    this.carried = result.carried;
    this.appliedIndex = result.wal.lastIndex;
    this.appliedWallMs = result.wallMs;
    this.lastSnapshotMs = this.nowMs();
    // The tail replayed now is log a snapshot does not cover yet: a server that restarts before
    // each run writes `snapshotEveryBytes` must still snapshot, or every start replays more.
    this.snapshotBytesMark = -result.report.replayedBytes;
    this.current.onCommit = (records) => this.onCommit(records);
    // Applied, resolved, and no subscriber kept them: their buffers serve the next bodies.
    this.current.onReleased = (records) => {
      for (const r of records) if (r.appended !== undefined) releaseBody(r.appended);
    };
    this.log("info", "storage.recovered", { ...result.report });
    return result.report;
  }

  private onCommit(records: readonly CommittedRecord[]): void {
    const applied: CommittedValue[] = [];
    for (const r of records) {
      const decoded = r.appended === undefined ? undefined : this.appendedValues.get(r.appended);
      this.registry.applyRecord(this.states, r, decoded);
      if (decoded !== undefined && this.appliedListeners.size > 0) {
        applied.push({ machine: r.machine, walIndex: r.walIndex, value: decoded.value });
      }
    }
    for (const listener of this.appliedListeners) {
      try {
        listener(applied);
      } catch (error) {
        this.log("error", "storage.listener_failed", { error: String(error) });
      }
    }
    const last = records.at(-1) as CommittedRecord;
    this.appliedIndex = last.walIndex;
    this.appliedWallMs = last.wallMs;
    if (this.snapshotting === null && this.snapshotDue()) {
      this.takeSnapshot().catch((error: unknown) =>
        this.log("error", "snapshot.failed", { error: String(error) }),
      );
    }
  }

  /**
   * A clean close leaves a snapshot when the log since the last one is long enough that replaying
   * it would cost: `1 / CLOSE_SNAPSHOT_FRACTION` of `snapshotEveryBytes`, and at least
   * `CLOSE_SNAPSHOT_BYTES_MIN` (never when snapshots by size are off). Replay cost is not
   * proportional to bytes — a context upsert rebuilds graph neighbourhoods (a 78 MB tail of 23k
   * chunks took 14 s to replay) — so the next start should not pay for a tail a shutdown could
   * have cut.
   */
  private closeSnapshotDue(): boolean {
    const every = this.limits.snapshotEveryBytes;
    const tailBytes = (this.current as Wal).committedBytes - this.snapshotBytesMark;
    const dueBytes = Math.max(every / CLOSE_SNAPSHOT_FRACTION, CLOSE_SNAPSHOT_BYTES_MIN);
    return every > 0 && tailBytes >= dueBytes;
  }

  private snapshotDue(): boolean {
    const wal = this.current as Wal;
    const bySize =
      this.limits.snapshotEveryBytes > 0 &&
      wal.committedBytes - this.snapshotBytesMark >= this.limits.snapshotEveryBytes;
    const byTime =
      this.limits.snapshotEveryMs > 0 &&
      this.nowMs() - this.lastSnapshotMs >= this.limits.snapshotEveryMs;
    return bySize || byTime;
  }

  private openWal(): Wal {
    if (this.closed) throw storageUnavailable("closed", "storage is closed");
    assert(this.current !== null, "recover() before use");
    return this.current;
  }

  /**
   * Appends one batch (all-or-nothing) and resolves with its indexes once it is durable under the
   * fsync policy and applied. Rejects with `validation_failed`, `bad_request`, `payload_too_large`,
   * `queue_full`, or `unavailable` (I/O error such as a full disk: the log stays valid).
   */
  append(records: readonly AppendInput[], options: WalAppendOptions = {}): Promise<AppendResult> {
    let wal: Wal;
    try {
      wal = this.openWal();
      const inputs = records.map((r) => {
        const { bytes, value } = this.registry.prepare(r.machine, r.body);
        this.appendedValues.set(bytes, { value });
        return { machine: r.machine, body: bytes, wallMs: wallMsOf(r.wallMs, this.nowMs) };
      });
      return wal.append(inputs, options);
    } catch (error) {
      options.settled?.(false);
      return Promise.reject(error);
    }
  }

  #stateOf(name: string): unknown {
    this.openWal();
    assert(this.states.has(name), "the machine of a handle is registered");
    return this.states.get(name);
  }

  /**
   * The live state of machine `name`, untyped, for tools and tests that inspect a fold;
   * services read theirs through the handle `register` returned. `not_found` when unknown.
   */
  stateOf(name: string): unknown {
    this.openWal();
    if (!this.states.has(name))
      throw new VltairError("not_found", `no state machine named ${name}`);
    return this.states.get(name);
  }

  /** Index of the last applied record (0 when the log is empty). */
  get lastIndex(): number {
    return this.appliedIndex;
  }

  /** The log's read side (ordered reads and subscriptions); appends go through {@link Storage.append}. */
  get wal(): LogReader {
    return this.openWal();
  }

  /**
   * Writes a snapshot of every machine at the current index, keeps the newest `snapshotsKept`,
   * and deletes the segments the oldest kept snapshot covers. One snapshot runs at a time.
   */
  async takeSnapshot(): Promise<SnapshotReport> {
    const wal = this.openWal();
    while (this.snapshotting) await this.snapshotting.catch(() => undefined);
    const walIndex = this.appliedIndex;
    const machines = new Map<string, SnapshotMachineToWrite>();
    for (const m of this.registry.list()) {
      const live = this.states.get(m.name);
      const state = m.snapshotParts?.(live) ?? [m.snapshot(live)];
      machines.set(m.name, { format: m.format ?? 1, state, records: null });
    }
    for (const [name, c] of this.carried) {
      machines.set(name, {
        format: c.format,
        state: c.state === null ? null : [c.state],
        records: encodeCarriedRecords(c.records),
      });
    }
    const data: SnapshotToWrite = {
      walIndex,
      wallMs: this.appliedWallMs,
      writtenBy: this.binaryVersion,
      machines,
    };
    this.snapshotBytesMark = wal.committedBytes;
    this.lastSnapshotMs = this.nowMs();
    const run = async (): Promise<SnapshotReport> => {
      await wal.syncWritten();
      const file: SnapshotFile = await writeSnapshot(this.dataDir.snapshotDir, data, this.yielding);
      const kept = pruneSnapshots(this.dataDir.snapshotDir, this.limits.snapshotsKept);
      const oldest = kept.at(-1) as SnapshotFile;
      const segmentsRemoved = wal.removeSegmentsThrough(oldest.walIndex);
      let sizeBytes = 0;
      for (const m of machines.values()) {
        for (const piece of m.state ?? []) sizeBytes += piece.length;
        sizeBytes += m.records?.length ?? 0;
      }
      const report = {
        walIndex,
        path: file.path,
        sizeBytes,
        snapshotsKept: kept.length,
        segmentsRemoved,
      };
      this.log("info", "snapshot.written", { ...report });
      return report;
    };
    this.snapshotting = run();
    try {
      return await this.snapshotting;
    } finally {
      this.snapshotting = null;
    }
  }

  /**
   * Folds the log up to `target` into fresh states, touching nothing live (no writes, no
   * subscribers, no side effects). Synchronous: it reads and folds on the calling thread, from
   * the newest kept snapshot at or before the target. See {@link replay}.
   */
  replayTo(target: ReplayTarget): ReplayResult {
    const wal = this.openWal();
    return replay(this.registry, this.dataDir, target, {
      limits: this.limits,
      lastIndex: wal.lastIndex,
      log: this.log,
    });
  }

  /** Waits for queued appends and a running snapshot, makes the log durable, releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.snapshotting) await this.snapshotting.catch(() => undefined);
      if (this.current) {
        await this.current.sync();
        if (this.closeSnapshotDue()) {
          await this.takeSnapshot().catch((error: unknown) =>
            this.log("error", "snapshot.failed", { error: String(error), at: "close" }),
          );
        }
        await this.current.close();
      }
    } finally {
      this.closed = true;
      this.dataDir.close();
    }
  }
}
