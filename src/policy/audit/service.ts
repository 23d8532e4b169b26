/**
 * The audit service: records events of side effects (through the same hook and chain as every
 * commit), answers `GET /v1/audit`, verifies the chains, and applies retention.
 */
import { authorize, type Call, VltairError } from "../../core/mod.ts";
import type { MachineHandle, Storage } from "../../storage/mod.ts";
import { isOperator } from "../roles.ts";
import { withEvents } from "./events.ts";
import type { AuditBody, AuditState } from "./machine.ts";
import {
  type AuditEvent,
  type AuditRecord,
  type ChainBreak,
  SERVER_CHAIN,
  verifyChain,
} from "./record.ts";

/** A page of `GET /v1/audit`. */
export interface AuditQuery {
  /** Tenant whose chain to read (another one, or `*`, needs the operator). */
  tenant?: string | undefined;
  /** Records whose `seq` is at least this. */
  since_seq?: number | undefined;
  /** Records at or after this time (ISO 8601). */
  since?: string | undefined;
  action?: string | undefined;
  decision?: "allow" | "deny" | undefined;
  run_id?: string | undefined;
  /** Records after this `seq`. */
  cursor?: number | undefined;
  limit: number;
}

/** Options of {@link AuditService}. */
export interface AuditServiceOptions {
  storage: Storage;
  handle: MachineHandle<AuditState, AuditBody>;
  nowMs: () => number;
  /** Records older than this many days are compacted behind an anchor. */
  retentionDays: number;
  /** Most records kept per chain; the oldest beyond it are compacted. */
  recordsMax: number;
  /** Auth failures recorded per second at most (the rest are counted in the next one). */
  authFailuresPerS: number;
}

const DAY_MS = 86_400_000;

/** The audit trail of every tenant. */
export class AuditService {
  readonly #o: AuditServiceOptions;
  #authWindowMs = 0;
  #authInWindow = 0;
  #authSuppressed = 0;

  constructor(options: AuditServiceOptions) {
    this.#o = options;
  }

  /** Commits audit records of `events` (side effects that write nothing else). */
  async record(call: Call, events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.#o.storage.commit([], withEvents(call, events));
  }

  /**
   * Records a failed authentication in the server's chain, at most `authFailuresPerS` per
   * second (a flood of bad tokens must not become a flood of writes); the ones left out are
   * counted in the next record's `details.suppressed`.
   */
  async authFailed(call: Call, reason: "missing_token" | "invalid_token"): Promise<void> {
    const nowMs = this.#o.nowMs();
    if (nowMs - this.#authWindowMs >= 1000) {
      this.#authWindowMs = nowMs;
      this.#authInWindow = 0;
    }
    if (this.#authInWindow >= this.#o.authFailuresPerS) {
      this.#authSuppressed++;
      return;
    }
    this.#authInWindow++;
    const suppressed = this.#authSuppressed;
    this.#authSuppressed = 0;
    await this.record(call, [
      {
        tenant: SERVER_CHAIN,
        subject: "anonymous",
        action: "auth.failed",
        resource: "server",
        decision: "deny",
        reasons: [reason],
        policy_version: null,
        trace_id: call.traceId,
        run_id: null,
        details: { suppressed },
      },
    ]);
  }

  /** A page of the caller's chain (or another's, for the operator), oldest first. */
  list(call: Call, query: AuditQuery): { records: AuditRecord[]; next_cursor: number | null } {
    authorize(call, "admin", "audit.read");
    const tenant = query.tenant ?? call.principal.tenant;
    if (tenant !== call.principal.tenant && !isOperator(call.principal)) {
      throw new VltairError("not_found", "no audit trail of that tenant is visible to this token");
    }
    const sinceMs = query.since === undefined ? null : Date.parse(query.since);
    const out: AuditRecord[] = [];
    let next: number | null = null;
    for (const record of this.#o.handle.state().chainOf(tenant).records) {
      if (query.cursor !== undefined && record.seq <= query.cursor) continue;
      if (query.since_seq !== undefined && record.seq < query.since_seq) continue;
      if (sinceMs !== null && Date.parse(record.ts) < sinceMs) continue;
      if (query.action !== undefined && record.action !== query.action) continue;
      if (query.decision !== undefined && record.decision !== query.decision) continue;
      if (query.run_id !== undefined && record.run_id !== query.run_id) continue;
      if (out.length === query.limit) {
        next = (out.at(-1) as AuditRecord).seq;
        break;
      }
      out.push(record);
    }
    return { records: out, next_cursor: next };
  }

  /** Verifies every chain in the live state; the first break of each broken chain. */
  verify(call: Call): { chains: number; records: number; broken: ChainBreak[] } {
    // Every tenant's chains: the operator's.
    authorize(call, "operator", "audit.verify");
    return verifyState(this.#o.handle.state());
  }

  /**
   * Compacts what retention no longer keeps (older than `retentionDays`, or beyond
   * `recordsMax` per chain): one `compact` record per chain, through the log.
   */
  async compact(call: Call): Promise<number> {
    const oldestKeptMs = this.#o.nowMs() - this.#o.retentionDays * DAY_MS;
    const cuts: { tenant: string; through_seq: number }[] = [];
    for (const [tenant, chain] of this.#o.handle.state().chains) {
      // Nothing to cut: the chain's records are not read (nor parsed, after a restore).
      const oldestMs = chain.oldestTs === null ? null : Date.parse(chain.oldestTs);
      if (chain.count <= this.#o.recordsMax && (oldestMs === null || oldestMs >= oldestKeptMs))
        continue;
      let through = 0;
      const overflow = chain.count - this.#o.recordsMax;
      for (const [i, record] of chain.records.entries()) {
        if (i < overflow || Date.parse(record.ts) < oldestKeptMs) through = record.seq;
        else break;
      }
      if (through > 0) cuts.push({ tenant, through_seq: through });
    }
    if (cuts.length === 0) return 0;
    await this.#o.storage.commit(
      cuts.map((cut) => this.#o.handle.record({ op: "compact", ...cut })),
      call,
    );
    return cuts.length;
  }
}

/** Verifies every chain of a state (the live one, or one folded offline). */
export function verifyState(state: AuditState): {
  chains: number;
  records: number;
  broken: ChainBreak[];
} {
  const broken: ChainBreak[] = [];
  let records = 0;
  for (const [tenant, chain] of state.chains) {
    records += chain.records.length;
    const found = verifyChain(tenant, chain.anchor, chain.records);
    if (found !== null) broken.push(found);
  }
  return { chains: state.chains.size, records, broken };
}
