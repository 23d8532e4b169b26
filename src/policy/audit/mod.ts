/**
 * Audit: SHA-256-chained records per tenant of every decision, side effect, auth failure, token
 * and policy change, written in the same WAL batch as what they describe.
 *
 * @example
 * ```ts
 * import { auditHook, createAuditMachine } from "../policy/audit/mod.ts";
 * ```
 */
export { AUDITED_MACHINES, allowedBy, eventsOf, withEvents } from "./events.ts";
export { auditHook } from "./hook.ts";
export type { AuditBody, AuditChain } from "./machine.ts";
export { AUDIT_MACHINE, AuditState, createAuditMachine } from "./machine.ts";
export type { AuditEvent, AuditRecord, ChainBreak, ChainTip } from "./record.ts";
export {
  AuditRecordSchema,
  canonicalJson,
  chain,
  GENESIS_HASH,
  hashOf,
  SERVER_CHAIN,
  verifyChain,
} from "./record.ts";
export type { AuditQuery, AuditServiceOptions } from "./service.ts";
export { AuditService, verifyState } from "./service.ts";
export type { AuditDirReport } from "./verify-dir.ts";
export { verifyAuditDir } from "./verify-dir.ts";
