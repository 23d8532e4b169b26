/**
 * Policy: roles, principals, API tokens (the `tokens` machine) and their bootstrap, and Cedar
 * policies (the `policy` machine, the engine, decisions before every side effect).
 *
 * @example
 * ```ts
 * import { createAuthenticator, PolicyService, TokenService, hasRole } from "../policy/mod.ts";
 * ```
 */
export type { AdminToken } from "./admin-token.ts";
export { ADMIN_TOKEN_FILE, ensureAdminToken } from "./admin-token.ts";
export type { Authenticator } from "./authenticator.ts";
export { ADMIN_PRINCIPAL, createAuthenticator } from "./authenticator.ts";
export type { CedarAnswer, CedarEngine, CedarRequest } from "./cedar-engine.ts";
export { loadCedarEngine } from "./cedar-engine.ts";
export type {
  ActionContext,
  ContextAccessContext,
  ExecContext,
  PolicyAction,
} from "./cedar-schema.ts";
export {
  ACTION_CONTEXT_SCHEMAS,
  CEDAR_SCHEMA,
  DEFAULT_POLICY,
  POLICY_ACTIONS,
} from "./cedar-schema.ts";
export type { PolicyCase, PolicyCaseResult } from "./policy-cases.ts";
export { PolicyCasesSchema, runPolicyCases } from "./policy-cases.ts";
export type { PolicyDecision } from "./policy-decision.ts";
export type { PolicyRecord, PolicyState, PolicyVersionInfo } from "./policy-machine.ts";
export { createPolicyMachine, POLICY_MACHINE } from "./policy-machine.ts";
export type { PolicyExtractor, PolicyRequest, PolicyServiceOptions } from "./policy-service.ts";
export { PolicyService } from "./policy-service.ts";
export type { CompiledPolicySet, PolicyProblem } from "./policy-set.ts";
export type { PolicyCheckRequest } from "./policy-wire.ts";
export {
  PolicyCheckRequestSchema,
  PolicyCheckResponseSchema,
  PolicyLevelQuerySchema,
  PolicyPutRequestSchema,
  PolicySchemaResponseSchema,
  PolicyVersionsSchema,
  PolicyViewSchema,
} from "./policy-wire.ts";
export type { Principal, Role } from "./roles.ts";
export {
  DEFAULT_TENANT,
  hasRole,
  isOperator,
  ROLES,
  RoleSchema,
  SubjectSchema,
  TenantSchema,
} from "./roles.ts";
export type { TokenServiceOptions } from "./token-service.ts";
export { hashToken, TOKEN_PREFIX, TokenService } from "./token-service.ts";
export type { TokenInfo, TokenRecord, TokensState } from "./tokens-machine.ts";
export { createTokensMachine, TOKENS_MACHINE } from "./tokens-machine.ts";
