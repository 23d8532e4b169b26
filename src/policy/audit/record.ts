/**
 * Audit records (issue 17 item 5): one per decision, side effect, auth failure, token and
 * policy change; SHA-256-chained per tenant over canonical JSON, so an edit, a deletion or a
 * reordering of any record breaks the chain at that record. The hash is computed when the
 * record is committed (the audit hook) and stored in it; `apply` only files it.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";

/** The chain of events that belong to no tenant (an unknown token): the operator reads it. */
export const SERVER_CHAIN = "*";

/** `prev_hash` of a chain's first record. */
export const GENESIS_HASH = "0".repeat(64);

const Hash = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "must be 64 hex digits"));

/** What an audited event says, before it is sequenced and chained. */
export const AuditEventSchema = v.object({
  /** The tenant whose chain holds the record ({@link SERVER_CHAIN} for none). */
  tenant: v.string(),
  subject: v.string(),
  /** `context.write`, `context.delete`, `token.create`, `token.revoke`, `exec`, `auth.failed`… */
  action: v.string(),
  /** What was acted on (`context/global/src/a.ts`, `token/tok_…`, `sandbox/default`). */
  resource: v.string(),
  decision: v.picklist(["allow", "deny"]),
  /** Policy ids or fixed reason words; never free text from a request. */
  reasons: v.array(v.string()),
  policy_version: v.nullable(v.number()),
  trace_id: v.string(),
  run_id: v.nullable(v.string()),
  /** Small structured facts (counts, statuses); no secrets, no request bodies. */
  details: v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null()])),
});
export type AuditEvent = v.InferOutput<typeof AuditEventSchema>;

/** A chained record. */
export const AuditRecordSchema = v.object({
  seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  ts: v.pipe(v.string(), v.isoTimestamp()),
  ...AuditEventSchema.entries,
  prev_hash: Hash,
  hash: Hash,
});
export type AuditRecord = v.InferOutput<typeof AuditRecordSchema>;

/**
 * JSON with object keys sorted at every depth (UTF-16 code unit order): one byte string per value.
 * Keys whose value is `undefined` are left out. Written as one pass over sorted keys (no sorted
 * copies of the entries): every audit record is hashed through it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const object = value as Record<string, unknown>;
  let out = "{";
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? "" : ","}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** The hash a record must carry: SHA-256 of its canonical JSON without `hash`. */
export function hashOf(record: Omit<AuditRecord, "hash">): string {
  const { hash: _hash, ...rest } = record as AuditRecord;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

/** The tip a chain continues from. */
export interface ChainTip {
  seq: number;
  hash: string;
}

/**
 * Chains `events` after `tip`, in order.
 *
 * @example
 * ```ts
 * const records = chain({ seq: 0, hash: GENESIS_HASH }, [event], "2026-12-04T00:00:00.000Z");
 * ```
 */
export function chain(tip: ChainTip, events: readonly AuditEvent[], ts: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  let { seq, hash } = tip;
  for (const event of events) {
    const unsealed = { ...event, seq: seq + 1, ts, prev_hash: hash };
    const record = { ...unsealed, hash: hashOf(unsealed) };
    out.push(record);
    seq = record.seq;
    hash = record.hash;
  }
  return out;
}

/** Where a chain is broken, or null when every link holds. */
export interface ChainBreak {
  tenant: string;
  /** The first record that does not verify (its `seq` as stored, or the expected one). */
  seq: number;
  reason: "hash_mismatch" | "prev_hash_mismatch" | "seq_gap" | "wrong_chain";
}

/**
 * Verifies one tenant's records from `anchor` (the tip of what retention compacted away).
 *
 * @example
 * ```ts
 * verifyChain("acme", { seq: 0, hash: GENESIS_HASH }, records); // null when intact
 * ```
 */
export function verifyChain(
  tenant: string,
  anchor: ChainTip,
  records: readonly AuditRecord[],
): ChainBreak | null {
  let { seq, hash } = anchor;
  for (const record of records) {
    if (record.tenant !== tenant) return { tenant, seq: record.seq, reason: "wrong_chain" };
    if (record.seq !== seq + 1) return { tenant, seq: seq + 1, reason: "seq_gap" };
    if (record.prev_hash !== hash) return { tenant, seq: record.seq, reason: "prev_hash_mismatch" };
    if (hashOf(record) !== record.hash) return { tenant, seq: record.seq, reason: "hash_mismatch" };
    seq = record.seq;
    hash = record.hash;
  }
  return null;
}
