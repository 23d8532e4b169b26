/**
 * The data directory's format version file, `FORMAT`: written once when the directory is created,
 * checked on every open so that an older binary never misreads a newer layout; an older version
 * is raised to this code's on open (a newer binary may write what older ones cannot read).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as v from "valibot";
import { storageUnavailable } from "./errors.ts";
import { fsyncDir, isCode } from "./io.ts";

/** Name of the format file inside the data directory. */
export const FORMAT_FILE = "FORMAT";
/**
 * The layout this code reads and writes (WAL framing, segment and snapshot files, record
 * bodies). 2: record bodies may be blob bodies (record-body.ts); a version-1 directory is
 * upgraded when opened, since this code may append such records to it.
 */
export const FORMAT_VERSION = 2;
const FORMAT_NAME = "vltair-data-dir";

const FormatSchema = v.object({
  format: v.literal(FORMAT_NAME),
  version: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
});

/**
 * Checks `dir`'s format file, writing it (atomically) when absent or older. Throws `unavailable` with
 * reason `format_too_new` for a newer version and `format_unknown` for an unreadable file.
 *
 * @example
 * ```ts
 * ensureFormat("/data/.vltair"); // 2
 * ```
 */
export function ensureFormat(dir: string): number {
  const formatPath = path.join(dir, FORMAT_FILE);
  let raw: string;
  try {
    raw = fs.readFileSync(formatPath, "utf8");
  } catch (error) {
    if (!isCode(error, ["ENOENT"])) throw error;
    return writeFormat(dir);
  }
  let parsed: v.SafeParseResult<typeof FormatSchema>;
  try {
    parsed = v.safeParse(FormatSchema, JSON.parse(raw));
  } catch {
    parsed = v.safeParse(FormatSchema, null);
  }
  if (!parsed.success) {
    throw storageUnavailable("format_unknown", `${formatPath} is not a vltair format file`, {
      details: { path: formatPath },
    });
  }
  if (parsed.output.version > FORMAT_VERSION) {
    throw storageUnavailable(
      "format_too_new",
      `${dir} uses data format ${parsed.output.version}, newer than this binary's ${FORMAT_VERSION}; ` +
        "run a newer vltair",
      { details: { path: formatPath, version: parsed.output.version, supported: FORMAT_VERSION } },
    );
  }
  return parsed.output.version < FORMAT_VERSION ? writeFormat(dir) : parsed.output.version;
}

/** Writes `FORMAT` with this code's version (atomically: temp file, fsync, rename). */
function writeFormat(dir: string): number {
  const formatPath = path.join(dir, FORMAT_FILE);
  const tmp = `${formatPath}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ format: FORMAT_NAME, version: FORMAT_VERSION })}\n`);
  const fd = fs.openSync(tmp, "r");
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, formatPath);
  fsyncDir(dir);
  return FORMAT_VERSION;
}
