/**
 * `vltair wal dump`: the records of a range, decoded for humans and scripts. Read-only.
 */
import * as fs from "node:fs";
import { VltairError } from "../core/mod.ts";
import { dataDirPaths } from "./data-dir.ts";
import { resolveLimits, type StorageLimits } from "./options.ts";
import { decodeBody, isBlobBody } from "./record-body.ts";
import { payloadBytesMaxOf } from "./wal/frame.ts";
import { scanLog } from "./wal/scan-log.ts";

/** Most records one dump returns: a dump is for reading, pages beyond this take another call. */
export const DUMP_LIMIT_MAX = 10_000;

/**
 * One dumped record; `body` is its value as JSON (a blob body's vectors as arrays of numbers), or
 * null with `bodyError` when it does not decode.
 */
export interface DumpedRecord {
  walIndex: number;
  wallMs: number;
  machine: string;
  sizeBytes: number;
  body: unknown;
  bodyError: string | null;
}

/** Options of {@link dumpWal}. */
export interface DumpOptions {
  /** First index to return (default 1). */
  fromIndex?: number;
  /** Most records (default 100, at most {@link DUMP_LIMIT_MAX}). */
  limit?: number;
  limits?: Partial<StorageLimits>;
}

/** A blob body's value as plain JSON: its vectors as arrays of numbers. */
function plainJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v)),
  );
}

/**
 * Returns up to `limit` records from `fromIndex` of the data directory `dir`.
 *
 * @example
 * ```ts
 * const { records } = dumpWal("./.vltair", { fromIndex: 1, limit: 10 });
 * ```
 */
export function dumpWal(
  dir: string,
  options: DumpOptions = {},
): { records: DumpedRecord[]; lastIndex: number } {
  const fromIndex = options.fromIndex ?? 1;
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(fromIndex) || fromIndex < 1) {
    throw new VltairError("bad_request", "--from must be an integer >= 1", {
      details: { from: fromIndex },
    });
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > DUMP_LIMIT_MAX) {
    throw new VltairError("bad_request", `--limit must be an integer in 1..${DUMP_LIMIT_MAX}`, {
      details: { limit, limit_max: DUMP_LIMIT_MAX },
    });
  }
  const toIndex = fromIndex + limit - 1;
  const records: DumpedRecord[] = [];
  const walDir = dataDirPaths(dir).walDir;
  if (!fs.existsSync(walDir)) return { records, lastIndex: 0 };
  const scan = scanLog(walDir, {
    payloadBytesMax: payloadBytesMaxOf(resolveLimits(options.limits)),
    fromIndex,
    toIndex,
    onBatch(frames) {
      for (const f of frames) {
        if (f.walIndex < fromIndex || f.walIndex > toIndex) continue;
        let body: unknown = null;
        let bodyError: string | null = null;
        try {
          body = isBlobBody(f.body) ? plainJson(decodeBody(f.body)) : decodeBody(f.body);
        } catch (error) {
          bodyError = String(error);
        }
        records.push({
          walIndex: f.walIndex,
          wallMs: f.wallMs,
          machine: f.machine,
          sizeBytes: f.body.length,
          body,
          bodyError,
        });
      }
    },
  });
  return { records, lastIndex: scan.lastIndex };
}
