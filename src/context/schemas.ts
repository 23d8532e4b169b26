/**
 * Wire schemas of the context routes (API.md, "Context engine"). Static shape only: the
 * configurable limits (batch size, text length, k…) are checked by the service, which names the
 * item (`details.index`) and the limit.
 */
import * as v from "valibot";
import { hasLoneSurrogate } from "../core/mod.ts";
import { DocIdSchema, ScopeSchema } from "./scope.ts";

const FiniteNumber = v.pipe(
  v.number("must be a number"),
  v.check((n) => Number.isFinite(n), "must be finite"),
);

const VectorSchema = v.pipe(
  v.array(FiniteNumber, "must be an array of numbers"),
  v.minLength(1, "must not be empty"),
);

const MetadataSchema = v.pipe(
  v.custom<Record<string, unknown>>(
    (value) => value !== null && typeof value === "object" && !Array.isArray(value),
    "must be a JSON object",
  ),
  v.record(v.string(), v.unknown(), "must be a JSON object"),
);

export const UpsertItemSchema = v.strictObject({
  id: DocIdSchema,
  scope: v.optional(ScopeSchema, { kind: "global" }),
  text: v.pipe(
    v.string("must be a string"),
    v.check((text) => !hasLoneSurrogate(text), "must be well-formed Unicode (no lone surrogates)"),
  ),
  vector: v.optional(VectorSchema),
  metadata: v.optional(MetadataSchema),
  expected_version: v.optional(
    v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0, "must be >= 0")),
  ),
});

export const UpsertRequestSchema = v.strictObject({
  items: v.pipe(v.array(UpsertItemSchema, "must be an array"), v.minLength(1, "must not be empty")),
  /** Embed items without a vector (default true when an embedder is configured). */
  embed: v.optional(v.boolean()),
});
export type UpsertRequest = v.InferOutput<typeof UpsertRequestSchema>;

const StatusSchema = v.picklist(["inserted", "updated", "skipped"]);

export const UpsertResponseSchema = v.object({
  inserted: v.number(),
  updated: v.number(),
  skipped: v.number(),
  items: v.array(
    v.object({ id: v.string(), scope: ScopeSchema, version: v.number(), status: StatusSchema }),
  ),
  wal_index: v.number(),
});
export type UpsertResponse = v.InferOutput<typeof UpsertResponseSchema>;

export const DocumentSchema = v.object({
  id: v.string(),
  scope: ScopeSchema,
  text: v.string(),
  metadata: v.optional(MetadataSchema),
  has_vector: v.boolean(),
  version: v.number(),
  content_hash: v.string(),
  created_at: v.string(),
  updated_at: v.string(),
  wal_index: v.number(),
});
export type DocumentView = v.InferOutput<typeof DocumentSchema>;

export const VersionSchema = v.object({
  version: v.number(),
  content_hash: v.string(),
  wal_index: v.number(),
  updated_at: v.string(),
});
export const VersionsResponseSchema = v.object({
  id: v.string(),
  scope: ScopeSchema,
  versions: v.array(VersionSchema),
});
export const VersionTextSchema = v.object({
  ...VersionSchema.entries,
  id: v.string(),
  text: v.string(),
});

export const DeleteResponseSchema = v.object({ deleted: v.boolean(), wal_index: v.number() });

export const DeleteBatchRequestSchema = v.strictObject({
  items: v.pipe(
    v.array(
      v.strictObject({ id: DocIdSchema, scope: v.optional(ScopeSchema, { kind: "global" }) }),
      "must be an array",
    ),
    v.minLength(1, "must not be empty"),
  ),
});
export type DeleteBatchRequest = v.InferOutput<typeof DeleteBatchRequestSchema>;
export type DeleteBatchResponse = {
  deleted: number;
  missing: DeleteBatchRequest["items"];
  wal_index: number;
};

export const DeleteBatchResponseSchema = v.object({
  deleted: v.number(),
  /** Items that named no document (nothing to delete; not an error). */
  missing: v.array(v.object({ id: v.string(), scope: ScopeSchema })),
  wal_index: v.number(),
});

/** Most documents one list page returns. */
export const LIST_LIMIT_MAX = 1000;

