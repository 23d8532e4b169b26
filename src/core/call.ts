/**
 * The call context every service method takes (ARCHITECTURE decision 9): who calls, under which
 * trace, until when. HTTP, the CLI's in-process path and (next) orchestrator steps build one
 * and pass it down, so authorization is one function whatever the entry point.
 */
import { VltairError } from "./errors.ts";

/**
 * The roles a token can carry, least to most privileged; each includes the ones before it.
 * `reader`, `writer` and `admin` act in the token's tenant; `operator` is global (tenant
 * lifecycle, tokens of any tenant, the global policy, audit of every tenant) and is what the
 * bootstrap admin token holds.
 */
export const ROLES = ["reader", "writer", "admin", "operator"] as const;
export type Role = (typeof ROLES)[number];

/** The caller, resolved from its token. */
export interface Principal {
  subject: string;
  tenant: string;
  roles: readonly Role[];
  /** Id of the stored token, or null for the bootstrap admin token and `--no-auth`. */
  tokenId: string | null;
}

/**
 * One call into a service.
 *
 * @example
 * ```ts
 * const call: Call = { principal, traceId: "4bf92f3577b34da6a3ce929d0e0e4736", signal: request.signal };
 * await context.upsert(call, { items });
 * ```
 */
export interface Call {
  principal: Principal;
  /** W3C trace id (32 hex) of the request or run this call belongs to. */
  traceId: string;
  /** Aborts the call (client gone, shutdown, a cancelled run). */
  signal?: AbortSignal;
  /** Wall-clock deadline, ms since epoch; past it the call fails `deadline_exceeded`. */
  deadlineMs?: number;
}

/** True when one of `principal`'s roles is `needed` or above it. */
export function hasRole(principal: Principal, needed: Role): boolean {
  const rank = ROLES.indexOf(needed);
  return principal.roles.some((role) => ROLES.indexOf(role) >= rank);
}

/**
 * The one authorizer of role checks: throws 403 `forbidden` (`details.role_needed`,
 * `details.action`) unless the caller holds `needed` or a higher role.
 *
 * @example
 * ```ts
 * authorize(call, "writer", "context.write");
 * ```
 */
export function authorize(call: Call, needed: Role, action: string): void {
  if (hasRole(call.principal, needed)) return;
  throw new VltairError("forbidden", `${action} needs the ${needed} role`, {
    details: { role_needed: needed, action },
  });
}

/** A call of `principal` with a fresh trace id and no deadline (CLI, tests, start-up work). */
export function localCall(principal: Principal, traceId: string): Call {
  return { principal, traceId };
}
