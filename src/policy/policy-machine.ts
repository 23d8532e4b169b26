/**
 * The `policy` state machine: every stored policy set is a WAL record (issue 17 item 3), so
 * versions survive restarts, replay and snapshots, and a set stored through a server is the
 * same record an offline tool folds. A record replaces the whole set of one level: the global
 * one (`tenant: null`) or one tenant's. `version` is decided by the command that wrote it (one
 * counter over every level, so a version names one state of all sets); `apply` reads no clock
 * and compiles nothing (the service compiles what it folds).
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { applyInPlace, type StateMachine } from "../storage/mod.ts";
import { POLICY_TEXT_BYTES_MAX } from "./policy-set.ts";
import { SubjectSchema, TenantSchema } from "./roles.ts";

/** Name of the machine and of its records. */
export const POLICY_MACHINE = "policy";

/** Most versions `GET /v1/policy/versions` lists per level (the log keeps every one). */
export const POLICY_HISTORY_MAX = 100;

const PutRecord = v.strictObject({
  op: v.literal("put"),
  /** The tenant whose set this is; null for the global set. */
  tenant: v.nullable(TenantSchema),
  cedar: v.pipe(v.string(), v.maxLength(POLICY_TEXT_BYTES_MAX)),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  version: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER)),
  updated_at: v.pipe(v.string(), v.isoTimestamp()),
  /** Who stored it (the token's subject). */
  subject: SubjectSchema,
});

/** A policy record. */
export const PolicyRecordSchema = v.variant("op", [PutRecord]);
export type PolicyRecord = v.InferOutput<typeof PolicyRecordSchema>;

/** A stored set: the record without its op. */
export type StoredPolicy = Omit<PolicyRecord, "op">;

/** One version of a level, as listed (never the text: it can be large). */
export interface PolicyVersionInfo {
  version: number;
  updated_at: string;
  subject: string;
  sha256: string;
  size_bytes: number;
}

/** Key of a level in the history: `global` or `tenant:<name>` (tenant names have no `:`). */
export function levelKey(tenant: string | null): string {
  return tenant === null ? "global" : `tenant:${tenant}`;
}

/** Every level's current set and its recent versions. */
export class PolicyState {
  /** The highest version of any level; 0 before any set was stored. */
  version = 0;
  global: StoredPolicy | null = null;
  readonly tenants = new Map<string, StoredPolicy>();
  /** Newest last, at most {@link POLICY_HISTORY_MAX} per level. */
  readonly history = new Map<string, PolicyVersionInfo[]>();

  /** The stored set of a level, or null when it still holds the shipped default. */
  stored(tenant: string | null): StoredPolicy | null {
    return tenant === null ? this.global : (this.tenants.get(tenant) ?? null);
  }

  /** Folds one record (the machine's `apply`). */
  apply(record: PolicyRecord): void {
    const { op: _op, ...stored } = record;
    if (stored.tenant === null) this.global = stored;
    else this.tenants.set(stored.tenant, stored);
    this.version = Math.max(this.version, stored.version);
    const key = levelKey(stored.tenant);
    const list = this.history.get(key) ?? [];
    list.push({
      version: stored.version,
      updated_at: stored.updated_at,
      subject: stored.subject,
      sha256: stored.sha256,
      size_bytes: Buffer.byteLength(stored.cedar, "utf8"),
    });
    if (list.length > POLICY_HISTORY_MAX) list.splice(0, list.length - POLICY_HISTORY_MAX);
    this.history.set(key, list);
  }
}

const SnapshotSchema = v.strictObject({
  version: v.pipe(v.number(), v.integer(), v.minValue(0)),
  current: v.array(PutRecord),
  history: v.array(
    v.tuple([
      v.string(),
      v.array(
        v.strictObject({
          version: v.number(),
          updated_at: v.string(),
          subject: v.string(),
          sha256: v.string(),
          size_bytes: v.number(),
        }),
      ),
    ]),
  ),
});

/** Creates the machine. `apply` mutates the state it is given (the storage owns the only live one). */
export function createPolicyMachine(): StateMachine<PolicyState, PolicyRecord> {
  return {
    name: POLICY_MACHINE,
    schema: PolicyRecordSchema,
    init: () => new PolicyState(),
    apply: applyInPlace,
    snapshot: (state) => {
      const current = [state.global, ...state.tenants.values()]
        .filter((s): s is StoredPolicy => s !== null)
        .map((s) => ({ op: "put" as const, ...s }));
      const body = { version: state.version, current, history: [...state.history.entries()] };
      return Buffer.from(JSON.stringify(body), "utf8");
    },
    restore: (bytes) => {
      const body = v.parse(SnapshotSchema, JSON.parse(Buffer.from(bytes).toString("utf8")));
      const state = new PolicyState();
      for (const { op: _op, ...stored } of body.current) {
        if (stored.tenant === null) state.global = stored;
        else state.tenants.set(stored.tenant, stored);
      }
      for (const [key, list] of body.history) state.history.set(key, list);
      state.version = body.version;
      return state;
    },
  };
}
