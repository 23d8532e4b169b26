/**
 * Roles and the resolved caller (principal). Roles nest: `admin` can do what `writer` can,
 * `writer` what `reader` can.
 */
import * as v from "valibot";

/** The roles a token can carry, least to most privileged. */
export const ROLES = ["reader", "writer", "admin"] as const;
export const RoleSchema = v.picklist(ROLES, `must be one of ${ROLES.join(", ")}`);
export type Role = v.InferOutput<typeof RoleSchema>;

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

/** The caller of a request, resolved from its token. */
export interface Principal {
  subject: string;
  tenant: string;
  roles: readonly Role[];
  /** Id of the stored token, or null for the bootstrap admin token and `--no-auth`. */
  tokenId: string | null;
}

/** The tenant of the bootstrap admin token and of `--no-auth`. */
export const DEFAULT_TENANT = "default";

/** True when one of `principal`'s roles is `needed` or above it. */
export function hasRole(principal: Principal, needed: Role): boolean {
  const rank = ROLES.indexOf(needed);
  return principal.roles.some((role) => ROLES.indexOf(role) >= rank);
}
