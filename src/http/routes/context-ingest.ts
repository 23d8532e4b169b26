/**
 * `POST /v1/context/ingest`: a sandbox workspace's files into the context engine, chunked and
 * named as `vltair ingest` does, with the caller's tenant and roles (writer). JSON answers once
 * it is done; with `Accept: text/event-stream`, a `progress` event after every batch
 * (`{"data":"files N, chunks M"}`) and one `result` event with the same body — the MCP tool
 * `context_ingest` turns those into progress notifications.
 */
import {
  type ContextService,
  IngestRequestSchema,
  IngestResponseSchema,
  ingestTree,
} from "../../context/mod.ts";
import type { SandboxService } from "../../sandbox/mod.ts";
import { toVltairError } from "../envelope.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";
import {
  SSE_HEADERS,
  SSE_HEARTBEAT_MS,
  SSE_HIGH_WATER_BYTES,
  SseChannel,
  wantsEventStream,
} from "./sandbox-sse.ts";

/** The ingest route. */
export function contextIngestRoutes(deps: {
  context: ContextService;
  sandbox: SandboxService;
}): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      path: "/v1/context/ingest",
      tool: {
        name: "context_ingest",
        title: "Ingest a workspace's files",
        readOnly: false,
        destructive: false,
        idempotent: true,
      },
      summary:
        "Chunk and upsert the text files of a sandbox workspace (default: the tenant's default one; path: a directory inside it; include/exclude globs; .gitignore honoured) as vltair ingest names them (path#n). Accept: text/event-stream streams progress after every batch.",
      tag: "context",
      access: "writer",
      body: IngestRequestSchema,
      responses: {
        200: {
          description: "What was ingested, or its progress events then the result",
          schema: IngestResponseSchema,
          alternatives: [{ contentType: "text/event-stream" }],
        },
      },
      handler: async (c, { body }) => {
        const call = callOf(c);
        // The workspace is checked (404 for another tenant's) before any stream starts.
        const tree = await deps.sandbox.workspaces.treeFor(call, body.workspace);
        if (!wantsEventStream(c.req.header("accept")))
          return c.json(await ingestTree(call, tree, body, deps.context));
        const channel = new SseChannel({
          highWaterBytes: SSE_HIGH_WATER_BYTES,
          heartbeatMs: SSE_HEARTBEAT_MS,
          onCancel: () => undefined,
        });
        void ingestTree(call, tree, body, deps.context, ({ files, chunks }) =>
          channel.send("progress", { data: `files ${files}, chunks ${chunks}` }),
        )
          .then((answer) => channel.send("result", answer))
          .catch((error: unknown) => {
            const known = toVltairError(error);
            if (known.code === "internal") c.var.log.error("http.internal_error", { error });
            const { code, message, details } = known;
            return channel.send("error", {
              error: { code, message, details, trace_id: c.var.traceId },
            });
          })
          .finally(() => channel.close());
        return c.body(channel.readable, 200, SSE_HEADERS);
      },
    }),
  ];
}
