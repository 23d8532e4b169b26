/**
 * Storage as the server configures it: config -> fsync policy and limits (checked before
 * anything is created), the storage log adapter, and opening the data directory.
 */
import type { Config } from "../config/mod.ts";
import { VltairError } from "../core/mod.ts";
import type { Logger } from "../obs/mod.ts";
import {
  createStorage,
  type FsyncPolicy,
  openDataDir,
  parseFsyncPolicy,
  STORAGE_LIMITS,
  type Storage,
  type StorageLimits,
  type StorageLog,
  type StorageOptions,
} from "../storage/mod.ts";
import { VERSION } from "../version.ts";

/** The validated storage settings of a config. */
export interface StorageSettings {
  fsync: FsyncPolicy;
  limits: StorageLimits;
}

function renamed(error: unknown, field: string): VltairError {
  if (!(error instanceof VltairError)) throw error;
  return new VltairError("config_invalid", `${field}: ${error.message}`, {
    details: { ...error.details, field, source: "config" },
    cause: error,
  });
}

/** Config's `wal_fsync` and snake_case `storage_limits` as storage options; config_invalid names the key. */
export function storageSettings(config: Config): StorageSettings {
  let fsync: FsyncPolicy;
  try {
    fsync = parseFsyncPolicy(config.wal_fsync);
  } catch (error) {
    throw renamed(error, "wal_fsync");
  }
  return {
    fsync,
    limits: STORAGE_LIMITS.resolveSnake(config.storage_limits),
  };
}

/** The storage log callback over the JSON logger. */
export function storageLog(log: Logger): StorageLog {
  return (level, event, fields) => log[level](event, fields);
}

/**
 * Opens the data directory (taking its lock) and creates the storage over it.
 *
 * @example
 * ```ts
 * const storage = openStorage(config, storageSettings(config), { log, nowMs: Date.now });
 * await storage.recover();
 * ```
 */
export function openStorage(
  config: Config,
  settings: StorageSettings,
  options: { log: Logger; nowMs: () => number; monotonicMs?: () => number },
): Storage {
  const log = storageLog(options.log);
  const dataDir = openDataDir(config.data_dir, { log, nowMs: options.nowMs });
  const storageOptions: StorageOptions = {
    fsync: settings.fsync,
    limits: settings.limits,
    log,
    nowMs: options.nowMs,
    binaryVersion: VERSION,
  };
  if (options.monotonicMs !== undefined) storageOptions.monotonicMs = options.monotonicMs;
  return createStorage(dataDir, storageOptions);
}
