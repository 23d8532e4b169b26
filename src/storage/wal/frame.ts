/**
 * WAL framing (ARCHITECTURE.md decision 6): `[len u32][crc32c u32][type u8][payload]`, little endian.
 *
 * `len` counts the payload bytes only; the CRC covers the type byte and the payload, so a frame
 * whose length field is damaged fails either the bounds check or the checksum. A record payload is
 * `[walIndex u64][wallMs u64][nameLen u8][machine name][body]`: the index and the timestamp sit
 * inside the checksummed bytes, so a frame copied to the wrong place is detected by its index.
 */
import { assert } from "../../core/mod.ts";
import { crc32c } from "./crc32c.ts";

/** Bytes before the payload: length, checksum, type. */
export const FRAME_HEADER_BYTES = 9;
/** Payload bytes before the machine name: index, wall clock, name length. */
export const RECORD_FIXED_BYTES = 17;
/** A record of an append batch that has more records after it. */
export const FRAME_TYPE_RECORD = 1;
/** The last record of an append batch: a batch is complete on disk only once this is present. */
export const FRAME_TYPE_RECORD_LAST = 2;
/** Machine names: short, lowercase, printable; they are written into every frame. */
export const MACHINE_NAME_PATTERN = /^[a-z][a-z0-9._-]{0,63}$/;

/** One decoded frame; `body` is a view into the scanned buffer (no copy). */
export interface DecodedFrame {
  type: number;
  walIndex: number;
  wallMs: number;
  machine: string;
  body: Uint8Array;
  /** Offset of the first byte after this frame. */
  endOffset: number;
}

/** Why bytes at an offset are not a frame; a stable, matchable value. */
export type FrameProblem =
  | "short_header"
  | "length_invalid"
  | "truncated"
  | "checksum_mismatch"
  | "type_invalid"
  | "name_invalid"
  | "index_invalid";

/** What {@link writeFrame} puts at an offset. */
export interface FrameInput {
  type: number;
  walIndex: number;
  wallMs: number;
  nameBytes: Uint8Array;
  body: Uint8Array;
}

/** Size on disk of a record frame with this name and body. */
export function frameSizeBytes(nameSizeBytes: number, bodySizeBytes: number): number {
  return FRAME_HEADER_BYTES + RECORD_FIXED_BYTES + nameSizeBytes + bodySizeBytes;
}

function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x100000000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x100000000), true);
}

function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x100000000;
}

/**
 * Encodes one record frame into `buffer` at `offset` and returns the offset after it.
 *
 * @example
 * ```ts
 * const end = writeFrame(buf, 0, { type: FRAME_TYPE_RECORD_LAST, walIndex: 1, wallMs: 0, nameBytes, body });
 * ```
 */
export function writeFrame(buffer: Uint8Array, offset: number, input: FrameInput): number {
  assert(input.type === FRAME_TYPE_RECORD || input.type === FRAME_TYPE_RECORD_LAST, "frame type");
  assert(
    Number.isSafeInteger(input.walIndex) && input.walIndex >= 1,
    "walIndex is a safe integer >= 1",
  );
  assert(Number.isSafeInteger(input.wallMs) && input.wallMs >= 0, "wallMs is a safe integer >= 0");
  assert(input.nameBytes.length >= 1 && input.nameBytes.length <= 64, "machine name size 1..64");
  const payloadBytes = RECORD_FIXED_BYTES + input.nameBytes.length + input.body.length;
  const end = offset + FRAME_HEADER_BYTES + payloadBytes;
  assert(end <= buffer.length, "frame fits the buffer");
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  view.setUint32(offset, payloadBytes, true);
  buffer[offset + 8] = input.type;
  const p = offset + FRAME_HEADER_BYTES;
  writeU64(view, p, input.walIndex);
  writeU64(view, p + 8, input.wallMs);
  buffer[p + 16] = input.nameBytes.length;
  buffer.set(input.nameBytes, p + RECORD_FIXED_BYTES);
  buffer.set(input.body, p + RECORD_FIXED_BYTES + input.nameBytes.length);
  view.setUint32(offset + 4, crc32c(buffer, offset + 8, end), true);
  return end;
}

/** The last decoded machine name: consecutive records mostly share one, so reuse its string. */
let lastName = "";
let lastNameBytes = new Uint8Array(0);

function decodeName(bytes: Uint8Array, start: number, end: number): string | null {
  const length = end - start;
  if (length === lastNameBytes.length) {
    let same = true;
    for (let i = 0; i < length && same; i++) same = bytes[start + i] === lastNameBytes[i];
    if (same) return lastName;
  }
  let name = "";
  for (let i = start; i < end; i++) name += String.fromCharCode(bytes[i] as number);
  if (!MACHINE_NAME_PATTERN.test(name)) return null;
  lastName = name;
  lastNameBytes = bytes.slice(start, end);
  return name;
}

/**
 * Decodes the frame at `offset` of `bytes[0, end)`, checking bounds, checksum, type, name and index.
 * `payloadBytesMax` bounds the length field so a damaged length never reads past the limit.
 * Pass `view` (a DataView over `bytes`) when decoding many frames of one buffer.
 *
 * @example
 * ```ts
 * const read = readFrame(bytes, 0, bytes.length, 1 << 20);
 * if (typeof read !== "string") console.log(read.walIndex);
 * ```
 */
export function readFrame(
  bytes: Uint8Array,
  offset: number,
  end: number,
  payloadBytesMax: number,
  view: DataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
): DecodedFrame | FrameProblem {
  if (end - offset < FRAME_HEADER_BYTES) return "short_header";
  const payloadBytes = view.getUint32(offset, true);
  if (payloadBytes < RECORD_FIXED_BYTES + 1 || payloadBytes > payloadBytesMax)
    return "length_invalid";
  const frameEnd = offset + FRAME_HEADER_BYTES + payloadBytes;
  if (frameEnd > end) return "truncated";
  const type = bytes[offset + 8] as number;
  if (type !== FRAME_TYPE_RECORD && type !== FRAME_TYPE_RECORD_LAST) return "type_invalid";
  if (view.getUint32(offset + 4, true) !== crc32c(bytes, offset + 8, frameEnd))
    return "checksum_mismatch";
  const p = offset + FRAME_HEADER_BYTES;
  const walIndex = readU64(view, p);
  const wallMs = readU64(view, p + 8);
  if (!Number.isSafeInteger(walIndex) || walIndex < 1 || !Number.isSafeInteger(wallMs))
    return "index_invalid";
  const nameBytes = bytes[p + 16] as number;
  const nameEnd = p + RECORD_FIXED_BYTES + nameBytes;
  if (nameBytes < 1 || nameEnd > frameEnd) return "name_invalid";
  const machine = decodeName(bytes, p + RECORD_FIXED_BYTES, nameEnd);
  if (machine === null) return "name_invalid";
  return {
    type,
    walIndex,
    wallMs,
    machine,
    body: bytes.subarray(nameEnd, frameEnd),
    endOffset: frameEnd,
  };
}

/** Payload bytes the framing accepts for a given body limit (name and fixed fields included). */
export function payloadBytesMaxOf(limits: { recordBytesMax: number }): number {
  return limits.recordBytesMax + RECORD_FIXED_BYTES + 64;
}
