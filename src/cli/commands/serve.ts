/**
 * `vltair serve`: load config, build the app, bind, log `server.listening`, and on SIGTERM or
 * SIGINT stop accepting, let in-flight requests finish (bounded by shutdown_grace_ms), close
 * the services (flushing the WAL), and resolve with exit code 0. A second signal exits 1 at once.
 */
import process from "node:process";
import { createApp, removeServerInfo, writeServerInfo } from "../../app/mod.ts";
import type { Config } from "../../config/mod.ts";
import { batchLines, createLogger, type Logger } from "../../obs/mod.ts";
import {
  onShutdownSignal,
  type RunningServer,
  runtimeVersion,
  type ShutdownSignal,
  serve,
} from "../../platform/mod.ts";
import { VERSION } from "../../version.ts";
import { COMMON_OPTIONS, cliConfig, configOptions, parseFlags } from "../args.ts";
import { type CliIo, EXIT_FAILURE, EXIT_OK } from "../io.ts";

/** The URL of a bound server; IPv6 hosts are bracketed. */
export function listenUrl(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return `http://${bare.includes(":") ? `[${bare}]` : bare}:${port}`;
}

/** The answer while the port is bound but the app is not built yet. */
function notYetServing(): Response {
  const body = {
    error: {
      code: "unavailable",
      message: "the server is starting; retry shortly",
      details: { reason: "recovering" },
    },
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { "content-type": "application/json", "retry-after": "1" },
  });
}

export async function serveCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { ...COMMON_OPTIONS, ...configOptions() }, 0);
  const loaded = cliConfig(values, io);
  const { config } = loaded;
  const lines = batchLines((text) => io.stdout(text));
  const log = createLogger({
    level: config.log_level,
    write: (line) => lines.write(`${line}\n`),
    nowMs: io.clocks.nowMs,
  });
  try {
    return await serveWith(config, loaded.warnings, log, io);
  } finally {
    lines.close();
  }
}

async function serveWith(
  config: Config,
  warnings: readonly string[],
  log: Logger,
  io: CliIo,
): Promise<number> {
  for (const warning of warnings) log.warn("config.warning", { message: warning });
  // The port is bound first: a busy port exits 1 before anything is created in the data
  // directory (no admin.token, no LOCK). Until the app exists (a few ms), requests get 503.
  let fetchHandler: (request: Request) => Response | Promise<Response> = notYetServing;
  let server: RunningServer;
  try {
    server = await serve({
      fetch: (request) => fetchHandler(request),
      hostname: config.host,
      port: config.port,
    });
  } catch (error) {
    log.error("server.bind_failed", {
      host: config.host,
      port: config.port,
      reason: error instanceof Error ? error.message : String(error),
    });
    return EXIT_FAILURE;
  }
  let app: ReturnType<typeof createApp>;
  try {
    app = createApp(config, { log, clocks: io.clocks });
  } catch (error) {
    await server.stop(0);
    throw error;
  }
  fetchHandler = app.http.app.fetch;
  const startedMs = io.clocks.monotonicMs();
  let starting: Promise<void> = Promise.resolve();
  // Signals are handled from the moment the port is bound (before start runs any code); a
  // stop during start waits for it to settle before closing the services.
  const stopped = waitForShutdown({
    server,
    config,
    log,
    close: async () => {
      await starting.catch(() => {});
      removeServerInfo(config.data_dir);
      await app.close();
    },
  });
  log.info("server.listening", {
    url: listenUrl(config.host, server.port),
    version: VERSION,
    runtime: runtimeVersion(),
    data_dir: config.data_dir,
  });
  writeServerInfo(config.data_dir, {
    url: listenUrl(config.host, server.port),
    pid: process.pid,
    version: VERSION,
  });
  starting = app.start();
  try {
    await starting;
  } catch (error) {
    log.error("server.start_failed", { error });
    removeServerInfo(config.data_dir);
    await server.stop(0);
    await app.close();
    return EXIT_FAILURE;
  }
  log.info("server.ready", { took_ms: Math.round(io.clocks.monotonicMs() - startedMs) });
  return stopped;
}

function waitForShutdown(options: {
  server: RunningServer;
  config: Config;
  log: Logger;
  close: () => Promise<void>;
}): Promise<number> {
  const { server, config, log } = options;
  return new Promise((resolve) => {
    let stopping = false;
    onShutdownSignal(async (signal: ShutdownSignal) => {
      if (stopping) {
        log.warn("server.forced_exit", { signal });
        resolve(EXIT_FAILURE);
        return;
      }
      stopping = true;
      log.info("server.stopping", { signal, grace_ms: config.shutdown_grace_ms });
      try {
        await server.stop(config.shutdown_grace_ms);
        await options.close();
        log.info("server.stopped", { signal });
        resolve(EXIT_OK);
      } catch (error) {
        log.error("server.stop_failed", { error });
        resolve(EXIT_FAILURE);
      }
    });
  });
}
