/**
 * Token routes: an admin manages the tokens of their own tenant; the operator (the global
 * `operator` role) those of any tenant (`tenant` in the body, `?tenant=T` or `?tenant=*`).
 * Tokens of other tenants are invisible to everyone else (404, never 403, so their existence is
 * not revealed). Every change is a record of the `tokens` machine in the WAL.
 */
import * as v from "valibot";
import { RoleSchema, SubjectSchema, TenantSchema, type TokenService } from "../../policy/mod.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";

const TokenInfoSchema = v.object({
  id: v.string(),
  subject: v.string(),
  tenant: v.string(),
  roles: v.array(RoleSchema),
  created_at: v.string(),
  revoked_at: v.nullable(v.string()),
});

const CreateTokenBody = v.strictObject({
  subject: v.optional(SubjectSchema),
  roles: v.pipe(
    v.array(RoleSchema, "must be an array of roles"),
    v.minLength(1, "must name at least one role"),
    v.maxLength(4, "must name at most 4 roles"),
  ),
  /** Operator only: the tenant of the new token (default: the caller's). */
  tenant: v.optional(TenantSchema),
});

const ListTokensQuery = v.strictObject({
  /** Operator only: another tenant, or `*` for every tenant. */
  tenant: v.optional(v.union([TenantSchema, v.literal("*")], "must be a tenant name or *")),
});

const CreatedTokenSchema = v.object({
  id: v.string(),
  token: v.string(),
  subject: v.string(),
  tenant: v.string(),
  roles: v.array(RoleSchema),
  created_at: v.string(),
  wal_index: v.number(),
});

/** The token routes. */
export function tokenRoutes(deps: { tokens: TokenService }): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      path: "/v1/tokens",
      summary:
        "Create a token in the caller's tenant (the operator: any tenant). The token is shown once.",
      tag: "tokens",
      access: "admin",
      body: CreateTokenBody,
      responses: { 201: { description: "Created", schema: CreatedTokenSchema } },
      handler: async (c, { body }) => {
        const subject = body.subject ?? `token-${body.roles.join("-")}`;
        const input = {
          subject,
          roles: body.roles,
          ...(body.tenant === undefined ? {} : { tenant: body.tenant }),
        };
        const { token, info, walIndex } = await deps.tokens.create(callOf(c), input);
        c.var.log.info("token.created", { id: info.id, tenant: info.tenant, roles: info.roles });
        const { revoked_at: _revoked, ...rest } = info;
        return c.json({ ...rest, token, wal_index: walIndex }, 201);
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/tokens",
      summary:
        "List the tokens of the caller's tenant (the operator: ?tenant=T or ?tenant=*), never the tokens themselves.",
      tag: "tokens",
      access: "admin",
      query: ListTokensQuery,
      responses: {
        200: { description: "Tokens", schema: v.object({ tokens: v.array(TokenInfoSchema) }) },
      },
      handler: (c, { query }) => c.json({ tokens: deps.tokens.list(callOf(c), query.tenant) }),
    }),
    defineRoute({
      method: "DELETE",
      path: "/v1/tokens/:id",
      summary: "Revoke a token of the caller's tenant (the operator: any tenant).",
      tag: "tokens",
      access: "admin",
      responses: {
        200: {
          description: "Revoked",
          schema: v.object({ revoked: v.literal(true), wal_index: v.number() }),
        },
      },
      handler: async (c) => {
        const id = c.req.param("id") ?? "";
        const { walIndex } = await deps.tokens.revoke(callOf(c), id);
        c.var.log.info("token.revoked", { id });
        return c.json({ revoked: true, wal_index: walIndex });
      },
    }),
  ];
}
