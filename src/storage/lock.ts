/**
 * The data directory's exclusive lock: a `LOCK` file naming its holder (pid, host, nonce),
 * created atomically by hard-linking a fully written temp file, so no reader ever sees half a lock.
 * A lock whose process is gone (same host, pid not alive) is taken over; any other is refused.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import * as v from "valibot";
import { storageUnavailable } from "./errors.ts";
import { isCode } from "./io.ts";
import type { StorageLog } from "./options.ts";

/** Name of the lock file inside the data directory. */
export const LOCK_FILE = "LOCK";
/** Attempts to take a lock whose holder died before giving up (another process keeps racing us). */
const ACQUIRE_ATTEMPTS_MAX = 4;

const LockSchema = v.object({
  pid: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  hostname: v.string(),
  nonce: v.string(),
  acquiredAtMs: v.number(),
});
type LockContent = v.InferOutput<typeof LockSchema>;

/** A held lock; `release` removes the file if it is still ours. */
export interface DirLock {
  path: string;
  content: LockContent;
  release(): void;
}

function readLock(lockPath: string): { raw: string; content: LockContent | null } | null {
  let raw: string;
  try {
    raw = fs.readFileSync(lockPath, "utf8");
  } catch (error) {
    if (isCode(error, ["ENOENT"])) return null;
    throw error;
  }
  try {
    const parsed = v.safeParse(LockSchema, JSON.parse(raw));
    return { raw, content: parsed.success ? parsed.output : null };
  } catch {
    return { raw, content: null };
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isCode(error, ["ESRCH"]);
  }
}

function lockedError(lockPath: string, holder: LockContent): Error {
  return storageUnavailable(
    "locked",
    `data directory is locked by pid ${holder.pid} on ${holder.hostname} (${lockPath}); ` +
      "another vltair is running on it: stop that one first (a lock left by a process that is " +
      "gone is taken over at the next start; one held from another host must be released there)",
    { details: { lock_path: lockPath, pid: holder.pid, hostname: holder.hostname } },
  );
}

/**
 * Takes the exclusive lock of `dir`, taking over one left by a dead process on this host.
 * Throws `VltairError` `unavailable` (`details.reason` `locked`) when a live process holds it.
 *
 * @example
 * ```ts
 * const lock = acquireLock("/data/.vltair", { log, nowMs: Date.now });
 * lock.release();
 * ```
 */
export function acquireLock(
  dir: string,
  options: { log: StorageLog; nowMs: () => number },
): DirLock {
  const lockPath = path.join(dir, LOCK_FILE);
  const content: LockContent = {
    pid: process.pid,
    hostname: os.hostname(),
    nonce: crypto.randomUUID(),
    acquiredAtMs: options.nowMs(),
  };
  const tmpPath = `${lockPath}.${content.nonce}.tmp`;
  fs.writeFileSync(tmpPath, JSON.stringify(content), { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS_MAX; attempt++) {
      try {
        fs.linkSync(tmpPath, lockPath);
        return { path: lockPath, content, release: () => releaseLock(lockPath, content.nonce) };
      } catch (error) {
        if (!isCode(error, ["EEXIST"])) throw error;
      }
      const held = readLock(lockPath);
      if (held === null) continue;
      if (held.content !== null) {
        const sameHost = held.content.hostname === content.hostname;
        if (!sameHost || isAlive(held.content.pid)) throw lockedError(lockPath, held.content);
      }
      takeOver(lockPath, held.raw, content.nonce);
      options.log("warn", "datadir.lock_taken_over", {
        lock_path: lockPath,
        previous_pid: held.content?.pid ?? null,
      });
    }
  } finally {
    fs.rmSync(tmpPath, { force: true });
  }
  throw storageUnavailable(
    "locked",
    `could not take the lock ${lockPath}: other processes keep taking it`,
    {
      details: { lock_path: lockPath },
    },
  );
}

/**
 * Moves a stale lock aside; if what was moved is not the stale content seen (another process
 * replaced it meanwhile), it is put back and the caller's next attempt sees the new holder.
 */
function takeOver(lockPath: string, staleRaw: string, nonce: string): void {
  const asidePath = `${lockPath}.${nonce}.stale`;
  try {
    fs.renameSync(lockPath, asidePath);
  } catch (error) {
    if (isCode(error, ["ENOENT"])) return;
    throw error;
  }
  const moved = fs.readFileSync(asidePath, "utf8");
  if (moved !== staleRaw) {
    try {
      fs.linkSync(asidePath, lockPath);
    } catch (error) {
      if (!isCode(error, ["EEXIST"])) throw error;
    }
  }
  fs.rmSync(asidePath, { force: true });
}

function releaseLock(lockPath: string, nonce: string): void {
  const held = readLock(lockPath);
  if (held?.content?.nonce === nonce) fs.rmSync(lockPath, { force: true });
}
