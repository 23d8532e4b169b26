/** Wire schemas of the policy routes (API.md, "Policy, budgets, audit"). */
import * as v from "valibot";
import { POLICY_ACTIONS } from "./cedar-schema.ts";
import { POLICY_TEXT_BYTES_MAX } from "./policy-set.ts";
import { SubjectSchema, TenantSchema } from "./roles.ts";

const CedarText = v.pipe(
  v.string("must be a string"),
  v.maxLength(POLICY_TEXT_BYTES_MAX, `must be at most ${POLICY_TEXT_BYTES_MAX} characters`),
);

/** `?tenant=T` of the policy routes: the operator names a tenant's level, an admin its own. */
export const PolicyLevelQuerySchema = v.strictObject({ tenant: v.optional(TenantSchema) });

/** Body of `PUT /v1/policy`. */
export const PolicyPutRequestSchema = v.strictObject({ cedar: CedarText });

/** Body of `POST /v1/policy:check`; `context` is checked against the action's schema. */
export const PolicyCheckRequestSchema = v.strictObject({
  action: v.picklist(POLICY_ACTIONS, `must be one of ${POLICY_ACTIONS.join(", ")}`),
  context: v.record(v.string(), v.unknown(), "must be an object"),
  /** Whose request to evaluate (default: the caller); another tenant's needs the operator. */
  principal: v.optional(v.strictObject({ tenant: TenantSchema, subject: SubjectSchema })),
  /** A candidate set evaluated instead of the stored one of the level `PUT` would replace. */
  cedar: v.optional(CedarText),
});
export type PolicyCheckRequest = v.InferOutput<typeof PolicyCheckRequestSchema>;

/** `GET /v1/policy`. */
export const PolicyViewSchema = v.object({
  cedar: v.string(),
  /** 0 while the level holds the shipped default. */
  version: v.number(),
  updated_at: v.nullable(v.string()),
});

/** `GET /v1/policy/versions`: newest first. */
export const PolicyVersionsSchema = v.object({
  versions: v.array(
    v.object({
      version: v.number(),
      updated_at: v.string(),
      subject: v.string(),
      sha256: v.string(),
      size_bytes: v.number(),
    }),
  ),
});

/** `POST /v1/policy:check`. */
export const PolicyCheckResponseSchema = v.object({
  decision: v.picklist(["allow", "deny"]),
  reasons: v.array(v.string()),
  /** Null when a candidate set took part. */
  policy_version: v.nullable(v.number()),
});

/** `GET /v1/policy/schema`: the Cedar schema as text and as Cedar's JSON form. */
export const PolicySchemaResponseSchema = v.object({
  cedar: v.string(),
  json: v.unknown(),
});
