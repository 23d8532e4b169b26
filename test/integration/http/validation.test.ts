/**
 * Plain-language validation on every route with a body or a query (issue 12): generated from
 * the route table, so a new route is covered the day it is mounted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AnyRoute } from "../../../src/http/mod.ts";
import { type ContextTestApp, contextApp } from "../../support/context.ts";

let t: ContextTestApp;
beforeAll(async () => {
  t = await contextApp();
});
afterAll(async () => {
  await t.app.close();
});

/**
 * A concrete path for a route pattern (`:id` → a placeholder); a custom-method suffix inside a
 * parameter's pattern (`:id{[^/:]+:fork}`) is kept, as `openApiPath` keeps it.
 */
function concrete(route: AnyRoute): string {
  return route.path.replace(
    /\/:([a-z_]+)(?:\{[^}]*?(:[a-z]+)?\})?/g,
    (_, _name: string, verb: string | undefined) => `/x1${verb ?? ""}`,
  );
}

function bodyRoutes(): AnyRoute[] {
  return t.app.http.routes.filter((r) => r.body !== undefined);
}

describe("body validation on every route", () => {
  test("the table has body routes", () => {
    expect(bodyRoutes().length).toBeGreaterThanOrEqual(5);
  });

  test("a body that is not a JSON object: validation_failed, 'must be a JSON object, got …'", async () => {
    for (const route of bodyRoutes()) {
      for (const [body, type] of [
        ["[1,2]", "array"],
        ['"text"', "string"],
        ["7", "number"],
      ] as const) {
        const r = await t.request(concrete(route), { method: route.method, body });
        const json = await r.json();
        expect({ route: route.path, status: r.status }).toEqual({ route: route.path, status: 400 });
        expect(json.error.code).toBe("validation_failed");
        expect(json.error.message).toBe(`body: must be a JSON object, got ${type}`);
        expect(json.error.details.path).toBe("");
      }
    }
  });

  // A body of two alternative shapes (merge) answers with both shapes instead.
  const ALTERNATIVES = new Set(["/v1/context/merge"]);
  // A body that is a workflow answers workflow_invalid (API.md, "Orchestrator"), issues listed.
  const WORKFLOWS = new Set(["/v1/workflows/:name"]);

  test("an unknown field is named as such, with details.path", async () => {
    for (const route of bodyRoutes().filter((r) => !ALTERNATIVES.has(r.path))) {
      const r = await t.request(concrete(route), {
        method: route.method,
        body: JSON.stringify({ zz_unknown: 1 }),
      });
      const json = await r.json();
      expect({ route: route.path, status: r.status }).toEqual({ route: route.path, status: 400 });
      const code = WORKFLOWS.has(route.path) ? "workflow_invalid" : "validation_failed";
      expect(json.error.code).toBe(code);
      const messages = json.error.details.issues.map((i: { message: string }) => i.message);
      expect({ route: route.path, messages }).toEqual({
        route: route.path,
        messages: expect.arrayContaining(["unknown field `zz_unknown`"]),
      });
    }
  });
});

describe("plain messages", () => {
  test("a body of alternative shapes names both", async () => {
    const r = await t.request("/v1/context/merge", { method: "POST", body: '{"zz_unknown":1}' });
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toContain('{"base","ours","theirs"} or');
  });

  const cases: [string, unknown, string, string][] = [
    ["/v1/context/search", { query: "x", topk: 3 }, "topk", "topk: unknown field `topk`"],
    ["/v1/context/search", { query: "x", k: "5" }, "k", "k: must be a number, got string"],
    ["/v1/context/search", { query: "x", k: 1.5 }, "k", "k: must be an integer, got 1.5"],
    ["/v1/context/search", { query: "x", k: 0 }, "k", "k: must be at least 1, got 0"],
    [
      "/v1/context/search",
      { query: "x", strategy: "fast" },
      "strategy",
      'strategy: must be one of auto, dense, sparse, hybrid, got "fast"',
    ],
    ["/v1/context/docs:upsert", {}, "items", "items: is required"],
    ["/v1/tokens", { roles: "reader" }, "roles", "roles: must be an array, got string"],
  ];
  for (const [route, body, path, message] of cases) {
    test(`${route} ${JSON.stringify(body)}`, async () => {
      const r = await t.request(route, { method: "POST", body: JSON.stringify(body) });
      const json = await r.json();
      expect(r.status).toBe(400);
      expect(json.error.code).toBe("validation_failed");
      expect(json.error.details.path).toBe(path);
      expect(json.error.message).toBe(message);
    });
  }

  test("a query parameter the route does not know is named", async () => {
    const r = await t.request("/v1/context/docs?limt=5");
    const json = await r.json();
    expect(r.status).toBe(400);
    expect(json.error.message).toBe("limt: unknown field `limt`");
    expect(json.error.details).toMatchObject({ in: "query", path: "limt" });
  });
});
