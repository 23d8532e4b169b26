/**
 * The `tokens` state machine: API tokens as WAL records (issue 15), so a token created through
 * a running server or the CLI is the same record, in the same log, in every snapshot. Only a
 * token's SHA-256 is stored. Ids, hashes and times are fields of the record, decided once by
 * the command that made it (`TokenService`); `apply` reads no clock and draws no randomness.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { applyInPlace, type StateMachine } from "../storage/mod.ts";
import { type Role, RoleSchema, SubjectSchema, TenantSchema } from "./roles.ts";

/** Name of the machine and of its records. */
export const TOKENS_MACHINE = "tokens";

export const TokenIdSchema = v.pipe(
  v.string(),
  v.regex(/^tok_[0-9a-f]{16}$/, "must look like tok_<16 hex>"),
);

const CreateRecord = v.strictObject({
  op: v.literal("create"),
  id: TokenIdSchema,
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  subject: SubjectSchema,
  tenant: TenantSchema,
  roles: v.pipe(v.array(RoleSchema), v.minLength(1)),
  created_at: v.pipe(v.string(), v.isoTimestamp()),
});
const RevokeRecord = v.strictObject({
  op: v.literal("revoke"),
  id: TokenIdSchema,
  revoked_at: v.pipe(v.string(), v.isoTimestamp()),
});

/** A token record (also the line format of the legacy `tokens.jsonl`). */
export const TokenRecordSchema = v.variant("op", [CreateRecord, RevokeRecord]);
export type TokenRecord = v.InferOutput<typeof TokenRecordSchema>;

/** What `list` shows of a token: never the token or its hash. */
export interface TokenInfo {
  id: string;
  subject: string;
  tenant: string;
  roles: Role[];
  created_at: string;
  revoked_at: string | null;
}

/** A stored token: its public info and its digest. */
export interface TokenEntry extends TokenInfo {
  sha256: string;
}

/** Every token, by id and by digest. */
export class TokensState {
  readonly byId = new Map<string, TokenEntry>();
  readonly byHash = new Map<string, TokenEntry>();

  /** Folds one record (the machine's `apply`); a revocation of an unknown id changes nothing. */
  apply(record: TokenRecord): void {
    if (record.op === "create") {
      const { op: _op, ...fields } = record;
      const entry: TokenEntry = { ...fields, roles: [...fields.roles], revoked_at: null };
      this.byId.set(entry.id, entry);
      this.byHash.set(entry.sha256, entry);
      return;
    }
    const entry = this.byId.get(record.id);
    if (entry !== undefined && entry.revoked_at === null) entry.revoked_at = record.revoked_at;
  }

  /** Tokens not revoked. */
  activeCount(): number {
    let count = 0;
    for (const entry of this.byId.values()) if (entry.revoked_at === null) count++;
    return count;
  }
}

const SnapshotSchema = v.array(
  v.object({
    ...CreateRecord.entries,
    revoked_at: v.nullable(v.pipe(v.string(), v.isoTimestamp())),
  }),
);

/** Creates the machine. `apply` mutates the state it is given (the storage owns the only live one). */
export function createTokensMachine(): StateMachine<TokensState, TokenRecord> {
  return {
    name: TOKENS_MACHINE,
    schema: TokenRecordSchema,
    init: () => new TokensState(),
    apply: applyInPlace,
    snapshot: (state) =>
      Buffer.from(
        JSON.stringify([...state.byId.values()].map((e) => ({ op: "create", ...e }))),
        "utf8",
      ),
    restore: (bytes) => {
      const state = new TokensState();
      const rows = v.parse(SnapshotSchema, JSON.parse(Buffer.from(bytes).toString("utf8")));
      for (const row of rows) {
        const { revoked_at, ...create } = row;
        state.apply(create);
        if (revoked_at !== null) state.apply({ op: "revoke", id: row.id, revoked_at });
      }
      return state;
    },
  };
}
