/**
 * A real `vltair serve` for crash tests: started in a directory (its data dir lives there), killed
 * with SIGKILL or stopped with SIGTERM, and its HTTP API called with the admin token.
 */
import { BUN, type Child, MAIN, readyUrl, start } from "./process.ts";
import type { Json } from "./runs.ts";

export type { Json };

/** An answer of the API: status and parsed body (null when empty). */
export interface Answer {
  status: number;
  body: Json;
}

export class CrashServer {
  readonly child: Child;
  readonly url: string;
  readonly #headers: Record<string, string>;

  private constructor(child: Child, url: string, token: string) {
    this.child = child;
    this.url = url;
    this.#headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  }

  /** Spawns `vltair serve` in `cwd` with `token` as its admin token (not waited for). */
  static spawn(cwd: string, token: string): Child {
    return start(BUN, [MAIN, "serve", "--port", "0"], { cwd, env: { VLTAIR_ADMIN_TOKEN: token } });
  }

  /** Starts a server in `cwd`; resolves once it is ready (recovered, runs resumed). */
  static async start(cwd: string, token: string): Promise<CrashServer> {
    const child = CrashServer.spawn(cwd, token);
    return new CrashServer(child, await readyUrl(child), token);
  }

  /** SIGKILL; resolves with the exit code (137). */
  kill(): Promise<number> {
    this.child.proc.kill("SIGKILL");
    return this.child.exited;
  }

  /** SIGTERM (a clean stop); resolves with the exit code (0). */
  stop(): Promise<number> {
    this.child.proc.kill("SIGTERM");
    return this.child.exited;
  }

  /** A request; a body is sent as JSON with POST (unless `method` says otherwise). */
  fetch(path: string, body?: unknown, method?: string): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method: method ?? (body === undefined ? "GET" : "POST"),
      headers: this.#headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  /** A request whose answer is JSON. */
  async json(path: string, body?: unknown, method?: string): Promise<Answer> {
    const response = await this.fetch(path, body, method);
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  }

  /** A request whose answer is text (event streams, replays, files). */
  async text(path: string): Promise<string> {
    return (await this.fetch(path)).text();
  }
}
