/**
 * Policy: roles, principals, API tokens and their bootstrap.
 *
 * @example
 * ```ts
 * import { createAuthenticator, TokenStore, hasRole } from "../policy/mod.ts";
 * ```
 */
export type { AdminToken } from "./admin-token.ts";
export { ADMIN_TOKEN_FILE, ensureAdminToken } from "./admin-token.ts";
export type { Authenticator } from "./authenticator.ts";
export { ADMIN_PRINCIPAL, createAuthenticator } from "./authenticator.ts";
export type { Principal, Role } from "./roles.ts";
export {
  DEFAULT_TENANT,
  hasRole,
  ROLES,
  RoleSchema,
  SubjectSchema,
  TenantSchema,
} from "./roles.ts";
export type { TokenInfo, TokenStoreOptions } from "./token-store.ts";
export { TOKEN_PREFIX, TokenStore } from "./token-store.ts";
