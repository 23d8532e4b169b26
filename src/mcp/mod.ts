/**
 * The MCP server: tools generated from the HTTP route table, documents as resources, over
 * Streamable HTTP at `/mcp` and over stdio (`vltair mcp`).
 *
 * @example
 * ```ts
 * import { createMcpServer, inAppDispatch, McpHttpSessions, toolsOf } from "../mcp/mod.ts";
 * ```
 */
export type { Dispatch, RouteAnswer, RouteCall } from "./dispatch.ts";
export { inAppDispatch, remoteDispatch, routeCallOf } from "./dispatch.ts";
export { docUri, parseDocUri } from "./doc-uri.ts";
export type { McpHttpOptions } from "./http-sessions.ts";
export { McpHttpSessions } from "./http-sessions.ts";
export type { McpLimits } from "./limits.ts";
export { MCP_LIMITS } from "./limits.ts";
export type { ResourceChange, ResourceWatch, RunTenantOf } from "./resource-feed.ts";
export { changesOf, resourceWatchOf, runUri } from "./resource-feed.ts";
export type { McpServerOptions } from "./server.ts";
export { createMcpServer } from "./server.ts";
export type { McpTool } from "./tools.ts";
export { toolsOf } from "./tools.ts";
