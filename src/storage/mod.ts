/**
 * Durable storage: the data directory (layout, lock, format version), the write-ahead log with
 * group commit, snapshots, crash recovery, replay, and the offline tools behind `vltair wal …`.
 *
 * @example
 * ```ts
 * import { createStorage, openDataDir } from "../storage/mod.ts";
 * const storage = createStorage(openDataDir("./.vltair", { log }), { fsync: "always", log });
 * storage.register(contextMachine);
 * const recovery = await storage.recover();
 * const { lastIndex } = await storage.append([{ machine: "context", body: { op: "upsert" } }]);
 * const past = storage.replayTo({ walIndex: lastIndex - 1 });
 * await storage.close();
 * ```
 */
export type { DataDir, OpenDataDirOptions } from "./data-dir.ts";
export { dataDirPaths, openDataDir } from "./data-dir.ts";
export type { DumpedRecord, DumpOptions } from "./dump.ts";
export { DUMP_LIMIT_MAX, dumpWal } from "./dump.ts";
export type { StorageErrorReason } from "./errors.ts";
export type { OfflineFold } from "./fold-offline.ts";
export { foldOffline } from "./fold-offline.ts";
export { FORMAT_VERSION } from "./format-version.ts";
export type { WalFileIo } from "./io.ts";
export { nodeWalIo } from "./io.ts";
export type { FsyncPolicy, StorageLimits, StorageLog, StorageLogLevel } from "./options.ts";
export {
  FSYNC_INTERVAL_MS_MAX,
  parseFsyncPolicy,
  resolveLimits,
  STORAGE_LIMITS,
} from "./options.ts";
export type { PreparedWrite } from "./prepared.ts";
export { commitPrepared } from "./prepared.ts";
export type { RecoveryReport } from "./recovery.ts";
export type { RepairOptions, RepairReport } from "./repair.ts";
export { repairWal } from "./repair.ts";
export type { ReplayResult, ReplayTarget } from "./replay.ts";
export {
  decodeParts,
  encodeParts,
  hasMagic,
  joinParts,
  PartReader,
  snapshotInParts,
  utf8Text,
} from "./snapshot-parts.ts";
export type { AnyStateMachine, AppliedRecord, StateMachine } from "./state-machine.ts";
export { applyInPlace } from "./state-machine.ts";
export type {
  AppendInput,
  AppliedListener,
  CommitHook,
  CommittedValue,
  HookRecords,
  MachineHandle,
  SnapshotReport,
  StorageOptions,
} from "./storage.ts";
export { createStorage, Storage } from "./storage.ts";
export { takeSnapshot } from "./take-snapshot.ts";
export type { VerifyReport } from "./verify.ts";
export { verifyWal } from "./verify.ts";
export type { AppendResult, CommittedRecord } from "./wal/group-commit.ts";
export type { LogReader } from "./wal/log-reader.ts";
