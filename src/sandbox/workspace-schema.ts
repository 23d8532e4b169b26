/**
 * Wire schemas of the workspace routes (API.md, "Sandbox workspaces (v2)"): request bodies and
 * answers, snake_case as on the wire. Configurable bounds (`ttl_ms` against
 * `workspace_ttl_ms_max`) are checked by the workspace manager, so one schema serves every
 * configuration and the OpenAPI document.
 */
import * as v from "valibot";

/** Longest workspace name, in characters. */
export const WORKSPACE_NAME_CHARS_MAX = 128;
const NO_CONTROL = /^[^\p{Cc}]*$/u;

const positiveInteger = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(1),
  v.maxValue(Number.MAX_SAFE_INTEGER),
);

/** Body of `POST /v1/sandbox/workspaces` and of a fork. */
export const WorkspaceCreateSchema = v.strictObject({
  name: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1, "name must not be empty"),
      v.maxLength(WORKSPACE_NAME_CHARS_MAX),
      v.regex(NO_CONTROL, "name contains control characters"),
    ),
  ),
  ttl_ms: v.optional(positiveInteger),
});
/** A parsed create body. */
export type WorkspaceCreate = v.InferOutput<typeof WorkspaceCreateSchema>;

/** A workspace as listed and created. */
export const WorkspaceSchema = v.strictObject({
  id: v.string(),
  name: v.nullable(v.string()),
  created_at: v.string(),
  /** Null for the default workspace, which never expires. */
  expires_at: v.nullable(v.string()),
});
/** Wire shape of a workspace. */
export type WorkspaceWire = v.InferOutput<typeof WorkspaceSchema>;

/** `GET /v1/sandbox/workspaces/{ws}`: the workspace, its usage and its checkpoints' ids. */
export const WorkspaceDetailSchema = v.strictObject({
  ...WorkspaceSchema.entries,
  size_bytes: v.number(),
  files: v.number(),
  checkpoints: v.array(v.string()),
});

/** `GET /v1/sandbox/workspaces`. */
export const WorkspaceListSchema = v.strictObject({ workspaces: v.array(WorkspaceSchema) });

/** `DELETE` answers. */
export const DeletedSchema = v.strictObject({ deleted: v.literal(true) });

/** `PUT …/files/{path}`. */
export const FileWrittenSchema = v.strictObject({
  path: v.string(),
  size: v.number(),
  sha256: v.string(),
});

/** Query of `PUT …/files/{path}`: the file's permission bits, octal (default 0644, or kept). */
export const FileWriteQuerySchema = v.strictObject({
  mode: v.optional(v.pipe(v.string(), v.regex(/^0?[0-7]{3}$/, "mode is three octal digits"))),
});

/** `GET …/files/{path}` of a directory. */
export const DirListingSchema = v.strictObject({
  path: v.string(),
  entries: v.array(
    v.strictObject({
      name: v.string(),
      type: v.picklist(["file", "dir", "symlink", "other"]),
      size: v.number(),
      mode: v.string(),
      mtime: v.string(),
    }),
  ),
  truncated: v.boolean(),
});

/** A checkpoint as listed. */
export const CheckpointSchema = v.strictObject({
  checkpoint_id: v.string(),
  created_at: v.string(),
  /** Bytes and entries of the tree it holds. */
  size_bytes: v.number(),
  files: v.number(),
});

/** `POST …/checkpoints`: the checkpoint and what taking it cost. */
export const CheckpointTakenSchema = v.strictObject({
  ...CheckpointSchema.entries,
  /** Bytes the tenant's store gained (content it already had is not stored twice). */
  stored_bytes: v.number(),
  /** FIFOs, sockets and devices in the tree, which a checkpoint does not keep. */
  skipped: v.number(),
});

/** `GET …/checkpoints`. */
export const CheckpointListSchema = v.strictObject({ checkpoints: v.array(CheckpointSchema) });

/** `POST …/checkpoints/{id}:restore`. */
export const RestoredSchema = v.strictObject({
  checkpoint_id: v.string(),
  /** Files and links written, entries removed, files and links already right. */
  written: v.number(),
  removed: v.number(),
  unchanged: v.number(),
});

/** `POST …/checkpoints/{id}:fork`: the new workspace. */
export const ForkedSchema = v.strictObject({
  ...WorkspaceSchema.entries,
  checkpoint_id: v.string(),
});
