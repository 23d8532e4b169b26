/**
 * Resolves the bearer token of a request to a principal: the bootstrap admin token first
 * (constant-time comparison of SHA-256 digests), then the token store.
 */
import { timingSafeEqual } from "node:crypto";
import { DEFAULT_TENANT, type Principal } from "./roles.ts";
import { hashToken } from "./token-service.ts";

/** Turns a presented token into a principal, or null. */
export interface Authenticator {
  authenticate(token: string): Principal | null;
  /** True when every caller is admin without a token (`--no-auth`). */
  readonly open: boolean;
}

/**
 * The principal of the bootstrap admin token and of `--no-auth`: the operator, at home in
 * tenant `default` (its own context, sandbox and policy calls act there).
 */
export const ADMIN_PRINCIPAL: Principal = {
  subject: "admin",
  tenant: DEFAULT_TENANT,
  roles: ["operator"],
  tokenId: null,
};

/** Longest bearer token looked at; longer ones are refused without hashing. */
const TOKEN_CHARS_MAX = 512;

/**
 * Builds the authenticator of a server.
 *
 * @example
 * ```ts
 * const auth = createAuthenticator({ adminToken: "…", store, open: false });
 * auth.authenticate(bearer); // Principal | null
 * ```
 */
export function createAuthenticator(options: {
  adminToken: string | null;
  store: { resolve(token: string): Principal | null } | null;
  open: boolean;
}): Authenticator {
  const adminHash = options.adminToken === null ? null : hashToken(options.adminToken);
  return {
    open: options.open,
    authenticate(token: string): Principal | null {
      if (token.length === 0 || token.length > TOKEN_CHARS_MAX) return null;
      const hash = hashToken(token);
      if (adminHash !== null && timingSafeEqual(adminHash, hash)) return ADMIN_PRINCIPAL;
      return options.store?.resolve(token) ?? null;
    },
  };
}
