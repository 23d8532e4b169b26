/**
 * Incremental SHA-256 with a hex digest: Bun's native hasher on Bun (2–3 µs for a 2 KB text,
 * against 4–11 µs through its `node:crypto` layer), `node:crypto` on Deno and Node. Both hash
 * strings as UTF-8, so the digest is the same on every runtime.
 */
import { createHash } from "node:crypto";

/** A running SHA-256. */
export interface Sha256 {
  update(data: string | Uint8Array): Sha256;
  /** The lowercase hex digest; the hasher must not be used afterwards. */
  digestHex(): string;
}

interface BunHasher {
  update(data: string | Uint8Array): unknown;
  digest(encoding: "hex"): string;
}
type BunHasherClass = new (algorithm: "sha256") => BunHasher;

const BunCryptoHasher = (globalThis as { Bun?: { CryptoHasher?: BunHasherClass } }).Bun
  ?.CryptoHasher;

/** Starts a SHA-256. */
export function createSha256(): Sha256 {
  const hasher: BunHasher =
    BunCryptoHasher !== undefined ? new BunCryptoHasher("sha256") : createHash("sha256");
  const self: Sha256 = {
    update(data) {
      hasher.update(data);
      return self;
    },
    digestHex: () => hasher.digest("hex"),
  };
  return self;
}
