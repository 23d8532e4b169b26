/**
 * Token routes: an admin manages the tokens of their own tenant. Tokens of other tenants are
 * invisible (404, never 403, so their existence is not revealed). Creating tokens for another
 * tenant is an operator task: `vltair token create --tenant T` on the data directory.
 */
import * as v from "valibot";
import { VltairError } from "../../core/mod.ts";
import { RoleSchema, SubjectSchema, type TokenStore } from "../../policy/mod.ts";
import { type AnyRoute, defineRoute } from "../route.ts";

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
    v.maxLength(3, "must name at most 3 roles"),
  ),
});

const CreatedTokenSchema = v.object({
  id: v.string(),
  token: v.string(),
  subject: v.string(),
  tenant: v.string(),
  roles: v.array(RoleSchema),
  created_at: v.string(),
});

/** The token routes. */
export function tokenRoutes(deps: { store: TokenStore }): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      path: "/v1/tokens",
      summary: "Create a token in the caller's tenant. The token is shown once.",
      tag: "tokens",
      access: "admin",
      body: CreateTokenBody,
      responses: { 201: { description: "Created", schema: CreatedTokenSchema } },
      handler: (c, { body }) => {
        const tenant = c.var.principal.tenant;
        const subject = body.subject ?? `token-${body.roles.join("-")}`;
        const { token, info } = deps.store.create({ subject, tenant, roles: body.roles });
        c.var.log.info("token.created", { id: info.id, tenant, roles: info.roles });
        const { revoked_at: _revoked, ...rest } = info;
        return c.json({ ...rest, token }, 201);
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/tokens",
      summary: "List the tokens of the caller's tenant (never the tokens themselves).",
      tag: "tokens",
      access: "admin",
      responses: {
        200: { description: "Tokens", schema: v.object({ tokens: v.array(TokenInfoSchema) }) },
      },
      handler: (c) => {
        const tenant = c.var.principal.tenant;
        return c.json({ tokens: deps.store.list().filter((t) => t.tenant === tenant) });
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/v1/tokens/:id",
      summary: "Revoke a token of the caller's tenant.",
      tag: "tokens",
      access: "admin",
      responses: {
        200: { description: "Revoked", schema: v.object({ revoked: v.literal(true) }) },
      },
      handler: (c) => {
        const id = c.req.param("id") ?? "";
        if (!deps.store.revoke(id, c.var.principal.tenant)) {
          throw new VltairError("not_found", "no such active token in this tenant", {
            details: { id },
          });
        }
        c.var.log.info("token.revoked", { id });
        return c.json({ revoked: true });
      },
    }),
  ];
}
