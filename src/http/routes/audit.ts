/**
 * The audit trail (issue 17 item 5): `GET /v1/audit` pages a tenant's chain (an admin reads its
 * own; the operator any, `*` being the server's chain of auth failures), `GET /v1/audit/verify`
 * checks every chain (operator).
 */
import * as v from "valibot";
import type { AuditService } from "../../policy/audit/mod.ts";
import { AuditRecordSchema } from "../../policy/audit/mod.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";

const AUDIT_PAGE_MAX = 1000;

const AuditQuerySchema = v.strictObject({
  tenant: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  since_seq: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,15}$/, "must be a record's seq"), v.transform(Number)),
  ),
  since: v.optional(v.pipe(v.string(), v.isoTimestamp("must be an ISO 8601 timestamp"))),
  action: v.optional(v.pipe(v.string(), v.maxLength(64))),
  decision: v.optional(v.picklist(["allow", "deny"])),
  run_id: v.optional(v.pipe(v.string(), v.maxLength(128))),
  cursor: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,15}$/, "must be a record's seq"), v.transform(Number)),
  ),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, `must be an integer 1..${AUDIT_PAGE_MAX}`),
      v.transform(Number),
      v.minValue(1, `must be an integer 1..${AUDIT_PAGE_MAX}`),
      v.maxValue(AUDIT_PAGE_MAX, `must be an integer 1..${AUDIT_PAGE_MAX}`),
    ),
  ),
});

const AuditPageSchema = v.object({
  records: v.array(AuditRecordSchema),
  next_cursor: v.nullable(v.number()),
});

const AuditVerifySchema = v.object({
  ok: v.boolean(),
  chains: v.number(),
  records: v.number(),
  broken: v.array(
    v.object({
      tenant: v.string(),
      seq: v.number(),
      reason: v.picklist(["hash_mismatch", "prev_hash_mismatch", "seq_gap", "wrong_chain"]),
    }),
  ),
});

/** The audit routes. */
export function auditRoutes(deps: { audit: AuditService }): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      path: "/v1/audit",
      tool: {
        name: "audit_list",
        title: "Read the audit trail",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary:
        "A page of the tenant's audit records, oldest first (filters: since_seq, since, action, decision, run_id; the operator may name another tenant, or * for the server's chain).",
      tag: "audit",
      access: "admin",
      query: AuditQuerySchema,
      responses: { 200: { description: "The records", schema: AuditPageSchema } },
      handler: (c, { query }) => {
        const { limit, ...filters } = query;
        return c.json(deps.audit.list(callOf(c), { ...filters, limit: limit ?? 100 }));
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/audit/verify",
      summary:
        "Verify every tenant's chain in the live state (operator): the first broken record of each broken chain.",
      tag: "audit",
      access: "operator",
      responses: { 200: { description: "The verification", schema: AuditVerifySchema } },
      handler: (c) => {
        const report = deps.audit.verify(callOf(c));
        return c.json({ ok: report.broken.length === 0, ...report });
      },
    }),
  ];
}
