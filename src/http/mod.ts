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
export { principalOfAuthorization } from "./middleware/auth.ts";
export { markInternalRequest } from "./middleware/rate-limit.ts";
export { buildOpenApi, jsonSchemaOf, openApiPath } from "./openapi.ts";
export type { RateLimits } from "./rate-limits.ts";
export { RATE_LIMITS, RateLimiter } from "./rate-limits.ts";
export type { AnyRoute, RouteSpec, ToolSpec } from "./route.ts";
export type { SnapshotSummary } from "./routes/admin.ts";
