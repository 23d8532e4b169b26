/**
 * `vltair snapshot` with the server stopped: open the data directory, recover every machine,
 * write one snapshot, close. (With the server running, the server's own `Storage.takeSnapshot`
 * is the way, since the lock is held.)
 */
import { openDataDir } from "./data-dir.ts";
import type { RecoveryReport } from "./recovery.ts";
import {
  createStorage,
  type SnapshotReport,
  type Storage,
  type StorageOptions,
} from "./storage.ts";

/**
 * Recovers `dir` with the machines `register` adds and writes a snapshot at its last index.
 *
 * @example
 * ```ts
 * const { snapshot } = await takeSnapshot("./.vltair", { register: (s) => s.register(counter) });
 * ```
 */
export async function takeSnapshot(
  dir: string,
  options: StorageOptions & { register: (storage: Storage) => unknown },
): Promise<{ recovery: RecoveryReport; snapshot: SnapshotReport }> {
  const dataDirOptions = options.log === undefined ? {} : { log: options.log };
  const storage = createStorage(openDataDir(dir, dataDirOptions), options);
  try {
    options.register(storage);
    const recovery = await storage.recover();
    const snapshot = await storage.takeSnapshot();
    return { recovery, snapshot };
  } finally {
    await storage.close();
  }
}
