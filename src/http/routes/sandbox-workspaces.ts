/**
 * Workspaces (API.md, "Sandbox workspaces (v2)"): create, list, show and delete them; put, get
 * and delete files in them; run commands in them. Every route looks the workspace up in the
 * caller's tenant only, so another tenant's id is `404 not_found`, as is an unknown one.
 */
import * as v from "valibot";
import type { SandboxService } from "../../sandbox/mod.ts";
import {
  DeletedSchema,
  DirListingSchema,
  FileWriteQuerySchema,
  FileWrittenSchema,
  type ReadResult,
  SandboxRequestSchema,
  SandboxResultSchema,
  WorkspaceCreateSchema,
  WorkspaceDetailSchema,
  WorkspaceListSchema,
  type WorkspaceRecord,
  WorkspaceSchema,
  type WorkspaceWire,
} from "../../sandbox/mod.ts";
import type { AppContext } from "../env.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";
import { execResponse } from "./sandbox-exec.ts";

const WS = "/v1/sandbox/workspaces/:ws";
/** A file path: everything after `files/`, slashes included (percent-decoded by the router). */
const FILE = `${WS}/files/:path{.+}`;
/** Bytes read from a file per chunk of a download. */
const DOWNLOAD_CHUNK_BYTES = 64 * 1024;

/** The wire shape of a workspace record. */
export function workspaceWire(record: WorkspaceRecord): WorkspaceWire {
  return {
    id: record.id,
    name: record.name,
    created_at: new Date(record.createdAtMs).toISOString(),
    expires_at: record.expiresAtMs === null ? null : new Date(record.expiresAtMs).toISOString(),
  };
}

/** A file's bytes as a stream, read in chunks, the handle closed at the end or on cancel. */
function download(found: Extract<ReadResult, { kind: "file" }>): Response {
  const { handle, size } = found;
  let offset = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const length = Math.min(DOWNLOAD_CHUNK_BYTES, size - offset);
        try {
          const { bytesRead, buffer } =
            length > 0
              ? await handle.read(new Uint8Array(length), 0, length, offset)
              : { bytesRead: 0, buffer: new Uint8Array(0) };
          if (bytesRead === 0) {
            await handle.close();
            controller.close();
            return;
          }
          offset += bytesRead;
          controller.enqueue(buffer.subarray(0, bytesRead));
        } catch (error) {
          await handle.close().catch(() => undefined);
          controller.error(error);
        }
      },
      cancel: () => handle.close(),
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/octet-stream", "content-length": String(size) },
  });
}

async function readResponse(c: AppContext, sandbox: SandboxService, path: string) {
  const found = await sandbox.workspaces.readPath(callOf(c), c.req.param("ws") ?? "", path);
  if (found.kind === "file") return download(found);
  return c.json({ path: found.path, entries: found.entries, truncated: found.truncated });
}

