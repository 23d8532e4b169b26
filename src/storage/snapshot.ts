/**
 * Snapshot files: `snapshots/<20-digit walIndex>.snap`, written atomically (temp file, fsync,
 * rename, fsync of the directory) and checksummed whole, so a reader sees either a complete,
 * verified snapshot or none.
 *
 * Layout: `[magic "VLTSNAP1"][crc32c u32 of everything after it][headerLen u32][header JSON]
 * [machine parts in header order]`. The header names each machine, its format and the sizes of
 * its state part and (for a carried machine, carried.ts) its records part.
 */

import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as path from "node:path";
import * as v from "valibot";
import {
  assert,
  runSteps,
  runStepsYielding,
  type Steps,
  type YieldingOptions,
} from "../core/mod.ts";
import { mapFileForReading } from "../platform/mod.ts";
import { fsyncDir, fsyncDirAsync } from "./io.ts";
import { crc32cUpdate } from "./wal/crc32c.ts";

const MAGIC = new TextEncoder().encode("VLTSNAP1");
const PREFIX_BYTES = 16;
/**
 * Version of the snapshot layout written by this code. Version 2 adds each machine's format,
 * the writing binary's version, and the records parts of carried machines (carried.ts); a
 * binary that reads only version 1 skips a version-2 file (it never drops what it cannot read).
 */
export const SNAPSHOT_VERSION = 2;
/** Bound on the JSON header, which only lists machine names and sizes. */
const HEADER_BYTES_MAX = 1024 * 1024;
/** The checksum is computed in slices of this size, with a pause point after each. */
const CHECKSUM_SLICE_BYTES = 4 * 1024 * 1024;

const Size = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const HeaderV1Schema = v.object({
  version: v.literal(1),
  walIndex: Size,
  wallMs: Size,
  machines: v.pipe(v.array(v.object({ name: v.string(), sizeBytes: Size })), v.maxLength(1024)),
});
const HeaderV2Schema = v.object({
  version: v.literal(2),
  walIndex: Size,
  wallMs: Size,
  writtenBy: v.nullable(v.string()),
  machines: v.pipe(
    v.array(
      v.object({
        name: v.string(),
        format: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
        stateBytes: v.nullable(Size),
        recordsBytes: v.nullable(Size),
      }),
    ),
    v.maxLength(1024),
  ),
});
const HeaderSchema = v.variant("version", [HeaderV1Schema, HeaderV2Schema]);

/** One machine's part of a snapshot. */
export interface SnapshotMachine {
  /** The machine's snapshot format (1 for version-1 files). */
  format: number;
  /** Its state bytes; null for a carried machine that had none. */
  state: Uint8Array | null;
  /** Records of a carried machine after `state` (carried.ts layout); null otherwise. */
  records: Uint8Array | null;
}

