/**
 * Little-endian byte writer and bounds-checked reader for the text index's serialized form:
 * LEB128 varints for counts, lengths and deltas, f64 for parameters, UTF-8 for strings.
 */
import { VltairError } from "../../core/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** Largest varint this codec reads: 2^53 − 1 fits a JS number exactly. */
const VARINT_BYTES_MAX = 8;

/** A growable byte buffer. */
export class ByteWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  /**
   * `capacityBytes` is the room to start with. An upper bound of what will be written costs
   * nothing past the pages actually written (a fresh array is not touched until written), and
   * saves the copies of growing: each is fresh pages, ~10 µs apiece on this VM (ADR 0024).
   */
  constructor(capacityBytes = 4096) {
    this.#bytes = new Uint8Array(capacityBytes);
    this.#view = new DataView(this.#bytes.buffer);
  }

  #reserve(count: number): void {
    if (this.#length + count <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#length + count, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
  }

  u32(value: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value, true);
    this.#length += 4;
  }

  f64(value: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(value: number): void {
    this.#reserve(VARINT_BYTES_MAX + 1);
    let rest = value;
    while (rest >= 0x80) {
      this.#bytes[this.#length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#bytes[this.#length++] = rest;
  }

  /** Byte length (varint) then UTF-8 bytes. */
  string(value: string): void {
    this.#reserve(value.length * 3 + VARINT_BYTES_MAX + 1);
    const lengthAt = this.#length;
    const { written } = encoder.encodeInto(
      value,
      this.#bytes.subarray(lengthAt + VARINT_BYTES_MAX),
    );
    this.varint(written);
    this.#bytes.copyWithin(
      this.#length,
      lengthAt + VARINT_BYTES_MAX,
      lengthAt + VARINT_BYTES_MAX + written,
    );
    this.#length += written;
  }

  /**
   * A string block: `varint byteLength`, the UTF-8 of `values` concatenated, then each
   * value's `varint length` in UTF-16 code units (see `ByteReader.strings`).
   */
  strings(values: readonly string[]): void {
    const utf8 = encoder.encode(values.join(""));
    this.varint(utf8.length);
    this.#reserve(utf8.length);
    this.#bytes.set(utf8, this.#length);
    this.#length += utf8.length;
    for (const value of values) this.varint(value.length);
  }

  /**
   * The bytes written, as a view of the writer's buffer (not a copy); the writer is done and must
   * not be written to again.
   */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }
}

/** The error of malformed serialized bytes. */
export function malformed(reason: string): VltairError {
  return new VltairError("validation_failed", `serialized text index is malformed: ${reason}`, {
    details: { field: "bytes", reason },
  });
}

/** Reads what `ByteWriter` wrote; every read past the end throws `validation_failed`. */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  get isAtEnd(): boolean {
    return this.#offset === this.#bytes.length;
  }

  #take(count: number): number {
    if (this.#offset + count > this.#bytes.length) throw malformed("truncated");
    const at = this.#offset;
    this.#offset += count;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  f64(): number {
    return this.#view.getFloat64(this.#take(8), true);
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < VARINT_BYTES_MAX; i++) {
      const byte = this.#view.getUint8(this.#take(1));
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw malformed("varint too long");
  }

  /**
   * Reads `count` postings (`varint slotDelta`, `varint termFrequency`) into `pool` at `at`;
   * throws `validation_failed` unless every slot is below `slotLimit` and every frequency is
   * positive. One tight loop: this is most of the bytes of a serialized index.
   */
  postings(count: number, pool: Uint32Array, at: number, slotLimit: number): void {
    const bytes = this.#bytes;
    let offset = this.#offset;
    let slot = -1;
    let write = at;
    for (let posting = 0; posting < count; posting++) {
      for (let field = 0; field < 2; field++) {
        // Most slot deltas and frequencies fit one byte: read those without the loop.
        let value = offset < bytes.length ? (bytes[offset] as number) : 0x80;
        if (value < 0x80) {
          offset++;
        } else {
          value = 0;
          let scale = 1;
          for (let i = 0; ; i++) {
            if (i === VARINT_BYTES_MAX || offset >= bytes.length) throw malformed("posting varint");
            const byte = bytes[offset++] as number;
            value += (byte & 0x7f) * scale;
            if (byte < 0x80) break;
            scale *= 0x80;
          }
        }
        if (field === 0) {
          slot += value + 1;
          if (slot >= slotLimit) throw malformed("posting slot");
          pool[write++] = slot;
        } else {
          if (value < 1 || value > 0xffffffff) throw malformed("posting frequency");
          pool[write++] = value;
        }
      }
    }
    this.#offset = offset;
  }

  /**
   * Reads a string block of `count` strings written by `ByteWriter.strings`: one UTF-8 decode,
   * then slices. Throws `validation_failed` when the lengths do not add up to the decoded text
   * or a cut splits a surrogate pair (so every string is well-formed, as a decoded one is).
   */
  strings(count: number): string[] {
    const text = this.#utf8(this.varint());
    if (count > this.remaining) throw malformed("string count");
    const values = new Array<string>(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = this.varint();
      const end = at + length;
      if (end > text.length) throw malformed("string lengths");
      const last = text.charCodeAt(end - 1);
      if (length > 0 && last >= 0xd800 && last <= 0xdbff) throw malformed("split surrogate");
      values[i] = text.slice(at, end);
      at = end;
    }
    if (at !== text.length) throw malformed("string lengths");
    return values;
  }

  string(): string {
    return this.#utf8(this.varint());
  }

  #utf8(length: number): string {
    const at = this.#take(length);
    try {
      return decoder.decode(this.#bytes.subarray(at, at + length));
    } catch (error) {
      throw new VltairError("validation_failed", "serialized text index holds invalid UTF-8", {
        details: { field: "bytes", reason: "utf8" },
        cause: error,
      });
    }
  }
}
