/**
 * Checkpoints of a workspace (API.md, "Sandbox workspaces (v2)"): take one, list them, delete
 * one, restore one into the workspace, fork one into a new workspace. The id is the SHA-256 of
 * the checkpoint's manifest; custom-method suffixes (`:restore`, `:fork`) are part of the last
 * segment, which Hono can only match with the suffix inside the parameter's pattern. Any id
 * routes; one that is not 64 hex digits is then `404 not_found` like an unknown one.
 */
import type { SandboxService } from "../../sandbox/mod.ts";
import {
  type CheckpointInfo,
  CheckpointListSchema,
  CheckpointTakenSchema,
  DeletedSchema,
  ForkedSchema,
  RestoredSchema,
  WorkspaceCreateSchema,
} from "../../sandbox/mod.ts";
import type { AppContext } from "../env.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";
import { workspaceWire } from "./sandbox-workspaces.ts";

const CHECKPOINTS = "/v1/sandbox/workspaces/:ws/checkpoints";

function checkpointWire(c: CheckpointInfo) {
  return {
    checkpoint_id: c.id,
    created_at: new Date(c.createdAtMs).toISOString(),
    size_bytes: c.sizeBytes,
    files: c.files,
  };
}

const wsOf = (c: AppContext) => c.req.param("ws") ?? "";
/** The checkpoint id of `…/{id}:verb`. */
const idOf = (c: AppContext, verb: string) => (c.req.param("id") ?? "").replace(`:${verb}`, "");

/** The checkpoint routes. */
export function sandboxCheckpointRoutes(deps: { sandbox: SandboxService }): AnyRoute[] {
  const ws = () => deps.sandbox.workspaces;
  return [
    defineRoute({
      method: "POST",
      path: CHECKPOINTS,
      tool: {
        name: "checkpoint_take",
        title: "Checkpoint a workspace",
        readOnly: false,
        destructive: false,
        idempotent: true,
      },
      summary:
        "Checkpoint the workspace: a content-addressed id (the same tree gives the same id); unchanged files are not read or stored again.",
      tag: "sandbox",
      access: "writer",
      responses: { 201: { description: "The checkpoint", schema: CheckpointTakenSchema } },
      handler: async (c) => {
        const taken = await ws().takeCheckpoint(callOf(c), wsOf(c));
        return c.json(
          { ...checkpointWire(taken), stored_bytes: taken.storedBytes, skipped: taken.skipped },
          201,
        );
      },
    }),
    defineRoute({
      method: "GET",
      path: CHECKPOINTS,
      tool: {
        name: "checkpoint_list",
        title: "List a workspace's checkpoints",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "The workspace's checkpoints, oldest first.",
      tag: "sandbox",
      access: "reader",
      responses: { 200: { description: "The checkpoints", schema: CheckpointListSchema } },
      handler: async (c) =>
        c.json({
          checkpoints: (await ws().listCheckpoints(callOf(c), wsOf(c))).map(checkpointWire),
        }),
    }),
    defineRoute({
      method: "DELETE",
      path: `${CHECKPOINTS}/:id{[^/:]+}`,
      tool: {
        name: "checkpoint_delete",
        title: "Delete a checkpoint",
        readOnly: false,
        destructive: true,
        idempotent: true,
      },
      summary: "Drop a checkpoint from the workspace; its content goes once nothing else uses it.",
      tag: "sandbox",
      access: "writer",
      responses: { 200: { description: "Deleted", schema: DeletedSchema } },
      handler: async (c) => {
        await ws().removeCheckpoint(callOf(c), wsOf(c), c.req.param("id") ?? "");
        return c.json({ deleted: true as const });
      },
    }),
    defineRoute({
      method: "POST",
      path: `${CHECKPOINTS}/:id{[^/:]+:restore}`,
      tool: {
        name: "checkpoint_restore",
        title: "Restore a workspace to a checkpoint",
        readOnly: false,
        destructive: true,
        idempotent: true,
      },
      summary:
        "Bring the workspace back to the checkpoint, byte for byte (only what differs is written; 409 while a run is in it).",
      tag: "sandbox",
      access: "writer",
      responses: { 200: { description: "What the restore changed", schema: RestoredSchema } },
      handler: async (c) => {
        const id = idOf(c, "restore");
        const restored = await ws().restoreCheckpoint(callOf(c), wsOf(c), id);
        return c.json({ checkpoint_id: id, ...restored });
      },
    }),
    defineRoute({
      method: "POST",
      path: `${CHECKPOINTS}/:id{[^/:]+:fork}`,
      tool: {
        name: "checkpoint_fork",
        title: "Fork a checkpoint into a new workspace",
        readOnly: false,
        destructive: false,
        idempotent: false,
      },
      summary:
        "A new workspace holding the checkpoint (body as POST /v1/sandbox/workspaces: name, ttl_ms).",
      tag: "sandbox",
      access: "writer",
      body: WorkspaceCreateSchema,
      responses: { 201: { description: "The new workspace", schema: ForkedSchema } },
      handler: async (c, { body }) => {
        const id = idOf(c, "fork");
        const forked = await ws().forkCheckpoint(callOf(c), wsOf(c), id, body);
        return c.json({ ...workspaceWire(forked.record), checkpoint_id: id }, 201);
      },
    }),
  ];
}
