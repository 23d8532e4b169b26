/**
 * The audit pre-commit hook: turns a batch's events (events.ts) into chained records in the
 * same batch, so the action and its audit record are durable together or not at all. Each
 * commit links to its tenant's newest record, applied or still in flight (in-flight.ts): the log
 * refuses a commit whose predecessor failed, so a failed append leaves no gap behind it, and
 * one tenant's commits share WAL groups instead of waiting for each other.
 */
import type { Call } from "../../core/mod.ts";
import type { AppendInput, CommitHook, MachineHandle } from "../../storage/mod.ts";
import { eventsOf } from "./events.ts";
import { type ChainLink, InFlightChains } from "./in-flight.ts";
import type { AuditBody, AuditState } from "./machine.ts";
import { type AuditEvent, type AuditRecord, chain } from "./record.ts";

/** Tenants whose chains the events of a batch extend. */
function tenantsOf(events: readonly AuditEvent[]): string[] {
  return [...new Set(events.map((e) => e.tenant))];
}

/**
 * The hook, for `storage.addHook("audit", hook)`; `inFlight` holds the chains' links of
 * commits not settled yet.
 *
 * @example
 * ```ts
 * const { hook } = auditHook(auditHandle, clocks.nowMs);
 * storage.addHook("audit", hook);
 * ```
 */
export function auditHook(
  handle: MachineHandle<AuditState, AuditBody>,
  nowMs: () => number,
  /**
   * The policy version that allowed `call` in `tenant` (the policy hook ran first), or null when
   * no decision was made: fills `policy_version` of events that carry none.
   */
  policyVersionOf: (call: Call, tenant: string) => number | null = () => null,
): { hook: CommitHook; inFlight: InFlightChains } {
  const inFlight = new InFlightChains();
  const hook: CommitHook = (batch: readonly AppendInput[], call: Call) => {
    const events = eventsOf(batch, call).map((event) =>
      event.policy_version === null
        ? { ...event, policy_version: policyVersionOf(call, event.tenant) }
        : event,
    );
    if (events.length === 0) return undefined;
    const ts = new Date(nowMs()).toISOString();
    const state = handle.state();
    const records: AuditRecord[] = [];
    const links: ChainLink[] = [];
    for (const tenant of tenantsOf(events)) {
      const base = inFlight.baseOf(tenant);
      const own = chain(
        base?.tip ?? state.tipOf(tenant),
        events.filter((e) => e.tenant === tenant),
        ts,
      );
      const last = own.at(-1) as AuditRecord;
      links.push(inFlight.extend(tenant, base, { seq: last.seq, hash: last.hash }));
      records.push(...own);
    }
    return {
      records: [handle.record({ op: "append", records })],
      valid: () => InFlightChains.valid(links),
      settled: (applied: boolean) => inFlight.settle(links, applied),
    };
  };
  return { hook, inFlight };
}
