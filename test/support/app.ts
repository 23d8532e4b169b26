/** An in-process app for HTTP tests: real config defaults, a temp data dir, captured logs. */
import { type App, createApp } from "../../src/app/app.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { type Call, localCall, type Role } from "../../src/core/mod.ts";
import { createLogger } from "../../src/obs/mod.ts";
import type { Timers } from "../../src/orchestrator/mod.ts";
import { ADMIN_PRINCIPAL, type TokenInfo } from "../../src/policy/mod.ts";
import { tempDir } from "./tmp.ts";

export const ADMIN = "test-admin-token-0123456789";

/** The start (recovery) of each test app, so helpers can wait for it. */
const startedApps = new WeakMap<App, Promise<void>>();

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
  options: { ready?: boolean; env?: Record<string, string>; timers?: Timers } = {},
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
    ...(options.timers === undefined ? {} : { timers: options.timers }),
    // Model provider keys come from the test's env only, never the machine's.
    env: { ...options.env },
  });
  // Ready by default: recovery (of an empty directory) runs before the first request.
  const started = options.ready === false ? Promise.resolve() : app.start();
  startedApps.set(app, started);
  const request = async (path: string, init: RequestInit & { token?: string | null } = {}) => {
    await started;
    const { token = ADMIN, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
    return app.http.app.request(`http://localhost${path}`, { ...rest, headers });
  };
  return { app, config, logs, request };
}

/** The operator's call (the bootstrap admin), for tests that set up tokens in-process. */
const OPERATOR: Call = localCall(ADMIN_PRINCIPAL, "0123456789abcdef0123456789abcdef");

/** Creates a token in `app` (any tenant) as the operator, once the app has recovered. */
export async function createToken(
  app: App,
  input: { subject: string; tenant: string; roles: Role[] },
): Promise<{ token: string; info: TokenInfo }> {
  await startedApps.get(app);
  return app.tokens.create(OPERATOR, input);
}
