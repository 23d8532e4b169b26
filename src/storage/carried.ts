/**
 * Carried machines: the state and records of a state machine this binary does not know (a
 * subsystem added by a newer vltair, seen after a rollback). They are never dropped: recovery
 * keeps the machine's last snapshot bytes and every later record of it, and each snapshot this
 * binary writes carries them on, so a binary that knows the machine again restores its bytes and
 * folds the records as if it had never been away (ARCHITECTURE decision 10). State machines are
 * independent folds, so a machine's records can be applied after the others' without changing
 * any result.
 *
 * Records part layout: `u32 count`, then per record `f64 walIndex, f64 wallMs, u32 length, body`
 * (little-endian).
 */
import { VltairError } from "../core/mod.ts";

/** One record of a carried machine, with its body as the log holds it. */
export interface CarriedRecord {
  walIndex: number;
  wallMs: number;
  body: Uint8Array;
}

/** A machine this binary does not know, kept intact. */
export interface CarriedMachine {
  /** The machine's snapshot format, as the binary that wrote the snapshot declared it. */
  format: number;
  /** Its state bytes from the snapshot recovery started at; null when it had none. */
  state: Uint8Array | null;
  /** Its records after that snapshot, in log order. */
  records: CarriedRecord[];
}

const RECORD_HEADER_BYTES = 20;

/**
 * Encodes carried records for a snapshot's records part.
 *
 * @example
 * ```ts
 * const bytes = encodeCarriedRecords([{ walIndex: 7, wallMs: 0, body: new Uint8Array([123, 125]) }]);
 * ```
 */
export function encodeCarriedRecords(records: readonly CarriedRecord[]): Uint8Array {
  let size = 4;
  for (const r of records) size += RECORD_HEADER_BYTES + r.body.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, records.length, true);
  let at = 4;
  for (const r of records) {
    view.setFloat64(at, r.walIndex, true);
    view.setFloat64(at + 8, r.wallMs, true);
    view.setUint32(at + 16, r.body.length, true);
    out.set(r.body, at + RECORD_HEADER_BYTES);
    at += RECORD_HEADER_BYTES + r.body.length;
  }
  return out;
}

function malformed(why: string): VltairError {
  return new VltairError("unavailable", `carried records of a snapshot are invalid: ${why}`, {
    details: { reason: "snapshot_invalid" },
  });
}

/** Decodes {@link encodeCarriedRecords}'s bytes (copies the bodies); throws `unavailable`. */
export function decodeCarriedRecords(bytes: Uint8Array): CarriedRecord[] {
  if (bytes.length < 4) throw malformed("too short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (count * RECORD_HEADER_BYTES > bytes.length) throw malformed("count");
  const records: CarriedRecord[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_HEADER_BYTES > bytes.length) throw malformed("truncated");
    const walIndex = view.getFloat64(at, true);
    const wallMs = view.getFloat64(at + 8, true);
    const length = view.getUint32(at + 16, true);
    const end = at + RECORD_HEADER_BYTES + length;
    if (end > bytes.length) throw malformed("truncated");
    if (!Number.isSafeInteger(walIndex) || walIndex < 1) throw malformed("wal index");
    if (!Number.isSafeInteger(wallMs) || wallMs < 0) throw malformed("wall time");
    records.push({ walIndex, wallMs, body: bytes.slice(at + RECORD_HEADER_BYTES, end) });
    at = end;
  }
  if (at !== bytes.length) throw malformed("trailing bytes");
  return records;
}
