/**
 * The content hash of a document: hex SHA-256 over its text, canonical metadata and the vector
 * the client sent (a server-made embedding is derived from the text, so it is not hashed: an
 * unchanged document is `skipped` without calling the embedder).
 */
import { createSha256 } from "../platform/mod.ts";
import { canonicalJson } from "./filters/mod.ts";

export function contentHash(
  text: string,
  metadata: Record<string, unknown> | undefined,
  vector: readonly number[] | undefined,
): string {
  const hash = createSha256();
  hash.update(text);
  hash.update("\u0000m");
  hash.update(metadata === undefined ? "-" : canonicalJson(metadata));
  hash.update("\u0000v");
  if (vector !== undefined) {
    // An ArrayBuffer made first: `.buffer` of a small typed array costs a copy in JSC.
    const bytes = new ArrayBuffer(vector.length * 4);
    new Float32Array(bytes).set(vector);
    hash.update(new Uint8Array(bytes));
  }
  return hash.digestHex();
}
