/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL frame and
 * snapshot. Slicing-by-8 over eight 256-entry tables: recovery checksums every byte of the log,
 * so the inner loop consumes eight bytes per step instead of one.
 */

const POLY_REFLECTED = 0x82f63b78;
const TABLE_COUNT = 8;

function buildTables(): Int32Array {
  const tables = new Int32Array(256 * TABLE_COUNT);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    tables[n] = c | 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n] as number;
    for (let t = 1; t < TABLE_COUNT; t++) {
      c = (tables[c & 0xff] as number) ^ (c >>> 8);
      tables[t * 256 + n] = c | 0;
    }
  }
  return tables;
}

const T = buildTables();

/**
 * Returns the CRC-32C of `bytes[start, end)` as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  return ~crc32cUpdate(-1, bytes, start, end) >>> 0;
}

/**
 * Folds `bytes[start, end)` into a running CRC-32C register (start from -1; the checksum is
 * `~register >>> 0`), so a large buffer can be checked in slices.
 */
export function crc32cUpdate(
  register: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  let crc = register;
  let i = start;
  const fastEnd = end - ((end - start) & 7);
  while (i < fastEnd) {
    const lo =
      crc ^
      ((bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24));
    const hi =
      (bytes[i + 4] as number) |
      ((bytes[i + 5] as number) << 8) |
      ((bytes[i + 6] as number) << 16) |
      ((bytes[i + 7] as number) << 24);
    crc =
      (T[7 * 256 + (lo & 0xff)] as number) ^
      (T[6 * 256 + ((lo >>> 8) & 0xff)] as number) ^
      (T[5 * 256 + ((lo >>> 16) & 0xff)] as number) ^
      (T[4 * 256 + (lo >>> 24)] as number) ^
      (T[3 * 256 + (hi & 0xff)] as number) ^
      (T[2 * 256 + ((hi >>> 8) & 0xff)] as number) ^
      (T[256 + ((hi >>> 16) & 0xff)] as number) ^
      (T[(hi >>> 24) & 0xff] as number);
    i += 8;
  }
  while (i < end) {
    crc = (T[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
    i++;
  }
  return crc;
}
