/**
 * Bounded capture of one output stream (AR-11, AR-15). At most `capBytes` bytes are kept,
 * whatever the child prints; the text is cut on a UTF-8 code-point boundary, ends with
 * `[TRUNCATED at N bytes]` (N = the cap) when the stream went over, and invalid UTF-8 becomes
 * U+FFFD.
 */
import { assert } from "../core/mod.ts";

/** The marker appended to a truncated stream. */
export function truncationMarker(capBytes: number): string {
  return `[TRUNCATED at ${capBytes} bytes]`;
}

/** Length in bytes of the UTF-8 sequence a lead byte announces; 0 for a continuation or invalid byte. */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

/**
 * The largest cut `<= bytes.length` that does not split a well-formed-looking multi-byte
 * sequence: a lead byte in the last three positions whose sequence would run past the end is
 * dropped with its continuation bytes. Invalid bytes are left for the decoder to replace.
 *
 * @example
 * ```ts
 * utf8Boundary(new Uint8Array([0x61, 0xe2, 0x82])); // 1 ("a", the cut "€" is dropped)
 * ```
 */
export function utf8Boundary(bytes: Uint8Array): number {
  const end = bytes.length;
  for (let back = 1; back <= 3 && back <= end; back += 1) {
    const pos = end - back;
    const byte = bytes[pos] ?? 0;
    if (byte >= 0x80 && byte < 0xc0) continue;
    const length = sequenceLength(byte);
    return length > back ? pos : end;
  }
  return end;
}

/** Decodes UTF-8, replacing each maximal invalid subpart with U+FFFD (WHATWG decoding). */
export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(bytes);
}

/** Capture of one stream with a hard byte cap. */
export class OutputCapture {
  readonly capBytes: number;
  private readonly chunks: Uint8Array[] = [];
  private keptBytes = 0;
  private seenBytes = 0;

  constructor(capBytes: number) {
    assert(Number.isInteger(capBytes) && capBytes > 0, "output cap is a positive integer");
    this.capBytes = capBytes;
  }

  /**
   * Takes one chunk; returns true when the stream has now gone over the cap (once true, every
   * later chunk is counted and dropped, so memory never exceeds `capBytes`).
   */
  push(chunk: Uint8Array): boolean {
    this.seenBytes += chunk.length;
    const room = this.capBytes - this.keptBytes;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(Uint8Array.from(part));
      this.keptBytes += part.length;
    }
    assert(this.keptBytes <= this.capBytes, "kept bytes within the cap");
    return this.truncated;
  }

  /** True once more than `capBytes` bytes arrived. */
  get truncated(): boolean {
    return this.seenBytes > this.capBytes;
  }

  /** Bytes the child wrote to this stream (kept or not). */
  get totalBytes(): number {
    return this.seenBytes;
  }

  /** The final text: decoded, cut on a code point, with the marker when truncated. */
  text(): string {
    const joined = new Uint8Array(this.keptBytes);
    let offset = 0;
    for (const chunk of this.chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    if (!this.truncated) return decodeUtf8(joined);
    const cut = utf8Boundary(joined);
    return `${decodeUtf8(joined.subarray(0, cut))}\n${truncationMarker(this.capBytes)}`;
  }
}
