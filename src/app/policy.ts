/**
 * The policy layer as the server wires it: the service over the `policy` machine, its pre-commit
 * hook (first in the chain, ADR 0010) over the machines whose records are side effects, and the
 * exec check the sandbox runs before a command starts.
 */
import * as path from "node:path";
import * as v from "valibot";
import { CONTEXT_MACHINE, contextWriteRequests } from "../context/mod.ts";
import { type Call, VltairError } from "../core/mod.ts";
import type { Logger } from "../obs/mod.ts";
import type { AuditEvent, AuditService } from "../policy/audit/mod.ts";
import {
  type ExecContext,
  type PolicyRecord,
  PolicyService,
  type PolicyState,
} from "../policy/mod.ts";
import type { SandboxLimitConfig } from "../sandbox/mod.ts";
import { SandboxRequestSchema } from "../sandbox/mod.ts";
import type { MachineHandle, Storage } from "../storage/mod.ts";

/**
 * Creates the policy service and adds its pre-commit hook to `storage`; `registerMachines`
 * calls it before adding any other hook (policy, then budgets, then audit: ADR 0010).
 *
 * @example
 * ```ts
 * const policy = createPolicyService({ storage, machine, log, nowMs, failOpen: false });
 * await policy.load();
 * ```
 */
export function createPolicyService(wiring: {
  storage: Storage;
  machine: MachineHandle<PolicyState, PolicyRecord>;
  log: Logger;
  nowMs: () => number;
  /** Config `policy_fail_open`. */
  failOpen: boolean;
}): PolicyService {
  const policy = new PolicyService(wiring);
  wiring.storage.addHook("policy", policy.commitHook({ [CONTEXT_MACHINE]: contextWriteRequests }));
  return policy;
}

/**
 * The `exec` context of a sandbox request (API.md): `program` is argv[0]'s basename, `argv`
 * every argument, `cwd` the requested directory inside the workspace (`.` by default), and
 * `wall_ms`/`mem_bytes` the effective limits (the request's, else the configured defaults).
 * `workspace` is the workspace id (`default` for `POST /v1/sandbox/exec`). `domains` stays empty
 * until runs can name allowed domains (`network: "list"`).
 */
export function execPolicyContext(
  request: unknown,
  limits: SandboxLimitConfig,
  workspace: string,
): ExecContext {
  const parsed = v.safeParse(SandboxRequestSchema, request);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new VltairError("validation_failed", `invalid sandbox request: ${issue.message}`, {
      details: { field: v.getDotPath(issue) ?? "body", issue: issue.type, message: issue.message },
    });
  }
  const { cmd, cwd, network, limits: asked = {} } = parsed.output;
  return {
    program: path.posix.basename((cmd[0] as string).replaceAll("\\", "/")),
    argv: [...new Set(cmd)],
    cwd: cwd ?? ".",
    // API.md: network "deny" | "allow" | "list" (an allowlist), with its domains.
    network: typeof network === "object" ? "list" : network,
    domains: typeof network === "object" ? [...new Set(network.allow)] : [],
    wall_ms: asked.wall_ms ?? limits.wallMsDefault,
    mem_bytes: asked.mem_bytes ?? limits.memBytesDefault,
    workspace,
  };
}

/**
 * The check the sandbox runs before a command starts: 403 `policy_denied` unless policy allows
 * the caller this `exec`.
 */
export function execPolicy(
  policy: () => PolicyService,
  limits: SandboxLimitConfig,
): (request: unknown, call: Call, workspace: string) => void {
  return (request, call, workspace) => {
    policy().check(call, "exec", execPolicyContext(request, limits, workspace));
  };
}

/** Denial records waiting to be written at most; past it they are counted, not queued. */
const DENIALS_PENDING_MAX = 1024;

/**
 * Every denial becomes an audit record of the denied tenant's chain (the refused batch itself is
 * never written, so the record is a batch of its own). Writes run in the background, one at a
 * time; at most {@link DENIALS_PENDING_MAX} wait (a flood of denials must not grow memory without
 * bound): the ones left out are counted in the next record's `details.suppressed`. `settle`
 * waits for the ones in flight (before the storage closes).
 *
 * @example
 * ```ts
 * const denials = auditDenials(policy, audit, log);
 * await denials.settle();
 * ```
 */
export function auditDenials(
  policy: PolicyService,
  audit: AuditService,
  log: Logger,
): { settle(): Promise<void> } {
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  let suppressed = 0;
  policy.onDecision((decision, call) => {
    if (decision.decision !== "deny") return;
    if (pending >= DENIALS_PENDING_MAX) {
      suppressed++;
      return;
    }
    const event: AuditEvent = {
      tenant: decision.tenant,
      subject: call.principal.subject,
      action: decision.action,
      resource: `tenant/${decision.tenant}`,
      decision: "deny",
      reasons: decision.reasons,
      policy_version: decision.policy_version,
      trace_id: call.traceId,
      run_id: null,
      details: suppressed === 0 ? {} : { suppressed },
    };
    suppressed = 0;
    pending++;
    tail = tail
      .then(() => audit.record(call, [event]))
      .catch((error: unknown) => log.error("audit.denial_not_recorded", { error }))
      .finally(() => {
        pending--;
      });
  });
  return { settle: () => tail };
}
