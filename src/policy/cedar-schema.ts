/**
 * vltair's Cedar schema (API.md, "Policy, budgets, audit"): principal
 * `vltair::Principal::"<subject>"` in `vltair::Tenant::"<tenant>"`, the resource is the tenant,
 * and each action has a typed `context`. Policies are validated against it (strict mode), so
 * a policy naming an attribute that does not exist, or comparing it with the wrong type, is
 * refused when it is stored instead of silently never matching.
 */
import * as v from "valibot";

/** Cedar namespace of every vltair entity and action. */
export const CEDAR_NAMESPACE = "vltair";

/** The actions a policy can name, in schema order. */
export const POLICY_ACTIONS = [
  "exec",
  "llm.call",
  "http.fetch",
  "context.read",
  "context.write",
  "run.start",
] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** Longest string attribute of a context (argv entries, ids, hosts), in characters. */
const CONTEXT_STRING_CHARS_MAX = 131_072;
/** Most members of a set attribute (argv, domains). */
const CONTEXT_SET_SIZE_MAX = 4096;

const Str = v.pipe(v.string("must be a string"), v.maxLength(CONTEXT_STRING_CHARS_MAX));
const StrSet = v.pipe(
  v.array(Str, "must be an array of strings"),
  v.maxLength(CONTEXT_SET_SIZE_MAX),
);
const Long = v.pipe(
  v.number("must be a number"),
  v.integer("must be an integer"),
  v.minValue(0, "must be >= 0"),
  v.maxValue(Number.MAX_SAFE_INTEGER),
);
const Network = v.picklist(["deny", "allow", "list"], "must be deny, allow or list");

const ContextAccess = v.strictObject({ scope_kind: Str, scope_id: Str, id: Str });

/** The `context` of each action, as valibot schemas (the Cedar schema below says the same). */
export const ACTION_CONTEXT_SCHEMAS = {
  exec: v.strictObject({
    program: Str,
    argv: StrSet,
    cwd: Str,
    network: Network,
    domains: StrSet,
    wall_ms: Long,
    mem_bytes: Long,
    workspace: Str,
  }),
  "llm.call": v.strictObject({ provider: Str, model: Str, max_tokens: Long }),
  "http.fetch": v.strictObject({ host: Str, method: Str }),
  "context.read": ContextAccess,
  "context.write": ContextAccess,
  "run.start": v.strictObject({ workflow: Str }),
} as const satisfies Record<PolicyAction, v.GenericSchema>;

/** The `context` record of an action. */
export type ActionContext<A extends PolicyAction> = v.InferOutput<
  (typeof ACTION_CONTEXT_SCHEMAS)[A]
>;

/** Context of `exec`: `program` is the basename of argv[0]; limits are the effective ones. */
export type ExecContext = ActionContext<"exec">;
/** Context of `context.read` and `context.write`. */
export type ContextAccessContext = ActionContext<"context.read">;

const ACCESS = "scope_kind: String, scope_id: String, id: String";

/** The schema in Cedar's human-readable syntax (what `GET /v1/policy/schema` serves). */
export const CEDAR_SCHEMA = `namespace ${CEDAR_NAMESPACE} {
  // A tenant: every resource of vltair belongs to one.
  entity Tenant;
  // Whoever holds a token: the token's subject, a member of its tenant.
  entity Principal in [Tenant];

  // A command in the sandbox. program is the basename of argv[0]; wall_ms and mem_bytes are
  // the effective limits (the request's, else the configured defaults); workspace is the
  // workspace id the run uses ("default" for POST /v1/sandbox/exec).
  action "exec" appliesTo {
    principal: Principal,
    resource: Tenant,
    context: {
      program: String,
      argv: Set<String>,
      cwd: String,
      network: String,
      domains: Set<String>,
      wall_ms: Long,
      mem_bytes: Long,
      workspace: String,
    }
  };
  // A model call.
  action "llm.call" appliesTo {
    principal: Principal,
    resource: Tenant,
    context: { provider: String, model: String, max_tokens: Long }
  };
  // An outbound HTTP request.
  action "http.fetch" appliesTo {
    principal: Principal,
    resource: Tenant,
    context: { host: String, method: String }
  };
  // Reading documents: one document (id), a listing (id = prefix followed by *), or every
  // document of a scope or of the tenant (scope_kind or id = *).
  action "context.read" appliesTo {
    principal: Principal,
    resource: Tenant,
    context: { ${ACCESS} }
  };
  // Writing (upserting or deleting) one document; a batch is one decision per document.
  action "context.write" appliesTo {
    principal: Principal,
    resource: Tenant,
    context: { ${ACCESS} }
  };
  // Starting a run of a workflow.
  action "run.start" appliesTo {
    principal: Principal,
    resource: Tenant,
    context: { workflow: String }
  };
}
`;

/** The policy set each level holds until it is replaced (API.md): everything is permitted. */
export const DEFAULT_POLICY = '@id("default") permit(principal, action, resource);\n';
