/**
 * Which audit events a committed batch makes: one per record of an audited machine (a context
 * upsert or delete batch, a token created or revoked, …), plus events a service attached to the
 * call for side effects that write nothing else (an exec, an auth failure). A table, so the next
 * subsystem adds its machine here and nowhere else.
 */
import type { Call } from "../../core/mod.ts";
import type { AppendInput } from "../../storage/mod.ts";
import { type AuditEvent, SERVER_CHAIN } from "./record.ts";

type Describe = (body: Record<string, unknown>, call: Call) => AuditEvent | null;

/** The fields an allowed event of `call` in `tenant`'s chain shares with every other. */
export function allowedBy(
  call: Call,
  tenant: string = call.principal.tenant,
): Omit<AuditEvent, "action" | "resource" | "details"> {
  return {
    tenant,
    subject: call.principal.subject,
    decision: "allow",
    reasons: [],
    policy_version: null,
    trace_id: call.traceId,
    run_id: null,
  };
}

const count = (items: unknown) => (Array.isArray(items) ? items.length : 0);

/** Audited machines: a record's event. */
export const AUDITED_MACHINES: Readonly<Record<string, Describe>> = {
  context: (body, call) => {
    const tenant = String(body.tenant);
    const action = body.op === "delete" ? "context.delete" : "context.write";
    return {
      ...allowedBy(call, tenant),
      action,
      resource: `context/${tenant}`,
      details: { items: count(body.items) },
    };
  },
  budgets: (body, call) => {
    if (body.op !== "set" && body.op !== "delete") return null;
    return {
      ...allowedBy(call, String(body.tenant)),
      action: body.op === "set" ? "budget.set" : "budget.delete",
      resource: `budget/${String(body.name)}`,
      details: body.op === "set" ? { unit: String(body.unit), limit: Number(body.limit) } : {},
    };
  },
  // A policy set stored (PUT /v1/policy): the global set is the server chain's.
  policy: (body, call) => {
    const level = typeof body.tenant === "string" ? body.tenant : null;
    return {
      ...allowedBy(call, level ?? SERVER_CHAIN),
      action: "policy.put",
      resource: level === null ? "policy/global" : `policy/${level}`,
      policy_version: typeof body.version === "number" ? body.version : null,
      details: { sha256: String(body.sha256) },
    };
  },
  // A run's start, signals and end (its steps' side effects record themselves).
  runs: (body, call) => {
    const op = String(body.op);
    if (op !== "create" && op !== "signal" && op !== "finish") return null;
    const principal = body.principal as { tenant?: unknown } | undefined;
    const tenant = typeof principal?.tenant === "string" ? principal.tenant : call.principal.tenant;
    const runId = String(body.run_id);
    const details: AuditEvent["details"] =
      op === "finish"
        ? { status: String(body.status) }
        : op === "signal"
          ? { signal: String(body.name) }
          : { steps: ((body.workflow as { steps?: unknown[] })?.steps ?? []).length };
    return {
      ...allowedBy(call, tenant),
      action: op === "create" ? "run.start" : op === "signal" ? "run.signal" : "run.finish",
      resource: `run/${runId}`,
      run_id: runId,
      details,
    };
  },
  tokens: (body, call) => {
    const tenant = typeof body.tenant === "string" ? body.tenant : call.principal.tenant;
    const created = body.op === "create";
    return {
      ...allowedBy(call, tenant),
      action: created ? "token.create" : "token.revoke",
      resource: `token/${String(body.id)}`,
      details: created ? { roles: (body.roles as string[]).join(",") } : {},
    };
  },
};

/** Events attached to a call by a service (side effects without records of their own). */
const attached = new WeakMap<Call, readonly AuditEvent[]>();

/**
 * A call carrying audit events to commit: `storage.commit([], withEvents(call, events))`
 * appends just their chained records.
 */
export function withEvents(call: Call, events: readonly AuditEvent[]): Call {
  const carrier: Call = { ...call };
  attached.set(carrier, events);
  return carrier;
}

/** The events of a batch and its call, in batch order (attached events last). */
export function eventsOf(batch: readonly AppendInput[], call: Call): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const record of batch) {
    const describe = AUDITED_MACHINES[record.machine];
    const event = describe?.(record.body as Record<string, unknown>, call);
    if (event != null) out.push(event);
  }
  out.push(...(attached.get(call) ?? []));
  return out;
}
