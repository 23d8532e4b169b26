/**
 * An in-process server for the workspace, files, streaming and checkpoint tests: a fresh data
 * directory and sandbox temp dir, captured logs, a wall clock the test moves, and tokens per
 * tenant. Each test file calls `disposeServers` in its `afterAll`: it closes every app made so
 * far and removes their directories.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type App, createApp } from "../../../src/app/app.ts";
import { type Config, loadConfig } from "../../../src/config/mod.ts";
import { type Call, localCall, type Role } from "../../../src/core/mod.ts";
import { createLogger } from "../../../src/obs/mod.ts";
import { ADMIN_PRINCIPAL } from "../../../src/policy/mod.ts";

export const ADMIN = "test-admin-token-0123456789";

/** The operator's call (the bootstrap admin), to make tokens of any tenant in-process. */
const OPERATOR: Call = localCall(ADMIN_PRINCIPAL, "0123456789abcdef0123456789abcdef");

/** A running in-process server. */
export interface SandboxServer {
  app: App;
  config: Config;
  dataDir: string;
  logs: string[];
  /** Moves the server's wall clock (workspace expiry). */
  advanceMs(ms: number): void;
  /** A token of `tenant` with `role` (made once, by the operator). */
  token(tenant: string, role?: Role): Promise<string>;
  request(pathname: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** JSON of a request, asserting the status. */
  json<T = Record<string, unknown>>(
    pathname: string,
    init?: RequestInit & { token?: string | null; status?: number },
  ): Promise<T>;
  /** The `error.code` of a request that must fail with `status`. */
  errorOf(
    pathname: string,
    init: RequestInit & { token?: string | null },
    status: number,
  ): Promise<{ code: string; details: Record<string, unknown> }>;
  close(): Promise<void>;
}

const made: { dir: string; app: App | null }[] = [];

/** A fresh directory removed by `disposeServers`. */
export function scratchDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push({ dir, app: null });
  return dir;
}

/**
 * Starts a server over `dataDir` (a fresh one when absent); `overrides` are config flags.
 *
 * @example
 * ```ts
 * const server = sandboxServer({ sandbox_disable: "bubblewrap" });
 * const ws = await server.json("/v1/sandbox/workspaces", { method: "POST", body: "{}", status: 201 });
 * ```
 */
export function sandboxServer(
  overrides: Record<string, string> = {},
  options: { dataDir?: string; startMs?: number } = {},
): SandboxServer {
  const dataDir = options.dataDir ?? scratchDir("vltair-sbx-srv-");
  const { config } = loadConfig({
    flags: { data_dir: dataDir, sandbox_temp_dir: scratchDir("vltair-sbx-tmp-"), ...overrides },
    env: { VLTAIR_ADMIN_TOKEN: ADMIN },
    readFile: () => "",
  });
  const logs: string[] = [];
  let nowMs = options.startMs ?? Date.UTC(2026, 0, 1);
  const app = createApp(config, {
    log: createLogger({ level: "debug", write: (line) => logs.push(line), nowMs: () => nowMs }),
    clocks: { nowMs: () => nowMs, monotonicMs: () => performance.now() },
  });
  // Recovery of the (empty or reopened) data directory, the sandbox sweep included, runs before
  // the first request.
  const started = app.start();
  const entry = { dir: "", app: app as App | null };
  made.push(entry);
  const tokens = new Map<string, string>();
  const request = async (pathname: string, init: RequestInit & { token?: string | null } = {}) => {
    await started;
    const { token = ADMIN, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
    return app.http.app.request(`http://localhost${pathname}`, { ...rest, headers });
  };
  const server: SandboxServer = {
    app,
    config,
    dataDir,
    logs,
    advanceMs: (ms) => {
      nowMs += ms;
    },
    token: async (tenant, role = "writer") => {
      await started;
      const key = `${tenant}/${role}`;
      const known = tokens.get(key);
      if (known !== undefined) return known;
      const made = await app.tokens.create(OPERATOR, { subject: key, tenant, roles: [role] });
      tokens.set(key, made.token);
      return made.token;
    },
    request,
    async json(pathname, init = {}) {
      const { status = 200, ...rest } = init;
      const response = await request(pathname, rest);
      const text = await response.text();
      if (response.status !== status) throw new Error(`${pathname}: ${response.status} ${text}`);
      return JSON.parse(text);
    },
    async errorOf(pathname, init, status) {
      const response = await request(pathname, init);
      const text = await response.text();
      if (response.status !== status) throw new Error(`${pathname}: ${response.status} ${text}`);
      return JSON.parse(text).error;
    },
    close: async () => {
      if (entry.app === null) return;
      entry.app = null;
      await started;
      await app.close();
    },
  };
  return server;
}

/** Closes every server and removes every directory made so far (call in `afterAll`). */
export async function disposeServers(): Promise<void> {
  for (const entry of made.splice(0).reverse()) {
    if (entry.app !== null) await entry.app.close();
    if (entry.dir !== "") fs.rmSync(entry.dir, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `deadlineMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  deadlineMs = 10_000,
): Promise<T> {
  const until = performance.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
