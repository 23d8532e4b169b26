/**
 * Policy: roles, principals, API tokens (the `tokens` machine) and their bootstrap.
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
export type { TokenServiceOptions } from "./token-service.ts";
export { hashToken, isOperator, TOKEN_PREFIX, TokenService } from "./token-service.ts";
export type { TokenInfo, TokenRecord, TokensState } from "./tokens-machine.ts";
export { createTokensMachine, TOKENS_MACHINE } from "./tokens-machine.ts";
