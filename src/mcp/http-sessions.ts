/**
 * MCP over Streamable HTTP at `/mcp` (the SDK's web-standard transport), one session per
 * `Mcp-Session-Id`. A session belongs to the credentials that opened it: another token naming
 * the id gets 404, as if it did not exist. Sessions are bounded (`sessionsMax`, beyond it 429
 * `queue_full`) and expire when idle. Host and Origin are checked first (DNS-rebinding
 * protection): a loopback server answers only requests addressed to a loopback host, from no
 * browser origin or from its own or a configured one.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Dispatch } from "./dispatch.ts";

/** Options of {@link McpHttpSessions}. */
export interface McpHttpOptions {
  /** A new session's server, dispatching with that session's `Authorization`. */
  createServer(dispatch: Dispatch, authorization: string | null): Server;
  /** The dispatch of a session opened with `authorization`. */
  dispatchFor(authorization: string | null): Dispatch;
  /** Most open sessions; a new one beyond it is refused (429 `queue_full`). */
  sessionsMax: number;
  /** A session unused this long is closed (ms). */
  idleMs: number;
  /** Largest JSON-RPC POST body (bytes). */
  messageBytesMax: number;
  /** True when the server listens on a loopback address only. */
  loopback: boolean;
  /** Browser origins allowed besides the server's own (`http://host:port`). */
  allowedOrigins: readonly string[];
  monotonicMs: () => number;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  owner: string;
  lastUsedMs: number;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

function envelope(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error: { code, message, details: {} } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The sessions of one server. */
export class McpHttpSessions {
  readonly #options: McpHttpOptions;
  readonly #sessions = new Map<string, Session>();

  constructor(options: McpHttpOptions) {
    this.#options = options;
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Why this request's Host or Origin is refused, or null. */
  #rebinding(request: Request): string | null {
    // A request made in process (tests, the stdio path) has no Host header: its URL's host.
    const host = request.headers.get("host") ?? new URL(request.url).host;
    const hostname = host.replace(/:\d+$/, "").toLowerCase();
    if (this.#options.loopback && !LOOPBACK_HOSTS.has(hostname)) {
      return `Host ${host} is not a loopback name of this loopback server`;
    }
    const origin = request.headers.get("origin");
    if (origin === null) return null;
    if (this.#options.allowedOrigins.includes(origin)) return null;
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return `Origin ${origin} is not a URL`;
    }
    if (originHost === host.toLowerCase()) return null;
    return `Origin ${origin} is neither this server's nor an allowed one (mcp_allowed_origins)`;
  }

  #sweep(): void {
    const now = this.#options.monotonicMs();
    for (const [id, s] of this.#sessions) {
      if (now - s.lastUsedMs > this.#options.idleMs) {
        this.#sessions.delete(id);
        void s.transport.close();
      }
    }
  }

  /**
   * Answers one request to `/mcp`.
   *
   * @example
   * ```ts
   * app.all("/mcp", (c) => sessions.handle(c.req.raw));
   * ```
   */
  async handle(request: Request): Promise<Response> {
    const refused = this.#rebinding(request);
    if (refused !== null) return envelope(403, "forbidden", refused);
    const authorization = request.headers.get("authorization");
    const owner = createHash("sha256")
      .update(authorization ?? "")
      .digest("hex");
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      const session = this.#sessions.get(id);
      if (session === undefined || session.owner !== owner) {
        return envelope(
          404,
          "not_found",
          "no such MCP session (expired, closed, or another token's)",
        );
      }
      session.lastUsedMs = this.#options.monotonicMs();
      return session.transport.handleRequest(request);
    }
    this.#sweep();
    if (request.method === "POST" && this.#sessions.size >= this.#options.sessionsMax) {
      return envelope(
        429,
        "queue_full",
        `at most ${this.#options.sessionsMax} MCP sessions are open`,
        {
          "retry-after": "1",
        },
      );
    }
    const server = this.#options.createServer(
      this.#options.dispatchFor(authorization),
      authorization,
    );
    const transport: WebStandardStreamableHTTPServerTransport =
      new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        maxRequestBodySize: this.#options.messageBytesMax,
        onsessioninitialized: (sessionId) => {
          this.#sessions.set(sessionId, {
            transport,
            server,
            owner,
            lastUsedMs: this.#options.monotonicMs(),
          });
        },
        onsessionclosed: (sessionId) => {
          this.#sessions.delete(sessionId);
        },
      });
    await server.connect(transport);
    // Not an initialize request: the transport answers 400 and the session is never stored.
    return transport.handleRequest(request);
  }

  /** Closes every session (shutdown). */
  async close(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(all.map((s) => s.transport.close()));
  }
}
