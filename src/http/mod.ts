/**
 * The HTTP surface: a Hono app over the services.
 *
 * @example
 * ```ts
 * import { createHttpApp } from "../http/mod.ts";
 * ```
 */
export type { HttpApp, HttpDeps } from "./app.ts";
export { createHttpApp, routeTableOnly } from "./app.ts";
export type { AppEnv } from "./env.ts";
export { buildOpenApi, jsonSchemaOf, openApiPath } from "./openapi.ts";
export type { AnyRoute, RouteSpec, ToolSpec } from "./route.ts";
export type { SnapshotSummary } from "./routes/admin.ts";
