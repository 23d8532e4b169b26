/**
 * Roles and the resolved caller (principal). Roles nest: `admin` can do what `writer` can,
 * `writer` what `reader` can.
 */
import * as v from "valibot";
import { type Principal, ROLES } from "../core/mod.ts";

export type { Principal, Role } from "../core/mod.ts";
export { hasRole, ROLES } from "../core/mod.ts";

export const RoleSchema = v.picklist(ROLES, `must be one of ${ROLES.join(", ")}`);

/** Tenant names: lowercase identifiers, so they are safe in paths and metric labels. */
export const TenantSchema = v.pipe(
  v.string("must be a string"),
  v.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must match ^[a-z0-9][a-z0-9_-]{0,62}$"),
);

/** Subjects name who holds a token (a person, a service); free text without control chars. */
export const SubjectSchema = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "must not be empty"),
  v.maxLength(128, "must be at most 128 characters"),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  v.regex(/^[^\x00-\x1f\x7f]+$/, "must not contain control characters"),
);

/** The tenant of the bootstrap admin token and of `--no-auth`. */
export const DEFAULT_TENANT = "default";

/**
 * True for the operator: a principal holding the global `operator` role (the bootstrap admin
 * token, `--no-auth`, and tokens the operator created with that role).
 */
export function isOperator(principal: Principal): boolean {
  return principal.roles.includes("operator");
}
