/**
 * The content hash of a document: hex SHA-256 over its text, canonical metadata and the vector
 * the client sent (a server-made embedding is derived from the text, so it is not hashed: an
 * unchanged document is `skipped` without calling the embedder).
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "./filters/mod.ts";

export function contentHash(
  text: string,
  metadata: Record<string, unknown> | undefined,
  vector: readonly number[] | undefined,
): string {
  const hash = createHash("sha256");
  hash.update(text);
  hash.update("\u0000m");
  hash.update(metadata === undefined ? "-" : canonicalJson(metadata));
  hash.update("\u0000v");
  if (vector !== undefined) hash.update(new Uint8Array(Float32Array.from(vector).buffer));
  return hash.digest("hex");
}
