/**
 * Policy routes (API.md, "Policy, budgets, audit"): the Cedar schema, a level's set and its
 * versions, storing a new version, and dry runs. A level is the global set (the operator,
 * without `?tenant`) or one tenant's (its admin, or the operator with `?tenant=T`).
 */
import * as v from "valibot";
import {
  PolicyCheckRequestSchema,
  PolicyCheckResponseSchema,
  PolicyLevelQuerySchema,
  PolicyPutRequestSchema,
  PolicySchemaResponseSchema,
  type PolicyService,
  PolicyVersionsSchema,
  PolicyViewSchema,
} from "../../policy/mod.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";

const TAG = "policy";

/** The policy routes. */
export function policyRoutes(deps: { policy: PolicyService }): AnyRoute[] {
  const { policy } = deps;
  return [
    defineRoute({
      method: "GET",
      path: "/v1/policy/schema",
      summary:
        "vltair's Cedar schema: principals, actions, the tenant resource and each action's context.",
      tag: TAG,
      access: "reader",
      responses: { 200: { description: "The schema", schema: PolicySchemaResponseSchema } },
      handler: (c) => c.json(policy.schema()),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/policy",
      summary: "The policy set of a level (the shipped default is version 0).",
      tag: TAG,
      access: "admin",
      query: PolicyLevelQuerySchema,
      responses: { 200: { description: "The set in force", schema: PolicyViewSchema } },
      handler: (c, { query }) => c.json(policy.current(callOf(c), query.tenant)),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/policy/versions",
      summary: "The recent versions of a level's set, newest first.",
      tag: TAG,
      access: "admin",
      query: PolicyLevelQuerySchema,
      responses: { 200: { description: "Versions", schema: PolicyVersionsSchema } },
      handler: (c, { query }) => c.json(policy.versions(callOf(c), query.tenant)),
    }),
    defineRoute({
      method: "PUT",
      path: "/v1/policy",
      summary:
        "Replace a level's whole set; validated against the schema first (400 policy_invalid keeps the old one).",
      tag: TAG,
      access: "admin",
      query: PolicyLevelQuerySchema,
      body: PolicyPutRequestSchema,
      responses: {
        200: { description: "Stored", schema: v.object({ version: v.number() }) },
      },
      handler: async (c, { query, body }) =>
        c.json(await policy.put(callOf(c), body.cedar, query.tenant)),
    }),
    defineRoute({
      method: "POST",
      path: "/v1/policy:check",
      summary:
        "Dry run: the decision, reasons and version for a described request, against the stored sets or a candidate.",
      tag: TAG,
      access: "admin",
      query: PolicyLevelQuerySchema,
      body: PolicyCheckRequestSchema,
      responses: { 200: { description: "The decision", schema: PolicyCheckResponseSchema } },
      handler: (c, { query, body }) => c.json(policy.dryRun(callOf(c), body, query.tenant)),
    }),
  ];
}
