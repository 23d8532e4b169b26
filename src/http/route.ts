/**
 * Route definitions: one object per route carries its method, path, access rule, input and
 * output schemas and handler. The same objects register the Hono handlers, drive the public
 * path list of the auth middleware, and generate `/v1/openapi.json`, so they cannot drift.
 */
import type { Hono } from "hono";
import type * as v from "valibot";
import { authorize, type Call, VltairError } from "../core/mod.ts";
import type { Role } from "../policy/mod.ts";
import type { AppContext, AppEnv } from "./env.ts";
import { readJsonBody, readQuery } from "./validate.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One documented response of a route. */
export interface ResponseSpec {
  description: string;
  schema?: v.GenericSchema;
  /** Defaults to application/json. */
  contentType?: string;
  /** Other content types of the same status, chosen by `Accept` (e.g. text/event-stream). */
  alternatives?: { contentType: string; schema?: v.GenericSchema }[];
}

/** An MCP tool's name and its behaviour hints (MCP tool annotations). */
export interface ToolSpec {
  name: string;
  title: string;
  /** Reads only; changes nothing. */
  readOnly: boolean;
  /** May destroy or overwrite data, or act outside vltair (a sandbox run). */
  destructive: boolean;
  /** Repeating the call with the same arguments has no further effect. */
  idempotent: boolean;
}

/** Validated input handed to a handler. */
export interface RouteInput<B, Q> {
  body: B;
  query: Q;
}

/** A route: what it accepts, who may call it, what it answers. */
export interface RouteSpec<
  B extends v.GenericSchema | undefined = v.GenericSchema | undefined,
  Q extends v.GenericSchema | undefined = v.GenericSchema | undefined,
> {
  method: HttpMethod;
  /** Hono path, with `:name` parameters. */
  path: string;
  summary: string;
  tag: string;
  /** `public` needs no token; a role needs a token holding it (or a higher one). */
  access: "public" | Role;
  /**
   * True for routes that read nothing recovered (health, readiness, metrics, OpenAPI): they
   * answer while the server recovers; every other route is 503 `recovering` until it is ready.
   */
  whileRecovering?: boolean;
  /**
   * Exposed as an MCP tool (src/mcp): its arguments are the route's body, query and path
   * parameters, its structured result the route's answer. The tool's schemas come from this
   * route's, so the two never drift.
   */
  tool?: ToolSpec;
  body?: B;
  /**
   * A body that is not JSON (a file upload): the handler reads `c.req.raw.body` itself; this
   * only documents it in OpenAPI. Exclusive with `body`.
   */
  rawBody?: { contentType: string; description: string };
  /**
   * Turns the `validation_failed` of a body that does not fit `body` into the route's own error
   * (a workflow's issues are `workflow_invalid` with a path inside the workflow).
   */
  invalidBody?: (error: VltairError) => VltairError;
  query?: Q;
  responses: Record<number, ResponseSpec>;
  handler: (
    c: AppContext,
    input: RouteInput<
      B extends v.GenericSchema ? v.InferOutput<B> : undefined,
      Q extends v.GenericSchema ? v.InferOutput<Q> : undefined
    >,
  ) => Response | Promise<Response>;
}

/** A route of any input types, as stored in the route table. */
// biome-ignore lint/suspicious/noExplicitAny: the table holds routes of every input type
export type AnyRoute = RouteSpec<any, any>;

/** Declares a route with its input types inferred from its schemas. */
export function defineRoute<
  B extends v.GenericSchema | undefined = undefined,
  Q extends v.GenericSchema | undefined = undefined,
>(spec: RouteSpec<B, Q>): RouteSpec<B, Q> {
  return spec;
}

/**
 * The service call of a request: its principal (set by auth), trace id and abort signal (the
 * client going away aborts the call).
 */
export function callOf(c: AppContext): Call {
  let call = calls.get(c);
  if (call === undefined) {
    call = { principal: c.var.principal, traceId: c.var.traceId, signal: c.req.raw.signal };
    calls.set(c, call);
  }
  return call;
}

/**
 * One `Call` per request, whoever asks: policy pins its version to the call (ADR 0014), so
 * every decision of a request sees the same version.
 */
const calls = new WeakMap<AppContext, Call>();

/** Registers every route on the app, wrapping each handler with access and input checks. */
export function mountRoutes(app: Hono<AppEnv>, routes: readonly AnyRoute[]): void {
  for (const route of routes) {
    app.on(route.method, route.path, async function routeHandler(c) {
      c.set("route", route.path);
      // The same authorizer the services call (they check again, for every entry point).
      if (route.access !== "public")
        authorize(callOf(c), route.access, `${route.method} ${route.path}`);
      const query = route.query === undefined ? undefined : readQuery(c, route.query);
      const body = route.body === undefined ? undefined : await readBody(c, route);
      return route.handler(c, { body, query });
    });
  }
}

async function readBody(c: AppContext, route: AnyRoute): Promise<unknown> {
  try {
    return await readJsonBody(c, route.body);
  } catch (error) {
    const mapped = route.invalidBody;
    if (
      mapped === undefined ||
      !(error instanceof VltairError) ||
      error.code !== "validation_failed"
    )
      throw error;
    throw mapped(error);
  }
}

/**
 * The Hono path of a custom method on a resource, `/v1/runs/{id}:cancel` in OpenAPI (Google's
 * style, like `/v1/context/docs:upsert`). Hono cannot put a literal after a parameter in one
 * segment, so the parameter's pattern carries the verb; {@link customMethodParam} strips it.
 */
export function customMethodPath(resource: string, param: string, verb: string): string {
  return `${resource}/:${param}{[^/:]+:${verb}}`;
}

/** The parameter of a {@link customMethodPath} route, without its `:verb`. */
export function customMethodParam(c: AppContext, param: string, verb: string): string {
  const raw = c.req.param(param) ?? "";
  return raw.endsWith(`:${verb}`) ? raw.slice(0, -verb.length - 1) : raw;
}

/** Paths of routes that answer during recovery (see {@link RouteSpec.whileRecovering}). */
export function whileRecoveringPaths(routes: readonly AnyRoute[]): Set<string> {
  return new Set(routes.filter((r) => r.whileRecovering === true).map((r) => r.path));
}

/** Paths of public routes: the auth middleware lets these through without a token. */
export function publicPaths(routes: readonly AnyRoute[]): Set<string> {
  return new Set(routes.filter((r) => r.access === "public").map((r) => r.path));
}
