/** An in-process app with the context engine recovered, and JSON helpers for its routes. */
import type { Role } from "../../src/policy/mod.ts";
import { createToken, type TestApp, testApp } from "./app.ts";

/** A parsed JSON answer; tests read fields they assert on, so its type stays open. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
export type Json = any;

export interface ContextTestApp extends TestApp {
  /** POSTs JSON; returns the status and parsed body. */
  post: (path: string, body: unknown, token?: string) => Promise<{ status: number; body: Json }>;
  /** GETs (or another method without a body); returns the status and parsed body. */
  call: (method: string, path: string, token?: string) => Promise<{ status: number; body: Json }>;
  /** A new token of `tenant` holding `role`. */
  tokenFor: (tenant: string, role: Role) => Promise<string>;
}

async function parsed(response: Response): Promise<{ status: number; body: Json }> {
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}

/** Starts (recovers) a test app; close it with `app.close()`. */
export async function contextApp(
  overrides: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<ContextTestApp> {
  const t = testApp(overrides, { ready: false, env });
  await t.app.start();
  const withToken = (token: string | undefined) => (token === undefined ? {} : { token });
  return {
    ...t,
    post: async (path, body, token) =>
      parsed(
        await t.request(path, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
          ...withToken(token),
        }),
      ),
    call: async (method, path, token) =>
      parsed(await t.request(path, { method, ...withToken(token) })),
    tokenFor: async (tenant, role) =>
      (await createToken(t.app, { subject: `${tenant}-${role}`, tenant, roles: [role] })).token,
  };
}
