/**
 * The MCP server of one session: tools (generated from the route table, tools.ts), documents
 * as resources (`vltair://docs/{scope}/{id}`, `?version=N`), and logging. Every call goes
 * through `dispatch` (dispatch.ts) with the session's credentials, so what a tool may do is
 * exactly what its route allows that token.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import {
  answerOf,
  type Dispatch,
  type RouteAnswer,
  type RouteCall,
  routeCallOf,
} from "./dispatch.ts";
import { docUri, parseDocUri } from "./doc-uri.ts";
import type { ResourceWatch } from "./resource-feed.ts";
import { sseEvents } from "./sse-events.ts";
import type { McpTool } from "./tools.ts";

/** Options of {@link createMcpServer}. */
export interface McpServerOptions {
  version: string;
  tools: readonly McpTool[];
  dispatch: Dispatch;
  /**
   * Changes committed by anyone, and the tenant of this session's credentials: subscribers hear
   * of every change in their tenant. Without it (a proxy to another server), a session hears of
   * its own writes only.
   */
  changes?: { watch: ResourceWatch; tenant: string | null };
}

/** Documents listed per `resources/list` page. */
const RESOURCES_PAGE_SIZE = 100;

interface Envelope {
  error?: { code?: string; message?: string; details?: unknown };
}

/** The envelope's code and message as a tool error's text (`forbidden: …`). */
function errorText(answer: RouteAnswer): string {
  const error = (answer.json as Envelope | null)?.error;
  return `${error?.code ?? "internal"}: ${error?.message ?? `HTTP ${answer.status}`}`;
}

function ok(answer: RouteAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** A resource read or list that the route refused, as a JSON-RPC error carrying the code. */
function resourceError(answer: RouteAnswer): McpError {
  const code = answer.status === 404 ? ErrorCode.InvalidParams : ErrorCode.InternalError;
  return new McpError(code, errorText(answer), (answer.json as Envelope | null)?.error);
}

/** Sends a progress notification of a long call. */
type Progress = (progress: number, message: string) => Promise<void>;

/**
 * A streamed route call: each `stdout`/`stderr` event becomes a progress notification (its
 * text as the message), the `result` event is the answer, an `error` event the error's.
 */
async function streamedAnswer(response: Response, progress: Progress): Promise<RouteAnswer> {
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    return answerOf(response);
  }
  let events = 0;
  for await (const { event, data } of sseEvents(response.body as ReadableStream<Uint8Array>)) {
    if (event === "result") return { status: 200, json: data };
    if (event === "error") return { status: 500, json: data };
    const text = (data as { data?: unknown } | null)?.data;
    if (typeof text === "string") await progress(++events, `${event}: ${text}`);
  }
  return {
    status: 502,
    json: { error: { code: "internal", message: "the stream ended without a result" } },
  };
}

/**
 * `run_start` with `wait_ms` and a progress token: starts the run, sends each of its events as
 * a progress notification (`step_started: fetch`, …) while it runs, and answers the run's body
 * once it has ended or `wait_ms` has passed — what the route answers with `wait_ms`.
 */
async function followedRunStart(
  send: (call: RouteCall) => Promise<Response>,
  call: RouteCall,
  waitMs: number,
  progress: Progress,
): Promise<RouteAnswer> {
  const startCall: RouteCall = { ...call, url: call.url.replace(/([?&])wait_ms=[^&]*&?/, "$1") };
  const started = await answerOf(await send(startCall));
  if (started.status >= 300) return started;
  const runId = String((started.json as { run_id?: unknown }).run_id);
  const path = `/v1/runs/${encodeURIComponent(runId)}`;
  const deadline = AbortSignal.any([call.signal, AbortSignal.timeout(waitMs)]);
  let events = 0;
  try {
    const stream = await send({ method: "GET", url: `${path}/events`, signal: deadline });
    for await (const { event, data } of sseEvents(stream.body as ReadableStream<Uint8Array>)) {
      const step = (data as { step_id?: unknown } | null)?.step_id;
      await progress(++events, typeof step === "string" ? `${event}: ${step}` : event);
    }
  } catch (error) {
    // Past wait_ms the stream is cut: the answer is the run as it stands, as on REST.
    if (!deadline.aborted || call.signal.aborted) throw error;
  }
  return answerOf(await send({ method: "GET", url: path, signal: call.signal }));
}

/** Tools that change documents, and the document arguments they change. */
const WRITES: Record<string, (args: Record<string, unknown>) => string[]> = {
  context_upsert: (args) =>
    ((args.items ?? []) as { id?: string; scope?: unknown }[]).map((i) =>
      docUri(i.scope, i.id ?? ""),
    ),
  context_delete: (args) => [docUri(args.scope ?? "global", String(args.id ?? ""))],
  context_delete_batch: (args) =>
    ((args.items ?? []) as { id?: string; scope?: unknown }[]).map((i) =>
      docUri(i.scope, i.id ?? ""),
    ),
};

/**
 * Creates the server of one MCP session.
 *
 * @example
 * ```ts
 * const server = createMcpServer({ version: VERSION, tools: toolsOf(routes), dispatch });
 * await server.connect(transport);
 * ```
 */
