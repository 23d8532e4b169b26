/**
 * How a tool call reaches vltair: as the HTTP request its route would receive, sent through the
 * server's own app (in process) or to a running server (the stdio proxy). Either way the call
 * passes the same authentication, roles, policy, readiness, validation and limits as on REST,
 * and answers the same bodies and error envelopes.
 */
import type { McpTool } from "./tools.ts";

/** A route request built from a tool call. */
export interface RouteCall {
  method: string;
  /** Path with its parameters filled in and percent-encoded, and the query string. */
  url: string;
  body?: string;
  signal: AbortSignal;
}

/** What the route answered. */
export interface RouteAnswer {
  status: number;
  json: unknown;
}

/** Sends a route request. */
export type Dispatch = (call: RouteCall) => Promise<RouteAnswer>;

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
    path = path.replace(`:${name}`, encodeURIComponent(typeof value === "string" ? value : ""));
  }
  const query = new URLSearchParams();
  for (const name of tool.queryFields) {
    const value = rest[name];
    delete rest[name];
    if (value !== undefined)
      query.set(name, typeof value === "string" ? value : JSON.stringify(value));
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
  return call;
}

async function answerOf(response: Response): Promise<RouteAnswer> {
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}

function headersOf(authorization: string | null, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  if (hasBody) headers["content-type"] = "application/json";
  return headers;
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
  return async (call) => {
    const init: RequestInit = {
      method: call.method,
      headers: headersOf(authorization, call.body !== undefined),
      signal: call.signal,
    };
    if (call.body !== undefined) init.body = call.body;
    return answerOf(await handle(new Request(`http://vltair.internal${call.url}`, init)));
  };
}

/** Dispatch to a running server at `baseUrl` with a bearer token (the stdio proxy). */
export function remoteDispatch(baseUrl: string, token: string | null): Dispatch {
  return async (call) => {
    const init: RequestInit = {
      method: call.method,
      headers: headersOf(token === null ? null : `Bearer ${token}`, call.body !== undefined),
      signal: call.signal,
    };
    if (call.body !== undefined) init.body = call.body;
    return answerOf(await fetch(`${baseUrl}${call.url}`, init));
  };
}
