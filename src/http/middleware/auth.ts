/**
 * Authentication before routing: every path but the public ones needs a valid bearer token,
 * so an unknown path without a token is 401, and with one 404 (API.md, "Meta").
 */
import type { MiddlewareHandler } from "hono";
import { type Principal, VltairError } from "../../core/mod.ts";
import { ADMIN_PRINCIPAL, type Authenticator } from "../../policy/mod.ts";
import type { AppEnv } from "../env.ts";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of a bearer `Authorization` header value, or null. */
function bearerToken(header: string | null | undefined): string | null {
  return header == null ? null : (BEARER.exec(header)?.[1] ?? null);
}

/**
 * The principal of an `Authorization` header value (a bearer token), or null when it names no
 * valid token; everyone is the admin under `--no-auth`.
 */
export function principalOfAuthorization(
  authenticator: Authenticator,
  header: string | null | undefined,
): Principal | null {
  if (authenticator.open) return ADMIN_PRINCIPAL;
  const token = bearerToken(header);
  return token === null ? null : authenticator.authenticate(token);
}

/** Creates the auth middleware. */
export function auth(options: {
  authenticator: Authenticator;
  publicPaths: ReadonlySet<string>;
  /** Told of each refusal (after the answer is decided; never delays it). */
  onFailure?: (traceId: string, reason: "missing_token" | "invalid_token") => void;
}): MiddlewareHandler<AppEnv> {
  return async function authMiddleware(c, next) {
    if (options.publicPaths.has(c.req.path)) return next();
    if (options.authenticator.open) {
      c.set("principal", ADMIN_PRINCIPAL);
      return next();
    }
    const header = c.req.header("authorization");
    const principal = principalOfAuthorization(options.authenticator, header);
    if (principal === null) {
      options.onFailure?.(c.var.traceId, header === undefined ? "missing_token" : "invalid_token");
      throw new VltairError(
        "unauthorized",
        header === undefined ? "missing bearer token" : "invalid bearer token",
        { headers: { "www-authenticate": 'Bearer realm="vltair"' } },
      );
    }
    c.set("principal", principal);
    return next();
  };
}
