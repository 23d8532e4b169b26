/**
 * `vltair mcp`: the MCP server over stdio, for coding agents that start their tools as
 * processes. With `--server URL` (token from `--token-env NAME`, default VLTAIR_TOKEN) it
 * proxies every tool call to that running server as that token. Otherwise it serves the data
 * directory: through the server that holds it (`server.json`, the admin token), or in process as
 * the directory's operator (whoever can open the directory can read it anyway). stdout carries
 * only the protocol; log lines go to stderr. Ends when stdin closes.
 */
import process from "node:process";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createApp, readServerInfo } from "../../app/mod.ts";
import { VltairError } from "../../core/mod.ts";
import { routeTableOnly } from "../../http/mod.ts";
import {
  createMcpServer,
  type Dispatch,
  inAppDispatch,
  type McpServerOptions,
  remoteDispatch,
  resourceWatchOf,
  toolsOf,
} from "../../mcp/mod.ts";
import { createLogger } from "../../obs/mod.ts";
import { DEFAULT_TENANT } from "../../policy/mod.ts";
import { VERSION } from "../../version.ts";
import {
  COMMON_OPTIONS,
  cliConfig,
  configOptions,
  type OptionSpecs,
  parseFlags,
  UsageError,
} from "../args.ts";
import { serverToken } from "../data-dir-access.ts";
import { type CliIo, EXIT_OK } from "../io.ts";

/** Resolves when stdin ends (the client closed the pipe). */
function stdinClosed(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
}

async function serveStdio(
  dispatch: Dispatch,
  tools: ReturnType<typeof toolsOf>,
  changes?: McpServerOptions["changes"],
): Promise<void> {
  const server = createMcpServer(
    changes === undefined
      ? { version: VERSION, tools, dispatch }
      : { version: VERSION, tools, dispatch, changes },
  );
  const closed = stdinClosed();
  await server.connect(new StdioServerTransport());
  await closed;
  await server.close();
}

/** The flags of `vltair mcp`. */
export function mcpOptions(): OptionSpecs {
  return {
    ...COMMON_OPTIONS,
    ...configOptions(["data_dir", "embedder", "wal_fsync", "vector_thread", "text_tokenizer"]),
    server: { type: "string" },
    "token-env": { type: "string" },
  };
}

export async function mcpCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, mcpOptions(), 0);
  const { config } = cliConfig(values, io);
  const log = createLogger({
    level: "warn",
    write: (line) => io.stderr(`${line}\n`),
    nowMs: io.clocks.nowMs,
  });
  // The tool list is the route table's, whichever way calls travel.
  if (typeof values.server === "string") {
    const tokenEnv = typeof values["token-env"] === "string" ? values["token-env"] : "VLTAIR_TOKEN";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) {
      throw new UsageError("--token-env", "--token-env must name an environment variable");
    }
    let base: URL;
    try {
      base = new URL(values.server);
    } catch {
      throw new UsageError("--server", "--server must be an http:// or https:// URL");
    }
    const token = io.env[tokenEnv];
    if (token === undefined || token === "") {
      throw new UsageError(
        "--token-env",
        `${tokenEnv} is not set: the server needs a bearer token`,
      );
    }
    const tools = toolsOf(routeTableOnly(VERSION));
    await serveStdio(remoteDispatch(base.toString().replace(/\/+$/, ""), token), tools);
    return EXIT_OK;
  }
  let app: ReturnType<typeof createApp>;
  try {
    app = createApp(config, { log, clocks: io.clocks });
  } catch (error) {
    if (!(error instanceof VltairError) || error.details.reason !== "locked") throw error;
    const server = readServerInfo(config.data_dir);
    if (server === null) throw error;
    const token = serverToken(config, io.env, server.url);
    await serveStdio(remoteDispatch(server.url, token), toolsOf(routeTableOnly(VERSION)));
    return EXIT_OK;
  }
  try {
    await app.start();
    const admin = app.admin?.token ?? null;
    const dispatch = inAppDispatch(
      (r) => app.http.app.fetch(r),
      admin === null ? null : `Bearer ${admin}`,
    );
    // In process the session is the data dir's operator: tenant `default`.
    await serveStdio(dispatch, toolsOf(app.http.routes), {
      watch: resourceWatchOf(
        (listener) => app.storage.onApplied(listener),
        (runId) => app.runs.tenantOf(runId),
      ),
      tenant: DEFAULT_TENANT,
    });
  } finally {
    await app.close();
  }
  return EXIT_OK;
}