/** The content of a snapshot: the state of every machine after record `walIndex`. */
export interface SnapshotData {
  walIndex: number;
  wallMs: number;
  /** Version of the binary that wrote it (null for version-1 files). */
  writtenBy: string | null;
  machines: Map<string, SnapshotMachine>;
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

/** A machine's part of a snapshot being written: its state as consecutive pieces. */
export interface SnapshotMachineToWrite {
  format: number;
  /** The state's bytes in order (a machine's `snapshotParts`, not copied into one buffer). */
  state: readonly Uint8Array[] | null;
  records: Uint8Array | null;
}

/** A snapshot to write. */
export interface SnapshotToWrite extends Omit<SnapshotData, "machines"> {
  machines: Map<string, SnapshotMachineToWrite>;
}

const sizeOf = (parts: readonly Uint8Array[]) => parts.reduce((sum, p) => sum + p.length, 0);

/**
 * A snapshot as consecutive chunks with its checksum, computed in slices with a pause point
 * after each: a snapshot of a few hundred MiB is neither copied into one buffer (a copy ran at
 * ~250 MB/s on this VM) nor checksummed in one stall of the event loop.
 */
export function* encodeSnapshotSteps(data: SnapshotToWrite): Steps<Uint8Array[]> {
  const machines = [...data.machines].map(([name, m]) => ({
    name,
    format: m.format,
    stateBytes: m.state === null ? null : sizeOf(m.state),
    recordsBytes: m.records?.length ?? null,
  }));
  const header = new TextEncoder().encode(
    JSON.stringify({
      version: SNAPSHOT_VERSION,
      walIndex: data.walIndex,
      wallMs: data.wallMs,
      writtenBy: data.writtenBy,
      machines,
    }),
  );
  assert(header.length <= HEADER_BYTES_MAX, "snapshot header within its bound");
  const head = new Uint8Array(PREFIX_BYTES + header.length);
  const view = new DataView(head.buffer);
  head.set(MAGIC, 0);
  view.setUint32(12, header.length, true);
  head.set(header, PREFIX_BYTES);
  const chunks: Uint8Array[] = [head];
  for (const m of data.machines.values()) {
    if (m.state !== null) chunks.push(...m.state);
    if (m.records !== null) chunks.push(m.records);
  }
  let register = crc32cUpdate(-1, head, 12, head.length);
  let sinceYieldBytes = 0;
  for (const chunk of chunks.slice(1)) {
    for (let at = 0; at < chunk.length; at += CHECKSUM_SLICE_BYTES) {
      const end = Math.min(chunk.length, at + CHECKSUM_SLICE_BYTES);
      register = crc32cUpdate(register, chunk, at, end);
      sinceYieldBytes += end - at;
      if (sinceYieldBytes >= CHECKSUM_SLICE_BYTES) {
        sinceYieldBytes = 0;
        yield;
      }
    }
  }
  view.setUint32(8, ~register >>> 0, true);
  return chunks;
}

/**
 * Serialises a snapshot into one buffer with its checksum.
 *
 * @example
 * ```ts
 * const state = { format: 1, state: blob, records: null };
 * const bytes = encodeSnapshot({ walIndex: 10, wallMs: 0, writtenBy: "0.1.0", machines: new Map([["kv", state]]) });
 * ```
 */
export function encodeSnapshot(data: SnapshotData): Uint8Array {
  const machines = new Map<string, SnapshotMachineToWrite>();
  for (const [name, m] of data.machines)
    machines.set(name, { ...m, state: m.state === null ? null : [m.state] });
  const chunks = runSteps(encodeSnapshotSteps({ ...data, machines }));
  const out = new Uint8Array(sizeOf(chunks));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Chunks joined for writing: runs of views that are adjacent in one buffer become one view, and
 * small chunks are copied together into buffers of about `batchBytes`; large ones pass as they are.
 */
function coalesce(chunks: readonly Uint8Array[], batchBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pending.length === 1) out.push(pending[0] as Uint8Array);
    else if (pending.length > 1) out.push(Buffer.concat(pending, pendingBytes));
    pending = [];
    pendingBytes = 0;
  };
  let run: Uint8Array | null = null;
  const endRun = () => {
    if (run === null) return;
    if (run.length >= batchBytes) {
      flush();
      out.push(run);
    } else {
      pending.push(run);
      pendingBytes += run.length;
      if (pendingBytes >= batchBytes) flush();
    }
    run = null;
  };
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    const r = run as Uint8Array | null;
    if (r !== null && r.buffer === chunk.buffer && r.byteOffset + r.length === chunk.byteOffset) {
      run = new Uint8Array(r.buffer, r.byteOffset, r.length + chunk.length);
      continue;
    }
    endRun();
    run = chunk;
  }
  endRun();
  flush();
  return out;
}

/** Most bytes of small chunks copied together for one write. */
const WRITE_BATCH_BYTES = 1024 * 1024;

type Decoded = { ok: true; data: SnapshotData } | { ok: false; problem: SnapshotProblem };

