/**
 * The audit pre-commit hook: turns a batch's events (events.ts) into chained records in the
 * same batch, so the action and its audit record are durable together or not at all. Commits
 * that touch one tenant's chain are serialized (`serializeBy`), so each links to its chain's
 * last applied record — a failed append leaves no gap behind it.
 */
import type { Call } from "../../core/mod.ts";
import type { AppendInput, CommitHook, HookOptions, MachineHandle } from "../../storage/mod.ts";
import { eventsOf } from "./events.ts";
import type { AuditBody, AuditState } from "./machine.ts";
import { type AuditEvent, type AuditRecord, chain } from "./record.ts";

/** Tenants whose chains the events of a batch extend. */
function tenantsOf(events: readonly AuditEvent[]): string[] {
  return [...new Set(events.map((e) => e.tenant))];
}

/**
 * The hook and its serialization, for `storage.addHook("audit", hook, options)`.
 *
 * @example
 * ```ts
 * const { hook, options } = auditHook(auditHandle, clocks.nowMs);
 * storage.addHook("audit", hook, options);
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
): { hook: CommitHook; options: HookOptions } {
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
    for (const tenant of tenantsOf(events)) {
      const own = events.filter((e) => e.tenant === tenant);
      records.push(...chain(state.tipOf(tenant), own, ts));
    }
    return [handle.record({ op: "append", records })];
  };
  return {
    hook,
    options: {
      serializeBy: (batch, call) => tenantsOf(eventsOf(batch, call)).map((t) => `audit:${t}`),
    },
  };
}
