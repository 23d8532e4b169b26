/**
 * The `audit` state machine: each tenant's chain of audit records, and the anchor that
 * retention left in place of what it compacted (the tip of the last dropped record, so the
 * remaining chain still verifies). `apply` files records as committed; it checks nothing, so
 * `vltair audit verify` sees exactly what the log holds.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import {
  applyInPlace,
  decodeParts,
  encodeParts,
  hasMagic,
  PartReader,
  type StateMachine,
  snapshotInParts,
  utf8Text,
} from "../../storage/mod.ts";
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

/** Records restored from a snapshot, not parsed yet, and what is known of them without parsing. */
interface UnparsedRecords {
  /** A JSON array of records. */
  bytes: Uint8Array;
  count: number;
  /** The last record's seq and hash. */
  tip: ChainTip;
  /** The first record's `ts`. */
  oldestTs: string;
}

/**
 * One tenant's chain: the anchor retention left, and its records. A chain restored from a
 * snapshot keeps its records as the snapshot's JSON bytes until something reads them (a listing,
 * verify, a compaction that has something to cut); appends and the tip do not need them, so
 * recovering a data directory with a million audit records parses none of them.
 */
export class AuditChain {
  anchor: ChainTip;
  /** Restored records not parsed yet (a JSON array), with what is known of them without parsing. */
  #unparsed: UnparsedRecords | null;
  #records: AuditRecord[];

  constructor(
    anchor: ChainTip,
    records: AuditRecord[] = [],
    unparsed: UnparsedRecords | null = null,
  ) {
    this.anchor = anchor;
    this.#records = records;
    this.#unparsed = unparsed !== null && unparsed.count > 0 ? unparsed : null;
  }

  /** Every record, oldest first (parses restored ones on first use). */
  get records(): AuditRecord[] {
    if (this.#unparsed !== null) {
      const parsed = parseRecords(this.#unparsed.bytes);
      this.#records = parsed.concat(this.#records);
      this.#unparsed = null;
    }
    return this.#records;
  }

  set records(records: AuditRecord[]) {
    this.#unparsed = null;
    this.#records = records;
  }

  /** Whether every record is parsed (false for a restored chain nobody has read yet). */
  get parsed(): boolean {
    return this.#unparsed === null;
  }

  /** How many records the chain holds. */
  get count(): number {
    return (this.#unparsed?.count ?? 0) + this.#records.length;
  }

  /** The `ts` of the oldest record (null when empty). */
  get oldestTs(): string | null {
    return this.#unparsed?.oldestTs ?? this.#records[0]?.ts ?? null;
  }

  /** The tip a new record links to. */
  get tip(): ChainTip {
    const last = this.#records.at(-1);
    if (last !== undefined) return { seq: last.seq, hash: last.hash };
    return this.#unparsed?.tip ?? this.anchor;
  }

  append(record: AuditRecord): void {
    this.#records.push(record);
  }

  /** The records as a snapshot holds them (UTF-8 JSON array), parsed or not. */
  recordsBytes(): Uint8Array {
    if (this.#unparsed !== null && this.#records.length === 0) return this.#unparsed.bytes;
    return Buffer.from(JSON.stringify(this.records), "utf8");
  }
}

/** Every tenant's chain. */
export class AuditState {
  readonly chains = new Map<string, AuditChain>();

  /** The chain of `tenant` (empty when it has none). */
  chainOf(tenant: string): AuditChain {
    return this.chains.get(tenant) ?? new AuditChain({ seq: 0, hash: GENESIS_HASH });
  }

  /** The tip a new record of `tenant` links to. */
  tipOf(tenant: string): ChainTip {
    return this.chainOf(tenant).tip;
  }

  apply(body: AuditBody): void {
    if (body.op === "append") {
      for (const record of body.records) {
        let chain = this.chains.get(record.tenant);
        if (chain === undefined) {
          chain = new AuditChain({ seq: 0, hash: GENESIS_HASH });
          this.chains.set(record.tenant, chain);
        }
        chain.append(record);
      }
      return;
    }
    const chain = this.chains.get(body.tenant);
    if (chain === undefined) return;
    const records = chain.records;
    const cut = records.findIndex((r) => r.seq > body.through_seq);
    const dropped = cut === -1 ? records.length : cut;
    const last = records[dropped - 1];
    if (last === undefined) return;
    chain.anchor = { seq: last.seq, hash: last.hash };
    chain.records = records.slice(dropped);
  }
}

/**
 * A snapshot's chains. The records were validated when committed and the snapshot file is
 * checksummed, so a restored chain's records, when first read, are checked for their chain fields
 * (seq, hash) but not every field again; `vltair audit verify` re-checks the chains themselves.
 */
const TrustedAuditRecord = v.pipe(
  v.looseObject({ seq: v.number(), hash: v.string() }),
  v.transform((record) => record as unknown as AuditRecord),
);
const RecordsSchema = v.array(TrustedAuditRecord);
const Tip = v.object({ seq: v.number(), hash: v.string() });
/** Format 1: one JSON document with every record. */
const SnapshotV1Schema = v.array(
  v.object({ tenant: v.string(), anchor: Tip, records: RecordsSchema }),
);
/** Format 2's header: per chain what appends, retention and listings need without its records. */
const HeaderV2Schema = v.array(
  v.object({
    tenant: v.string(),
    anchor: Tip,
    count: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
    tip: Tip,
    oldest_ts: v.nullable(v.string()),
    bytes: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  }),
);
/** The snapshot layout `snapshot` writes: `[VLTAUDT2][header][each chain's records as JSON]`. */
const AUDIT_SNAPSHOT_FORMAT = 2;
const MAGIC = "VLTAUDT2";

function parseRecords(bytes: Uint8Array): AuditRecord[] {
  return v.parse(RecordsSchema, JSON.parse(utf8Text(bytes)));
}

function encodeAuditParts(state: AuditState): Uint8Array[] {
  const header: v.InferOutput<typeof HeaderV2Schema> = [];
  const parts: Uint8Array[] = [];
  for (const [tenant, chain] of state.chains) {
    const bytes = chain.recordsBytes();
    parts.push(bytes);
    const { anchor, count, tip, oldestTs } = chain;
    header.push({ tenant, anchor, count, tip, oldest_ts: oldestTs, bytes: bytes.length });
  }
  return encodeParts(MAGIC, header, parts);
}

function restoreAudit(bytes: Uint8Array): AuditState {
  const state = new AuditState();
  if (!hasMagic(bytes, MAGIC)) {
    for (const row of v.parse(SnapshotV1Schema, JSON.parse(utf8Text(bytes))))
      state.chains.set(row.tenant, new AuditChain(row.anchor, row.records));
    return state;
  }
  const { header, parts } = decodeParts(bytes);
  const reader = new PartReader(parts);
  for (const row of v.parse(HeaderV2Schema, header)) {
    const unparsed = { bytes: reader.next(row.bytes), count: row.count, tip: row.tip };
    const oldestTs = row.oldest_ts ?? "";
    state.chains.set(row.tenant, new AuditChain(row.anchor, [], { ...unparsed, oldestTs }));
  }
  reader.end();
  return state;
}

/** Creates the machine. */
export function createAuditMachine(): StateMachine<AuditState, AuditBody> {
  return {
    name: AUDIT_MACHINE,
    schema: AuditBodySchema,
    format: AUDIT_SNAPSHOT_FORMAT,
    init: () => new AuditState(),
    apply: applyInPlace,
    ...snapshotInParts(encodeAuditParts),
    restore: restoreAudit,
  };
}
