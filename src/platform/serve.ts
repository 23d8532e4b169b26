/**
 * `serve()` for Bun, Deno and Node behind one interface: bind, report the real port, and stop
 * gracefully (stop accepting, let in-flight requests finish within a grace period, then cut).
 */
import { denoGlobal, runtimeName } from "./runtime.ts";

/** A web-standard request handler (Hono's `app.fetch`). */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link serve}. */
export interface ServeOptions {
  fetch: FetchHandler;
  hostname: string;
  /** 0 picks a free port; the real one is in the result. */
  port: number;
}

/** A listening server. */
export interface RunningServer {
  hostname: string;
  port: number;
  /** Stops accepting, waits up to `graceMs` for in-flight requests, then closes every connection. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts an HTTP server on the current runtime.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
 * await server.stop(10_000);
 * ```
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const runtime = runtimeName();
  if (runtime === "bun") return serveBun(options);
  if (runtime === "deno") return serveDeno(options);
  return serveNode(options);
}

interface BunServer {
  port: number;
  hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

function serveBun(options: ServeOptions): RunningServer {
  const bun = (globalThis as unknown as { Bun: { serve(o: unknown): BunServer } }).Bun;
  const server = bun.serve({
    hostname: options.hostname,
    port: options.port,
    // The app enforces its own body limit with a proper envelope; Bun's must never be lower.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (request: Request) => options.fetch(request),
  });
  return {
    hostname: options.hostname,
    port: server.port,
    stop: (graceMs) => withGrace(server.stop(false), graceMs, () => server.stop(true)),
  };
}

async function serveDeno(options: ServeOptions): Promise<RunningServer> {
  const deno = denoGlobal();
  if (deno === null) throw new Error("serveDeno called outside Deno");
  const abort = new AbortController();
  let resolveListening: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => {
    resolveListening = resolve;
  });
  const server = deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: abort.signal,
    onListen: (addr) => resolveListening(addr.port),
    handler: options.fetch,
  });
  const port = await listening;
  return {
    hostname: options.hostname,
    port,
    stop: (graceMs) =>
      withGrace(server.shutdown(), graceMs, async () => {
        abort.abort();
        await server.finished;
      }),
  };
}

async function serveNode(options: ServeOptions): Promise<RunningServer> {
  const { serve: nodeServe } = await import("@hono/node-server");
  const { server, port } = await new Promise<{
    server: import("node:http").Server;
    port: number;
  }>((resolve, reject) => {
    const s = nodeServe(
      { fetch: options.fetch, hostname: options.hostname, port: options.port },
      (info) => resolve({ server: s as import("node:http").Server, port: info.port }),
    );
    s.once("error", reject);
  });
  return {
    hostname: options.hostname,
    port,
    stop: (graceMs) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return withGrace(closed, graceMs, async () => {
        server.closeAllConnections();
        await closed;
      });
    },
  };
}

/** Waits for `graceful` at most `graceMs`, then runs `force`. */
async function withGrace(
  graceful: Promise<void>,
  graceMs: number,
  force: () => Promise<void>,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), graceMs);
  });
  const outcome = await Promise.race([graceful.then(() => "done" as const), expired]);
  clearTimeout(timer);
  if (outcome === "expired") await force();
}