export const ListQuerySchema = v.strictObject({
  scope: v.optional(v.string()),
  prefix: v.optional(v.pipe(v.string(), v.maxLength(256, "must be at most 256 characters"))),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[1-9][0-9]{0,3}$/, `must be an integer in 1..${LIST_LIMIT_MAX}`),
      v.transform(Number),
      v.maxValue(LIST_LIMIT_MAX, `must be an integer in 1..${LIST_LIMIT_MAX}`),
    ),
  ),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(2048))),
});
export type ListQuery = v.InferOutput<typeof ListQuerySchema>;

export const ListResponseSchema = v.object({
  documents: v.array(
    v.object({
      id: v.string(),
      scope: ScopeSchema,
      version: v.number(),
      content_hash: v.string(),
      updated_at: v.string(),
      metadata: v.optional(MetadataSchema),
    }),
  ),
  next_cursor: v.nullable(v.string()),
  wal_index: v.number(),
});
export type ListResponse = v.InferOutput<typeof ListResponseSchema>;

export const MergeRequestSchema = v.union(
  [
    v.strictObject({ base: v.string(), ours: v.string(), theirs: v.string() }),
    v.strictObject({
      id: DocIdSchema,
      scope: v.optional(ScopeSchema, { kind: "global" }),
      base_version: v.pipe(v.number(), v.integer(), v.minValue(1)),
      ours_version: v.pipe(v.number(), v.integer(), v.minValue(1)),
      theirs: v.string(),
    }),
  ],
  'must be {"base","ours","theirs"} or {"id","base_version","ours_version","theirs"}',
);
export type MergeRequest = v.InferOutput<typeof MergeRequestSchema>;

export const MergeResponseSchema = v.object({
  merged: v.string(),
  conflicts: v.number(),
  added: v.number(),
  removed: v.number(),
  clean: v.boolean(),
});

export const STRATEGIES = ["auto", "dense", "sparse", "hybrid"] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const INCLUDE_FIELDS = ["text", "metadata", "scores"] as const;

const Weight = v.pipe(
  FiniteNumber,
  v.minValue(0, "must be in [0, 1]"),
  v.maxValue(1, "must be in [0, 1]"),
);

export const SearchRequestSchema = v.strictObject({
  query: v.optional(v.string("must be a string")),
  vector: v.optional(VectorSchema),
  k: v.optional(
    v.pipe(
      v.number("must be a number"),
      v.integer("must be an integer"),
      v.minValue(1, "must be >= 1"),
    ),
    10,
  ),
  strategy: v.optional(v.picklist(STRATEGIES, `must be one of ${STRATEGIES.join(", ")}`), "auto"),
  scope: v.optional(ScopeSchema),
  /** A filter object or its JSON string; validated by the service (400 `filters_invalid` with `details.path`). */
  filters: v.optional(v.unknown()),
  fusion: v.optional(
    v.strictObject({
      method: v.optional(v.picklist(["rrf", "weighted"], "must be rrf or weighted"), "rrf"),
      rrf_k: v.optional(v.pipe(FiniteNumber, v.gtValue(0, "must be > 0"))),
      dense_weight: v.optional(Weight),
      sparse_weight: v.optional(Weight),
    }),
  ),
  at: v.optional(
    v.union(
      [
        v.strictObject({ wal_index: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
        v.strictObject({
          timestamp: v.pipe(v.string(), v.isoTimestamp("must be an RFC 3339 timestamp")),
        }),
      ],
      'must be {"wal_index":N} or {"timestamp":"RFC3339"}',
    ),
  ),
  include: v.optional(
    v.array(v.picklist(INCLUDE_FIELDS, `items must be ${INCLUDE_FIELDS.join(", ")}`)),
  ),
});
export type SearchRequest = v.InferOutput<typeof SearchRequestSchema>;

export const SearchHitSchema = v.object({
  id: v.string(),
  scope: ScopeSchema,
  score: v.number(),
  scores: v.optional(
    v.object({ dense: v.optional(v.number()), sparse: v.optional(v.number()), fused: v.number() }),
  ),
  version: v.number(),
  metadata: v.optional(MetadataSchema),
  text: v.optional(v.string()),
});
export type SearchHit = v.InferOutput<typeof SearchHitSchema>;

export const SearchResponseSchema = v.object({
  results: v.array(SearchHitSchema),
  strategy_used: v.picklist(["dense", "sparse", "hybrid"]),
  took_ms: v.number(),
  wal_index: v.number(),
  warnings: v.optional(v.array(v.object({ code: v.string(), message: v.string() }))),
});
export type SearchResponse = v.InferOutput<typeof SearchResponseSchema>;
