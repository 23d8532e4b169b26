/**
 * The context engine's WAL records (machine `context`). One upsert or delete batch is one
 * record, so a batch is atomic in the log, in every fold and in time travel. Versions, keys and
 * timestamps are not in the record: the fold derives them, so replay is exact.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { TOKENIZER_NAMES } from "../../search/mod.ts";
import { EmbedderIdentitySchema } from "../embed/mod.ts";

/** Name of the state machine and of its records. */
export const CONTEXT_MACHINE = "context";

const ScopeRecordSchema = v.object({
  kind: v.picklist(["global", "session", "task"]),
  id: v.optional(v.string()),
});

const UpsertItemSchema = v.object({
  id: v.string(),
  scope: ScopeRecordSchema,
  text: v.string(),
  metadata: v.optional(v.record(v.string(), v.unknown())),
  /**
   * The vector: a `Float32Array` (written as raw bytes in the record's blob body), or — in
   * records written before format 2 — its little-endian float32 bytes in base64.
   */
  vector: v.optional(
    v.union([
      v.custom<Float32Array>((x) => x instanceof Float32Array, "vector is not a Float32Array"),
      v.string(),
    ]),
  ),
  /** The content hash the server computed (hex SHA-256 of text, metadata and vector). */
  hash: v.string(),
});

const DeleteItemSchema = v.object({ id: v.string(), scope: ScopeRecordSchema });

export const ContextRecordSchema = v.variant("op", [
  v.object({
    op: v.literal("upsert"),
    tenant: v.string(),
    /** Tokenizer of the tenant's text index when this record creates it. */
    tokenizer: v.picklist(TOKENIZER_NAMES),
    /**
     * The embedder that made the server-embedded vectors of this batch; the tenant records the
     * first one it sees (embed/identity.ts). Absent when the server embedded nothing.
     */
    embedder: v.optional(EmbedderIdentitySchema),
    items: v.array(UpsertItemSchema),
  }),
  v.object({ op: v.literal("delete"), tenant: v.string(), items: v.array(DeleteItemSchema) }),
]);

export type ContextRecord = v.InferOutput<typeof ContextRecordSchema>;
export type UpsertItemRecord = v.InferOutput<typeof UpsertItemSchema>;

/** A vector in the base64 form of records written before format 2 (tests of old records). */
export function encodeVector(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
}

/** A record's vector: itself, or decoded from the base64 of an older record (a copy, aligned). */
export function decodeVector(vector: Float32Array | string): Float32Array {
  if (typeof vector !== "string") return vector;
  const bytes = Buffer.from(vector, "base64");
  const buffer = new ArrayBuffer(Math.floor(bytes.byteLength / 4) * 4);
  new Uint8Array(buffer).set(bytes.subarray(0, buffer.byteLength));
  return new Float32Array(buffer);
}
