/** The route table without services (what `vltair mcp --server` lists tools from) builds, and names every route. */
import { expect, test } from "bun:test";
import { routeTableOnly } from "../../../src/http/mod.ts";

test("routeTableOnly builds every route without touching a service", () => {
  const routes = routeTableOnly("test");
  const paths = routes.map((route) => `${route.method} ${route.path}`);
  expect(paths).toContain("POST /v1/context/search");
  expect(paths).toContain("POST /v1/sandbox/workspaces");
  expect(paths).toContain("POST /v1/sandbox/workspaces/:ws/checkpoints");
});
