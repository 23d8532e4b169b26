/**
 * How a tool call reaches vltair: as the HTTP request its route would receive, sent through the
 * server's own app (in process) or to a running server (the stdio proxy). Either way the call
 * passes the same authentication, roles, policy, readiness, validation and limits as on REST,
 * and answers the same bodies and error envelopes.
 */
import { markInternalRequest } from "../http/mod.ts";
import { sseEvents } from "./sse-events.ts";
import type { McpTool } from "./tools.ts";

/** A route request built from a tool call. */
export interface RouteCall {
  method: string;
  /** Path with its parameters filled in and percent-encoded, and the query string. */
  url: string;
  /** JSON text, or a raw body's bytes (a file upload). */
  body?: string | Uint8Array<ArrayBuffer>;
  /** `Accept` header (text/event-stream for streamed output). */
  accept?: string;
  signal: AbortSignal;
}

/** What the route answered: JSON, or a file's bytes as UTF-8 text or base64. */
export interface RouteAnswer {
  status: number;
  json: unknown;
}

/** Sends a route request; the route's own response comes back. */
export type Dispatch = (call: RouteCall) => Promise<Response>;

/** Encodings of file content in tool arguments and results. */
export type ContentEncoding = "utf8" | "base64";

/**
 * A path parameter's value in a route path: `:name` or `:name{pattern}` with a literal `:verb`
 * kept. The value is encoded whole (slashes too), so `..` in a file path reaches the route's own
 * check instead of being resolved away by URL parsing.
 */
function fillPathParam(path: string, name: string, value: string): string {
  return path.replace(new RegExp(`:${name}(\\{[^}]*\\})?`), (_, pattern?: string) => {
    const verb = pattern?.match(/(:[A-Za-z]+)\}$/)?.[1] ?? "";
    return `${encodeURIComponent(value)}${verb}`;
  });
}

function bytesOf(content: unknown, encoding: unknown): Uint8Array<ArrayBuffer> {
  const text = typeof content === "string" ? content : "";
  return encoding === "base64" ? Buffer.from(text, "base64") : new TextEncoder().encode(text);
}

/** The route request of a tool call: path parameters, then query fields, the rest the body. */
export function routeCallOf(
  tool: McpTool,
  args: Record<string, unknown>,
  signal: AbortSignal,
): RouteCall {
  const rest: Record<string, unknown> = { ...args };
  let path = tool.route.path;
  for (const name of tool.pathParams) {
    const value = rest[name];
    delete rest[name];
    const text = typeof value === "string" || typeof value === "number" ? String(value) : "";
    path = fillPathParam(path, name, text);
  }
  const query = new URLSearchParams();
  for (const name of tool.queryFields) {
    const value = rest[name];
    delete rest[name];
    if (value !== undefined)
      query.set(name, typeof value === "string" ? value : JSON.stringify(value));
  }
  let raw: Uint8Array<ArrayBuffer> | undefined;
  if (tool.rawBody) {
    raw = bytesOf(rest.content, rest.encoding);
    delete rest.content;
    delete rest.encoding;
  }
  // A route without a body gets leftover arguments as its query, whose strict schema names them.
  if (tool.route.body === undefined) {
    for (const [name, value] of Object.entries(rest)) {
      query.set(name, typeof value === "string" ? value : JSON.stringify(value));
    }
  }
  const qs = query.toString();
  const call: RouteCall = {
    method: tool.route.method,
    url: qs === "" ? path : `${path}?${qs}`,
    signal,
  };
  if (tool.route.body !== undefined) call.body = JSON.stringify(rest);
  if (raw !== undefined) call.body = raw;
  return call;
}

/**
 * A route's response as a tool answer: JSON as it is; a file's bytes as text when they are
 * UTF-8, else base64, with their size.
 */
export async function answerOf(response: Response): Promise<RouteAnswer> {
  // An event stream that ends (a run's replay): its events' data, in order.
  if (response.headers.get("content-type")?.startsWith("text/event-stream") && response.ok) {
    const events: unknown[] = [];
    for await (const { data } of sseEvents(response.body as ReadableStream<Uint8Array>)) {
      events.push(data);
    }
    return { status: response.status, json: { events } };
  }
  if (response.headers.get("content-type")?.startsWith("application/octet-stream")) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    let content: string;
    let encoding: ContentEncoding = "utf8";
    try {
      content = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      content = Buffer.from(bytes).toString("base64");
      encoding = "base64";
    }
    return { status: response.status, json: { content, encoding, size_bytes: bytes.length } };
  }
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}

function initOf(call: RouteCall, authorization: string | null): RequestInit {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  if (call.accept !== undefined) headers.accept = call.accept;
  if (call.body !== undefined) {
    headers["content-type"] =
      typeof call.body === "string" ? "application/json" : "application/octet-stream";
  }
  const init: RequestInit = { method: call.method, headers, signal: call.signal };
  if (call.body !== undefined) init.body = call.body;
  return init;
}

/**
 * Dispatch through the server's own request handler, with the caller's `Authorization`.
 *
 * @example
 * ```ts
 * const dispatch = inAppDispatch((r) => app.http.app.fetch(r), request.headers.get("authorization"));
 * ```
 */
export function inAppDispatch(
  handle: (request: Request) => Response | Promise<Response>,
  authorization: string | null,
): Dispatch {
  return async (call) =>
    handle(
      markInternalRequest(
        new Request(`http://vltair.internal${call.url}`, initOf(call, authorization)),
      ),
    );
}

/** Dispatch to a running server at `baseUrl` with a bearer token (the stdio proxy). */
export function remoteDispatch(baseUrl: string, token: string | null): Dispatch {
  const authorization = token === null ? null : `Bearer ${token}`;
  return (call) => fetch(`${baseUrl}${call.url}`, initOf(call, authorization));
}
