/**
 * A layout for a machine's snapshot state that a restore can read without parsing most of it:
 * `[magic, 8 bytes][headerBytes u32 LE][header JSON][parts…]`. The header (small: one entry per run
 * or per chain) says how long each part is; the parts (journals, record lists) are kept as bytes
 * and parsed when first read. Used by the runs and audit machines, whose states grow with every
 * run.
 */
import { Buffer } from "node:buffer";
import process from "node:process";

const MAGIC_BYTES = 8;
const PREFIX_BYTES = MAGIC_BYTES + 4;

/**
 * `header` (JSON) and `parts` after `magic` (8 ASCII characters), as pieces for a machine's
 * `snapshotParts` (the parts are not copied); {@link joinParts} gives `snapshot`'s one buffer.
 */
export function encodeParts(
  magic: string,
  header: unknown,
  parts: readonly Uint8Array[],
): Uint8Array[] {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  if (prefix.write(magic, 0, "latin1") !== MAGIC_BYTES) throw new Error("magic of 8 characters");
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  prefix.writeUInt32LE(headerBytes.length, MAGIC_BYTES);
  return [prefix, headerBytes, ...parts];
}

/** Pieces joined into one buffer. */
export function joinParts(pieces: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(pieces);
}

/**
 * A machine's `snapshot` and `snapshotParts` from one function giving the pieces.
 *
 * @example
 * ```ts
 * const machine = { name: "runs", ...snapshotInParts(encodeRunsSnapshotParts), … };
 * ```
 */
export function snapshotInParts<S>(parts: (state: S) => Uint8Array[]): {
  snapshot(state: S): Uint8Array;
  snapshotParts(state: S): Uint8Array[];
} {
  return { snapshot: (state) => joinParts(parts(state)), snapshotParts: parts };
}

/** Whether `bytes` begin with `magic` (otherwise they are an older layout). */
export function hasMagic(bytes: Uint8Array, magic: string): boolean {
  if (bytes.length < PREFIX_BYTES) return false;
  for (let i = 0; i < MAGIC_BYTES; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** UTF-8 text of `bytes` without copying them first. */
export function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/**
 * The header (parsed JSON) and the parts' bytes of an {@link encodeParts} layout whose magic was
 * checked; the caller splits `parts` by the sizes its header lists.
 */
export function decodeParts(bytes: Uint8Array): { header: unknown; parts: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = PREFIX_BYTES + view.getUint32(MAGIC_BYTES, true);
  if (end > bytes.length) throw new Error("snapshot part: header beyond the end");
  const header = JSON.parse(utf8Text(bytes.subarray(PREFIX_BYTES, end)));
  return { header, parts: retained(bytes.subarray(end)) };
}

/**
 * Bytes kept after restore. A snapshot's bytes are a private mapping of its file where the
 * runtime maps files (platform/map-file.ts): a view keeps the mapping (clean page-cache pages the
 * kernel may drop, still valid after the file is deleted) instead of copying hundreds of MiB into
 * fresh memory — on this VM such a copy ran at ~250 MB/s. But a view pins the *whole* mapping:
 * a few KiB of audit records would keep a 375 MB snapshot of 100k context chunks resident (the
 * server's RSS when ready was 959 MB instead of 580). So parts under `VIEW_BYTES_MIN` are copied.
 * Windows cannot delete a mapped file (old snapshots are pruned later), so there the bytes are
 * always copied.
 */
function retained(bytes: Uint8Array): Uint8Array {
  return process.platform === "win32" || bytes.length < VIEW_BYTES_MIN ? bytes.slice() : bytes;
}

/** Parts smaller than this are copied out of the mapped snapshot (a copy of 16 MiB: ~60 ms here). */
const VIEW_BYTES_MIN = 16 * 1024 * 1024;

/** Splits `parts` into consecutive pieces of `sizes` bytes; throws when they do not add up. */
export class PartReader {
  #offset = 0;
  constructor(readonly parts: Uint8Array) {}

  next(sizeBytes: number): Uint8Array {
    if (
      !Number.isSafeInteger(sizeBytes) ||
      sizeBytes < 0 ||
      this.#offset + sizeBytes > this.parts.length
    )
      throw new Error("snapshot part: parts shorter than the header lists");
    this.#offset += sizeBytes;
    return this.parts.subarray(this.#offset - sizeBytes, this.#offset);
  }

  /** Throws unless every byte was taken. */
  end(): void {
    if (this.#offset !== this.parts.length)
      throw new Error("snapshot part: parts longer than the header lists");
  }
}
