/**
 * Helpers for run tests over an in-process app: JSON calls, starting a run, reading it, and
 * polling until it reaches a status.
 */
import { expect } from "bun:test";
import type { TestApp } from "./app.ts";
import { poll } from "./process.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test
export type Json = any;

/** One JSON request; the answer's status and parsed body (null when empty). */
export async function callJson(
  t: TestApp,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: Json }> {
  const response = await t.request(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.token === undefined ? {} : { token: init.token }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}

/** Starts a run (expects 201) and returns its id. */
export async function startRun(t: TestApp, body: unknown, token?: string): Promise<string> {
  const r = await callJson(t, "/v1/runs", { body, ...(token === undefined ? {} : { token }) });
  expect(r.status).toBe(201);
  return r.body.run_id;
}

/** The run body. */
export async function runOf(t: TestApp, id: string, token?: string): Promise<Json> {
  return (await callJson(t, `/v1/runs/${id}`, token === undefined ? {} : { token })).body;
}

/** Polls the run until it has `status` (10 s deadline); returns its body then. */
export function runUntil(t: TestApp, id: string, status: string, token?: string): Promise<Json> {
  const reached = (run: Json) => (run.status === status ? run : undefined);
  return pollJson(t, `/v1/runs/${id}`, reached, `run ${id} ${status}`, token);
}

/** The run's events as parsed `data` objects (from `/replay`). */
export async function eventsOf(t: TestApp, id: string): Promise<Json[]> {
  const text = await (await t.request(`/v1/runs/${id}/replay`)).text();
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string));
}

/**
 * GETs `path` until `accept` returns something other than undefined for its answer, and returns
 * that; fails after 10 s naming `what`.
 */
export function pollJson<T>(
  t: TestApp,
  path: string,
  accept: (body: Json) => T | undefined,
  what: string,
  token?: string,
): Promise<T> {
  let last: Json = null;
  return poll(
    () => {
      void callJson(t, path, token === undefined ? {} : { token }).then((r) => {
        last = r.body;
      });
      return last === null ? undefined : accept(last);
    },
    10_000,
    what,
  );
}