export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server(
    { name: "vltair", version: options.version },
    {
      capabilities: {
        tools: { listChanged: false },
        resources: { subscribe: true, listChanged: false },
        logging: {},
      },
      instructions:
        "vltair: a context engine (versioned documents, hybrid search), a sandbox for commands " +
        "and durable workflow runs (subscribe to vltair://runs/{id} to follow one). " +
        "Tools act as the token this session authenticated with.",
    },
  );
  const byName = new Map(options.tools.map((t) => [t.name, t]));
  const subscribed = new Set<string>();
  const send = async (call: RouteCall) => answerOf(await options.dispatch(call));

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: options.tools.map((t) => {
      const tool: Record<string, unknown> = {
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: t.inputSchema,
        annotations: t.annotations,
      };
      if (t.outputSchema !== undefined) tool.outputSchema = t.outputSchema;
      return tool as { name: string; inputSchema: { type: "object" } };
    }),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name);
    if (tool === undefined) {
      throw new McpError(ErrorCode.InvalidParams, `unknown tool ${request.params.name}`);
    }
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    const call = routeCallOf(tool, args, extra.signal);
    const progressToken = request.params._meta?.progressToken;
    let answer: RouteAnswer;
    const waitMs = Number(args.wait_ms);
    if (tool.name === "run_start" && progressToken !== undefined && waitMs > 0) {
      answer = await followedRunStart(options.dispatch, call, waitMs, (progress, message) =>
        extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, message },
        }),
      );
    } else if (tool.streams && progressToken !== undefined) {
      call.accept = "text/event-stream";
      answer = await streamedAnswer(await options.dispatch(call), (progress, message) =>
        extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, message },
        }),
      );
    } else {
      answer = await send(call);
    }
    if (!ok(answer)) {
      return { isError: true, content: [{ type: "text" as const, text: errorText(answer) }] };
    }
    if (options.changes === undefined) {
      for (const uri of WRITES[tool.name]?.(args) ?? []) {
        if (subscribed.has(uri)) await server.sendResourceUpdated({ uri });
      }
    }
    const result: Record<string, unknown> = {
      content: [{ type: "text" as const, text: JSON.stringify(answer.json) }],
    };
    if (tool.outputSchema !== undefined) result.structuredContent = answer.json;
    return result as { content: { type: "text"; text: string }[] };
  });

  server.setRequestHandler(ListResourcesRequestSchema, async (request, extra) => {
    const query = new URLSearchParams({ limit: String(RESOURCES_PAGE_SIZE) });
    if (request.params?.cursor !== undefined) query.set("cursor", request.params.cursor);
    const answer = await send({
      method: "GET",
      url: `/v1/context/docs?${query}`,
      signal: extra.signal,
    });
    if (!ok(answer)) throw resourceError(answer);
    const page = answer.json as {
      documents: { id: string; scope: unknown; version: number }[];
      next_cursor: string | null;
    };
    const out: Record<string, unknown> = {
      resources: page.documents.map((d) => ({
        uri: docUri(d.scope, d.id),
        name: d.id,
        title: `${d.id} (v${d.version})`,
        mimeType: "text/plain",
      })),
    };
    if (page.next_cursor !== null) out.nextCursor = page.next_cursor;
    return out as { resources: { uri: string; name: string }[] };
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [
      {
        uriTemplate: "vltair://docs/{scope}/{id}",
        name: "document",
        title: "A document's current version",
        description: "scope: global, session:ID or task:ID (percent-encoded); id percent-encoded",
        mimeType: "text/plain",
      },
      {
        uriTemplate: "vltair://docs/{scope}/{id}{?version}",
        name: "document-version",
        title: "One version of a document",
        mimeType: "text/plain",
      },
      {
        uriTemplate: "vltair://runs/{id}",
        name: "run",
        title: "A workflow run: status, steps and outputs (subscribe to follow it)",
        mimeType: "application/json",
      },
    ],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const run = /^vltair:\/\/runs\/([^/?#]+)$/.exec(request.params.uri);
    if (run !== null) {
      const answer = await send({ method: "GET", url: `/v1/runs/${run[1]}`, signal: extra.signal });
      if (!ok(answer)) throw resourceError(answer);
      const text = JSON.stringify(answer.json);
      return { contents: [{ uri: request.params.uri, mimeType: "application/json", text }] };
    }
    const doc = parseDocUri(request.params.uri);
    if (doc === null) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `not a vltair document URI: ${request.params.uri}`,
      );
    }
    const base = `/v1/context/docs/${encodeURIComponent(doc.id)}`;
    const scope = `?scope=${encodeURIComponent(doc.scope)}`;
    const url =
      doc.version === null ? `${base}${scope}` : `${base}/versions/${doc.version}${scope}`;
    const answer = await send({ method: "GET", url, signal: extra.signal });
    if (!ok(answer)) throw resourceError(answer);
    const text = (answer.json as { text: string }).text;
    return { contents: [{ uri: request.params.uri, mimeType: "text/plain", text }] };
  });

  let unwatch: (() => void) | null = null;
  const changes = options.changes;
  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    subscribed.add(request.params.uri);
    if (changes !== undefined && changes.tenant !== null && unwatch === null) {
      unwatch = changes.watch((change) => {
        if (change.tenant !== changes.tenant || !subscribed.has(change.uri)) return;
        server.sendResourceUpdated({ uri: change.uri }).catch(() => undefined);
      });
    }
    return {};
  });
  server.onclose = () => {
    unwatch?.();
    unwatch = null;
  };
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  server.setRequestHandler(SetLevelRequestSchema, () => ({}));
  return server;
}
