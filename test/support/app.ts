/** An in-process app for HTTP tests: real config defaults, a temp data dir, captured logs. */
import { type App, createApp } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/obs/mod.ts";
import { tempDir } from "./tmp.ts";

export const ADMIN = "test-admin-token-0123456789";

/** A test app with its log lines and a fixed clock. */
export interface TestApp {
  app: App;
  config: Config;
  logs: string[];
  request: (path: string, init?: RequestInit & { token?: string | null }) => Promise<Response>;
}

/** Creates an app over a fresh data dir; `token: null` sends no Authorization header. */
export function testApp(
  overrides: Record<string, string> = {},
  options: { ready?: boolean; env?: Record<string, string> } = {},
): TestApp {
  const { config } = loadConfig({
    flags: { data_dir: tempDir(), ...overrides },
    env: { VLTAIR_ADMIN_TOKEN: ADMIN, ...options.env },
    readFile: () => "",
  });
  const logs: string[] = [];
  let nowMs = Date.UTC(2026, 0, 1);
  const app = createApp(config, {
    log: createLogger({ level: "debug", write: (line) => logs.push(line), nowMs: () => nowMs }),
    clocks: { nowMs: () => (nowMs += 1), monotonicMs: () => performance.now() },
  });
  if (options.ready !== false) app.markReady();
  const request = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = ADMIN, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
    return Promise.resolve(app.http.app.request(`http://localhost${path}`, { ...rest, headers }));
  };
  return { app, config, logs, request };
}
