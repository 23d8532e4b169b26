/** Limits of the MCP server (config `mcp_limits`). */
import { LimitTable } from "../core/mod.ts";

/** The resolved MCP limits. */
export interface McpLimits {
  sessionsMax: number;
  idleMs: number;
  messageBytesMax: number;
}

/** Default, bounds, unit and reason of each MCP limit (docs/configuration.md is checked against it). */
export const MCP_LIMITS = new LimitTable<keyof McpLimits>("mcp_limits", {
  sessionsMax: {
    default: 64,
    min: 1,
    max: 10_000,
    unit: "sessions",
    reason:
      "open `/mcp` sessions; a new one beyond it is 429 `queue_full` (each holds a server object)",
  },
  idleMs: {
    default: 1_800_000,
    min: 1000,
    max: 86_400_000,
    unit: "ms",
    reason: "a session unused this long is closed",
  },
  messageBytesMax: {
    default: 4 * 1024 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    unit: "bytes",
    reason: "largest JSON-RPC message a client may post (413 above)",
  },
});
