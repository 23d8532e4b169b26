/**
 * Snapshot files: `snapshots/<20-digit walIndex>.snap`, written atomically (temp file, fsync,
 * rename, fsync of the directory) and checksummed whole, so a reader sees either a complete,
 * verified snapshot or none.
 *
 * Layout: `[magic "VLTSNAP1"][crc32c u32 of everything after it][headerLen u32][header JSON]
 * [machine blobs in header order]`. The header names each machine and its blob size.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as v from "valibot";
import { assert } from "../core/mod.ts";
import { mapFileForReading } from "../platform/mod.ts";
import { fsyncDir } from "./io.ts";
import { crc32c } from "./wal/crc32c.ts";

const MAGIC = new TextEncoder().encode("VLTSNAP1");
const PREFIX_BYTES = 16;
/** Version of the snapshot layout written by this code. */
export const SNAPSHOT_VERSION = 1;
/** Bound on the JSON header, which only lists machine names and sizes. */
const HEADER_BYTES_MAX = 1024 * 1024;

const HeaderSchema = v.object({
  version: v.literal(SNAPSHOT_VERSION),
  walIndex: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  wallMs: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  machines: v.pipe(
    v.array(
      v.object({ name: v.string(), sizeBytes: v.pipe(v.number(), v.safeInteger(), v.minValue(0)) }),
    ),
    v.maxLength(1024),
  ),
});

/** The content of a snapshot: the state of every machine after record `walIndex`. */
export interface SnapshotData {
  walIndex: number;
  wallMs: number;
  machines: Map<string, Uint8Array>;
}

/** A snapshot file on disk. */
export interface SnapshotFile {
  walIndex: number;
  path: string;
}

/** Why a snapshot file was rejected. */
export type SnapshotProblem =
  | "too_short"
  | "magic_invalid"
  | "checksum_mismatch"
  | "header_invalid"
  | "size_mismatch";

/** The file name of the snapshot taken after record `walIndex`. */
export function snapshotFileName(walIndex: number): string {
  assert(Number.isSafeInteger(walIndex) && walIndex >= 0, "snapshot walIndex >= 0");
  return `${String(walIndex).padStart(20, "0")}.snap`;
}

/**
 * Serialises a snapshot into one buffer with its checksum.
 *
 * @example
 * ```ts
 * const bytes = encodeSnapshot({ walIndex: 10, wallMs: 0, machines: new Map([["kv", blob]]) });
 * ```
 */
export function encodeSnapshot(data: SnapshotData): Uint8Array {
  const machines = [...data.machines].map(([name, bytes]) => ({ name, sizeBytes: bytes.length }));
  const header = new TextEncoder().encode(
    JSON.stringify({
      version: SNAPSHOT_VERSION,
      walIndex: data.walIndex,
      wallMs: data.wallMs,
      machines,
    }),
  );
  assert(header.length <= HEADER_BYTES_MAX, "snapshot header within its bound");
  let total = PREFIX_BYTES + header.length;
  for (const m of machines) total += m.sizeBytes;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(12, header.length, true);
  out.set(header, PREFIX_BYTES);
  let offset = PREFIX_BYTES + header.length;
  for (const bytes of data.machines.values()) {
    out.set(bytes, offset);
    offset += bytes.length;
  }
  view.setUint32(8, crc32c(out, 12, out.length), true);
  return out;
}

/** Parses and verifies a snapshot; blobs are views into `bytes`. */
export function decodeSnapshot(
  bytes: Uint8Array,
): { ok: true; data: SnapshotData } | { ok: false; problem: SnapshotProblem } {
  if (bytes.length < PREFIX_BYTES) return { ok: false, problem: "too_short" };
  for (let i = 0; i < MAGIC.length; i++)
    if (bytes[i] !== MAGIC[i]) return { ok: false, problem: "magic_invalid" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== crc32c(bytes, 12, bytes.length))
    return { ok: false, problem: "checksum_mismatch" };
  const headerBytes = view.getUint32(12, true);
  if (headerBytes > HEADER_BYTES_MAX || PREFIX_BYTES + headerBytes > bytes.length) {
    return { ok: false, problem: "header_invalid" };
  }
  let header: v.InferOutput<typeof HeaderSchema>;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes),
    );
    const parsed = v.safeParse(HeaderSchema, JSON.parse(text));
    if (!parsed.success) return { ok: false, problem: "header_invalid" };
    header = parsed.output;
  } catch {
    return { ok: false, problem: "header_invalid" };
  }
  const machines = new Map<string, Uint8Array>();
  let offset = PREFIX_BYTES + headerBytes;
  for (const m of header.machines) {
    if (offset + m.sizeBytes > bytes.length) return { ok: false, problem: "size_mismatch" };
    machines.set(m.name, bytes.subarray(offset, offset + m.sizeBytes));
    offset += m.sizeBytes;
  }
  if (offset !== bytes.length) return { ok: false, problem: "size_mismatch" };
  return { ok: true, data: { walIndex: header.walIndex, wallMs: header.wallMs, machines } };
}

/** Snapshot files in `dir`, newest (highest index) first. */
export function listSnapshots(dir: string): SnapshotFile[] {
  const out: SnapshotFile[] = [];
  for (const name of fs.readdirSync(dir)) {
    const match = /^(\d{20})\.snap$/.exec(name);
    if (match) out.push({ walIndex: Number(match[1]), path: path.join(dir, name) });
  }
  return out.sort((a, b) => b.walIndex - a.walIndex);
}

/**
 * Writes a snapshot atomically: a temp file, fsync, rename over the final name, fsync the directory.
 * A crash at any point leaves either the previous set of snapshots or the new complete one.
 *
 * @example
 * ```ts
 * await writeSnapshot("/data/.vltair/snapshots", data);
 * ```
 */
export async function writeSnapshot(dir: string, data: SnapshotData): Promise<SnapshotFile> {
  const bytes = encodeSnapshot(data);
  const finalPath = path.join(dir, snapshotFileName(data.walIndex));
  const tmpPath = `${finalPath}.tmp`;
  const handle = await fs.promises.open(tmpPath, "w", 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmpPath, finalPath);
  fsyncDir(dir);
  return { walIndex: data.walIndex, path: finalPath };
}

/** Reads and verifies one snapshot file; I/O errors count as a problem, not a throw. */
export function readSnapshot(
  file: SnapshotFile,
): { ok: true; data: SnapshotData } | { ok: false; problem: SnapshotProblem | "unreadable" } {
  let bytes: Uint8Array;
  try {
    bytes = mapFileForReading(file.path);
  } catch {
    return { ok: false, problem: "unreadable" };
  }
  const decoded = decodeSnapshot(bytes);
  if (decoded.ok && decoded.data.walIndex !== file.walIndex)
    return { ok: false, problem: "header_invalid" };
  return decoded;
}

/** Deletes all but the newest `keep` snapshots and any leftover temp files; returns what is kept. */
export function pruneSnapshots(dir: string, keep: number): SnapshotFile[] {
  assert(keep >= 1, "keep at least one snapshot");
  for (const name of fs.readdirSync(dir))
    if (name.endsWith(".snap.tmp")) fs.rmSync(path.join(dir, name), { force: true });
  const all = listSnapshots(dir);
  for (const old of all.slice(keep)) fs.rmSync(old.path, { force: true });
  if (all.length > keep) fsyncDir(dir);
  return all.slice(0, keep);
}