/** Parses and verifies a snapshot; parts are views into `bytes`. */
export function decodeSnapshot(bytes: Uint8Array): Decoded {
  return runSteps(decodeSnapshotSteps(bytes));
}

/** {@link decodeSnapshot} as steps: the checksum pauses every few MiB. */
export function* decodeSnapshotSteps(bytes: Uint8Array): Steps<Decoded> {
  if (bytes.length < PREFIX_BYTES) return { ok: false, problem: "too_short" };
  for (let i = 0; i < MAGIC.length; i++)
    if (bytes[i] !== MAGIC[i]) return { ok: false, problem: "magic_invalid" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let register = -1;
  for (let at = 12; at < bytes.length; at += CHECKSUM_SLICE_BYTES) {
    register = crc32cUpdate(register, bytes, at, Math.min(bytes.length, at + CHECKSUM_SLICE_BYTES));
    yield;
  }
  if (view.getUint32(8, true) !== ~register >>> 0)
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
  const machines = new Map<string, SnapshotMachine>();
  let offset = PREFIX_BYTES + headerBytes;
  const take = (size: number | null): Uint8Array | null | "short" => {
    if (size === null) return null;
    if (offset + size > bytes.length) return "short";
    offset += size;
    return bytes.subarray(offset - size, offset);
  };
  for (const m of header.machines) {
    const parts = "sizeBytes" in m ? { format: 1, stateBytes: m.sizeBytes, recordsBytes: null } : m;
    const state = take(parts.stateBytes);
    const records = take(parts.recordsBytes);
    if (state === "short" || records === "short") return { ok: false, problem: "size_mismatch" };
    if (machines.has(m.name)) return { ok: false, problem: "header_invalid" };
    machines.set(m.name, { format: parts.format, state, records });
  }
  if (offset !== bytes.length) return { ok: false, problem: "size_mismatch" };
  const writtenBy = header.version === 1 ? null : header.writtenBy;
  return {
    ok: true,
    data: { walIndex: header.walIndex, wallMs: header.wallMs, writtenBy, machines },
  };
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
 * await writeSnapshot("/data/.vltair/snapshots", data, { sliceMs: 5, monotonicMs: () => performance.now() });
 * ```
 */
export async function writeSnapshot(
  dir: string,
  data: SnapshotToWrite,
  yielding: YieldingOptions,
): Promise<SnapshotFile> {
  const chunks = coalesce(
    await runStepsYielding(encodeSnapshotSteps(data), yielding),
    WRITE_BATCH_BYTES,
  );
  const finalPath = path.join(dir, snapshotFileName(data.walIndex));
  const tmpPath = `${finalPath}.tmp`;
  const handle = await fs.promises.open(tmpPath, "w", 0o644);
  try {
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length; ) {
        // At most a few MiB per write: the event loop runs between them where writes block it.
        const length = Math.min(chunk.length - at, CHECKSUM_SLICE_BYTES);
        const { bytesWritten } = await handle.write(chunk, at, length);
        at += bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmpPath, finalPath);
  await fsyncDirAsync(dir);
  return { walIndex: data.walIndex, path: finalPath };
}

/** Reads and verifies one snapshot file; I/O errors count as a problem, not a throw. */
export function readSnapshot(
  file: SnapshotFile,
): { ok: true; data: SnapshotData } | { ok: false; problem: SnapshotProblem | "unreadable" } {
  return runSteps(readSnapshotSteps(file));
}

/** {@link readSnapshot} as steps. */
export function* readSnapshotSteps(
  file: SnapshotFile,
): Steps<
  { ok: true; data: SnapshotData } | { ok: false; problem: SnapshotProblem | "unreadable" }
> {
  let bytes: Uint8Array;
  try {
    bytes = mapFileForReading(file.path);
  } catch {
    return { ok: false, problem: "unreadable" };
  }
  const decoded = yield* decodeSnapshotSteps(bytes);
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