/** The workspace routes. */
export function sandboxWorkspaceRoutes(deps: { sandbox: SandboxService }): AnyRoute[] {
  const ws = () => deps.sandbox.workspaces;
  return [
    defineRoute({
      method: "POST",
      path: "/v1/sandbox/workspaces",
      tool: {
        name: "workspace_create",
        title: "Create a workspace",
        readOnly: false,
        destructive: false,
        idempotent: false,
      },
      summary: "Create a named workspace: a tree that lives across runs until its TTL passes.",
      tag: "sandbox",
      access: "writer",
      body: WorkspaceCreateSchema,
      responses: { 201: { description: "The new workspace", schema: WorkspaceSchema } },
      handler: async (c, { body }) =>
        c.json(workspaceWire(await ws().create(callOf(c), body)), 201),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/sandbox/workspaces",
      tool: {
        name: "workspace_list",
        title: "List workspaces",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "The caller's workspaces, the default one included, oldest first.",
      tag: "sandbox",
      access: "reader",
      responses: { 200: { description: "The workspaces", schema: WorkspaceListSchema } },
      handler: async (c) => c.json({ workspaces: (await ws().list(callOf(c))).map(workspaceWire) }),
    }),
    defineRoute({
      method: "GET",
      path: WS,
      tool: {
        name: "workspace_show",
        title: "Show a workspace",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "One workspace: its metadata, its size and its checkpoints.",
      tag: "sandbox",
      access: "reader",
      responses: { 200: { description: "The workspace", schema: WorkspaceDetailSchema } },
      handler: async (c) => {
        const shown = await ws().show(callOf(c), c.req.param("ws") ?? "");
        return c.json({
          ...workspaceWire(shown.record),
          size_bytes: shown.sizeBytes,
          files: shown.files,
          checkpoints: shown.record.checkpoints.map((ref) => ref.id),
        });
      },
    }),
    defineRoute({
      method: "DELETE",
      path: WS,
      tool: {
        name: "workspace_delete",
        title: "Delete a workspace",
        readOnly: false,
        destructive: true,
        idempotent: true,
      },
      summary:
        "Delete a named workspace with its files and checkpoints (409 while a run is in it).",
      tag: "sandbox",
      access: "writer",
      responses: { 200: { description: "Deleted", schema: DeletedSchema } },
      handler: async (c) => {
        await ws().remove(callOf(c), c.req.param("ws") ?? "");
        return c.json({ deleted: true as const });
      },
    }),
    defineRoute({
      method: "PUT",
      path: FILE,
      tool: {
        name: "workspace_write_file",
        title: "Write a file in a workspace",
        readOnly: false,
        destructive: true,
        idempotent: true,
      },
      summary:
        "Write a file (raw body, parents created, replaced atomically); ?mode=755 sets its permission bits.",
      tag: "sandbox",
      access: "writer",
      query: FileWriteQuerySchema,
      rawBody: { contentType: "application/octet-stream", description: "The file's bytes" },
      responses: { 200: { description: "The file written", schema: FileWrittenSchema } },
      handler: async (c, { query }) => {
        const mode = query.mode === undefined ? null : Number.parseInt(query.mode, 8);
        const written = await ws().writeFile(
          callOf(c),
          c.req.param("ws") ?? "",
          c.req.param("path") ?? "",
          { body: c.req.raw.body, mode },
        );
        return c.json({ path: written.path, size: written.size, sha256: written.sha256 });
      },
    }),
    defineRoute({
      method: "GET",
      path: `${WS}/files`,
      tool: {
        name: "workspace_list_files",
        title: "List a workspace's top directory",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "List the workspace's top directory.",
      tag: "sandbox",
      access: "reader",
      responses: { 200: { description: "The listing", schema: DirListingSchema } },
      handler: (c) => readResponse(c, deps.sandbox, ""),
    }),
    defineRoute({
      method: "GET",
      path: FILE,
      tool: {
        name: "workspace_read_file",
        title: "Read a file or list a directory of a workspace",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "A file's bytes, or a directory's listing (name, type, size, mode, mtime).",
      tag: "sandbox",
      access: "reader",
      responses: {
        200: {
          description: "The bytes (application/octet-stream) or the listing (application/json)",
          schema: DirListingSchema,
          alternatives: [{ contentType: "application/octet-stream", schema: v.string() }],
        },
      },
      handler: (c) => readResponse(c, deps.sandbox, c.req.param("path") ?? ""),
    }),
    defineRoute({
      method: "DELETE",
      path: FILE,
      tool: {
        name: "workspace_delete_file",
        title: "Delete a file or directory in a workspace",
        readOnly: false,
        destructive: true,
        idempotent: true,
      },
      summary: "Delete a file, a symlink (not its target) or a directory with its contents.",
      tag: "sandbox",
      access: "writer",
      responses: { 200: { description: "Deleted", schema: DeletedSchema } },
      handler: async (c) => {
        await ws().removePath(callOf(c), c.req.param("ws") ?? "", c.req.param("path") ?? "");
        return c.json({ deleted: true as const });
      },
    }),
    defineRoute({
      method: "POST",
      path: `${WS}/exec`,
      tool: {
        name: "workspace_exec",
        title: "Run a command in a workspace",
        readOnly: false,
        destructive: true,
        idempotent: false,
      },
      summary:
        "Run a command in the workspace (the body of /v1/sandbox/exec); Accept: text/event-stream streams its output.",
      tag: "sandbox",
      access: "writer",
      body: SandboxRequestSchema,
      responses: {
        200: {
          description: "The run's result, or its events (stdout, stderr, then result)",
          schema: SandboxResultSchema,
          alternatives: [{ contentType: "text/event-stream" }],
        },
      },
      handler: (c, { body }) => execResponse(c, deps.sandbox, body, c.req.param("ws") ?? ""),
    }),
  ];
}
