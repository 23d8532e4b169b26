/**
 * The `audit` state machine: each tenant's chain of audit records, and the anchor that
 * retention left in place of what it compacted (the tip of the last dropped record, so the
 * remaining chain still verifies). `apply` files records as committed; it checks nothing, so
 * `vltair audit verify` sees exactly what the log holds.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import type { StateMachine } from "../../storage/mod.ts";
import { type AuditRecord, AuditRecordSchema, type ChainTip, GENESIS_HASH } from "./record.ts";

/** Name of the machine and of its records. */
export const AUDIT_MACHINE = "audit";

export const AuditBodySchema = v.variant("op", [
  v.strictObject({ op: v.literal("append"), records: v.array(AuditRecordSchema) }),
  /** Retention: drops `tenant`'s records up to `through_seq`, keeping the last one's tip. */
  v.strictObject({
    op: v.literal("compact"),
    tenant: v.string(),
    through_seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  }),
]);
export type AuditBody = v.InferOutput<typeof AuditBodySchema>;

/** One tenant's chain. */
export interface AuditChain {
  anchor: ChainTip;
  records: AuditRecord[];
}

/** Every tenant's chain. */
export class AuditState {
  readonly chains = new Map<string, AuditChain>();

  /** The chain of `tenant` (empty when it has none). */
  chainOf(tenant: string): AuditChain {
    return this.chains.get(tenant) ?? { anchor: { seq: 0, hash: GENESIS_HASH }, records: [] };
  }

  /** The tip a new record of `tenant` links to. */
  tipOf(tenant: string): ChainTip {
    const chain = this.chainOf(tenant);
    const last = chain.records.at(-1);
    return last === undefined ? chain.anchor : { seq: last.seq, hash: last.hash };
  }

  apply(body: AuditBody): void {
    if (body.op === "append") {
      for (const record of body.records) {
        const chain = this.chains.get(record.tenant) ?? {
          anchor: { seq: 0, hash: GENESIS_HASH },
          records: [],
        };
        chain.records.push(record);
        this.chains.set(record.tenant, chain);
      }
      return;
    }
    const chain = this.chains.get(body.tenant);
    if (chain === undefined) return;
    const cut = chain.records.findIndex((r) => r.seq > body.through_seq);
    const dropped = cut === -1 ? chain.records.length : cut;
    const last = chain.records[dropped - 1];
    if (last === undefined) return;
    chain.anchor = { seq: last.seq, hash: last.hash };
    chain.records = chain.records.slice(dropped);
  }
}

/**
 * A snapshot's chains. The records were validated when committed and the snapshot file is
 * checksummed, so restore checks each record's chain fields (seq, hash) but not every field
 * again — re-validating every record was a large share of recovering a data directory with many
 * runs (two audit records each); `vltair audit verify` re-checks the chains themselves.
 */
const TrustedAuditRecord = v.pipe(
  v.looseObject({ seq: v.number(), hash: v.string() }),
  v.transform((record) => record as unknown as v.InferOutput<typeof AuditRecordSchema>),
);
const SnapshotSchema = v.array(
  v.object({
    tenant: v.string(),
    anchor: v.object({ seq: v.number(), hash: v.string() }),
    records: v.array(TrustedAuditRecord),
  }),
);

/** Creates the machine. */
export function createAuditMachine(): StateMachine<AuditState, AuditBody> {
  return {
    name: AUDIT_MACHINE,
    schema: AuditBodySchema,
    init: () => new AuditState(),
    apply: (state, record) => {
      state.apply(record.body);
      return state;
    },
    snapshot: (state) =>
      Buffer.from(
        JSON.stringify([...state.chains].map(([tenant, chain]) => ({ tenant, ...chain }))),
        "utf8",
      ),
    restore: (bytes) => {
      const state = new AuditState();
      const rows = v.parse(SnapshotSchema, JSON.parse(Buffer.from(bytes).toString("utf8")));
      for (const row of rows) {
        state.chains.set(row.tenant, { anchor: row.anchor, records: row.records });
      }
      return state;
    },
  };
}
