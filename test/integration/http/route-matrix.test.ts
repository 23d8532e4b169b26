/**
 * Route × role × tenant (issue 17 item 1): generated from the route table, so a route without a
 * fixture below fails the test. Every route is called by every role of tenant `alpha` (and with
 * no token), on `alpha`'s own resources and, where the route names one, on tenant `beta`'s;
 * the status class must be what the route's `access` and the tenancy rules say: 403 below the
 * route's role, 404 for another tenant's ids (as before roles grew an operator), 2xx otherwise.
 */
import { describe, expect, test } from "bun:test";
import { type Call, hasRole, ROLES, type Role } from "../../../src/core/mod.ts";
import { DEFAULT_POLICY } from "../../../src/policy/mod.ts";
import { ADMIN, createToken } from "../../support/app.ts";
import { type ContextTestApp, contextApp } from "../../support/context.ts";

type Outcome = "2xx" | "403" | "404";

/** One request: a path (with query) and an optional JSON body. */
interface Probe {
  path: string;
  body?: unknown;
}

/** Makes fresh resources, so destructive routes can be called once per case. */
interface World {
  t: ContextTestApp;
  /** A new document of `tenant`, at version 2 (so version routes have a past). */
  doc(tenant: string): Promise<string>;
  /** A new reader token of `tenant`; returns its id. */
  tokenId(tenant: string): Promise<string>;
  /** A new run of `tenant`, open (waiting for a signal); returns its id. */
  run(tenant: string): Promise<string>;
  /** A run of `tenant` that has ended; returns its id. */
  finishedRun(tenant: string): Promise<string>;
  /** A stored workflow of `tenant`; returns its name. */
  workflow(tenant: string): Promise<string>;
  /** A new workspace of `tenant` holding file `f.txt` and one checkpoint. */
  workspace(tenant: string): Promise<{ ws: string; checkpoint: string }>;
}

interface Fixture {
  own: (w: World) => Probe | Promise<Probe>;
  /** The same route naming tenant beta's resource, and what a role allowed by `access` gets. */
  other?: { probe: (w: World) => Probe | Promise<Probe>; expect: (role: Role) => Outcome };
}

const OWN = "alpha";
const OTHER = "beta";
const WORKSPACES = "/v1/sandbox/workspaces";
const READ_CONTEXT = { scope_kind: "global", scope_id: "", id: "a" };
const notFound = () => "404" as const;
const operatorOnly = (role: Role): Outcome => (role === "operator" ? "2xx" : "403");

const FIXTURES: Record<string, Fixture> = {
  "GET /v1/health": { own: () => ({ path: "/v1/health" }) },
  "GET /v1/ready": { own: () => ({ path: "/v1/ready" }) },
  "GET /metrics": { own: () => ({ path: "/metrics" }) },
  "GET /v1/openapi.json": { own: () => ({ path: "/v1/openapi.json" }) },
  "POST /v1/tokens": {
    own: () => ({ path: "/v1/tokens", body: { roles: ["reader"] } }),
    other: {
      probe: () => ({ path: "/v1/tokens", body: { roles: ["reader"], tenant: OTHER } }),
      expect: operatorOnly,
    },
  },
  "GET /v1/tokens": {
    own: () => ({ path: "/v1/tokens" }),
    other: { probe: () => ({ path: `/v1/tokens?tenant=${OTHER}` }), expect: operatorOnly },
  },
  "DELETE /v1/tokens/:id": {
    own: async (w) => ({ path: `/v1/tokens/${await w.tokenId(OWN)}` }),
    other: {
      probe: async (w) => ({ path: `/v1/tokens/${await w.tokenId(OTHER)}` }),
      expect: (role) => (role === "operator" ? "2xx" : "404"),
    },
  },
  "POST /v1/context/docs:upsert": {
    own: () => ({ path: "/v1/context/docs:upsert", body: { items: [{ id: "new", text: "t" }] } }),
  },
  "POST /v1/context/docs:delete": {
    own: async (w) => ({
      path: "/v1/context/docs:delete",
      body: { items: [{ id: await w.doc(OWN) }] },
    }),
  },
  "GET /v1/context/docs": { own: () => ({ path: "/v1/context/docs" }) },
  "GET /v1/context/stats": { own: () => ({ path: "/v1/context/stats" }) },
  "POST /v1/context/search": {
    own: () => ({ path: "/v1/context/search", body: { query: "text" } }),
  },
  "POST /v1/context/ingest": (() => {
    // The workspace named in the body: alpha's is found, beta's is 404.
    const probe = (tenant: string) => async (w: World) => {
      const { ws } = await w.workspace(tenant);
      return { path: "/v1/context/ingest", body: { workspace: ws } };
    };
    return { own: probe(OWN), other: { probe: probe(OTHER), expect: notFound } };
  })(),
  "POST /v1/context/merge": {
    own: async (w) => ({ path: "/v1/context/merge", body: mergeOf(await w.doc(OWN)) }),
    other: {
      probe: async (w) => ({ path: "/v1/context/merge", body: mergeOf(await w.doc(OTHER)) }),
      expect: notFound,
    },
  },
  "GET /v1/context/docs/:id": docRoute(""),
  "DELETE /v1/context/docs/:id": docRoute(""),
  "GET /v1/context/docs/:id/versions": docRoute("/versions"),
  "GET /v1/context/docs/:id/versions/:version": docRoute("/versions/1"),
  "POST /v1/sandbox/exec": { own: () => ({ path: "/v1/sandbox/exec", body: { cmd: ["true"] } }) },
  "GET /v1/sandbox/capabilities": { own: () => ({ path: "/v1/sandbox/capabilities" }) },
  "GET /v1/policy/schema": { own: () => ({ path: "/v1/policy/schema" }) },
  "GET /v1/policy": policyLevel(() => ({ path: "/v1/policy" })),
  "GET /v1/policy/versions": policyLevel(() => ({ path: "/v1/policy/versions" })),
  "PUT /v1/policy": policyLevel(() => ({ path: "/v1/policy", body: { cedar: DEFAULT_POLICY } })),
  "POST /v1/policy:check": policyLevel(() => ({
    path: "/v1/policy:check",
    body: { action: "context.read", context: READ_CONTEXT },
  })),
  "POST /v1/admin/snapshot": { own: () => ({ path: "/v1/admin/snapshot" }) },
  "GET /v1/audit": {
    own: () => ({ path: "/v1/audit" }),
    other: {
      probe: () => ({ path: `/v1/audit?tenant=${OTHER}` }),
      expect: (role) => (role === "operator" ? "2xx" : "404"),
    },
  },
  "PUT /v1/budgets/:name": budgetRoute(async () => ({
    path: "/v1/budgets/new",
    body: { unit: "requests", limit: 1000, period: "day" },
  })),
  "GET /v1/budgets": budgetRoute(async () => ({ path: "/v1/budgets" })),
  "DELETE /v1/budgets/:name": budgetRoute(async (w, tenant) => ({
    path: `/v1/budgets/${await budget(w, tenant)}`,
  })),
  "GET /v1/budgets/:name/history": budgetRoute(async (w, tenant) => ({
    path: `/v1/budgets/${await budget(w, tenant)}/history`,
  })),
  "POST /v1/runs": { own: () => ({ path: "/v1/runs", body: { workflow: GATED } }) },
  "GET /v1/runs": { own: () => ({ path: "/v1/runs" }) },
  "GET /v1/runs/:id{[^/:]+}": runRoute((id) => ({ path: `/v1/runs/${id}` })),
  "POST /v1/runs/:id{[^/:]+:cancel}": runRoute((id) => ({ path: `/v1/runs/${id}:cancel` })),
  "POST /v1/runs/:id{[^/:]+:signal}": runRoute((id) => ({
    path: `/v1/runs/${id}:signal`,
    body: { name: "other", payload: null },
  })),
  "POST /v1/runs/:id{[^/:]+:fork}": runRoute((id) => ({
    path: `/v1/runs/${id}:fork`,
    body: { from_step: "gate" },
  })),
  // The stream of an open run never ends: the events route reads a finished one.
  "GET /v1/runs/:id{[^/:]+}/events": {
    own: async (w) => ({ path: `/v1/runs/${await w.finishedRun(OWN)}/events` }),
    other: {
      probe: async (w) => ({ path: `/v1/runs/${await w.finishedRun(OTHER)}/events` }),
      expect: notFound,
    },
  },
  "GET /v1/runs/:id{[^/:]+}/replay": runRoute((id) => ({ path: `/v1/runs/${id}/replay` })),
  "GET /v1/runs/:id{[^/:]+}/budget": runRoute((id) => ({ path: `/v1/runs/${id}/budget` })),
  "GET /v1/runs/:id{[^/:]+}/budget/history": runRoute((id) => ({
    path: `/v1/runs/${id}/budget/history`,
  })),
  "PUT /v1/workflows/:name": { own: () => ({ path: "/v1/workflows/gated", body: GATED }) },
  "GET /v1/workflows": { own: () => ({ path: "/v1/workflows" }) },
  "GET /v1/workflows/:name": {
    own: async (w) => ({ path: `/v1/workflows/${await w.workflow(OWN)}` }),
    other: {
      probe: async (w) => ({ path: `/v1/workflows/${await w.workflow(OTHER)}` }),
      expect: notFound,
    },
  },
  "GET /v1/audit/verify": { own: () => ({ path: "/v1/audit/verify" }) },
  "POST /v1/sandbox/workspaces": { own: () => ({ path: WORKSPACES, body: {} }) },
  "GET /v1/sandbox/workspaces": { own: () => ({ path: WORKSPACES }) },
  "GET /v1/sandbox/workspaces/:ws": workspaceRoute((ws) => ({ path: ws })),
  "DELETE /v1/sandbox/workspaces/:ws": workspaceRoute((ws) => ({ path: ws })),
  "PUT /v1/sandbox/workspaces/:ws/files/:path{.+}": workspaceRoute((ws) => ({
    path: `${ws}/files/g.txt`,
    body: "bytes",
  })),
  "GET /v1/sandbox/workspaces/:ws/files": workspaceRoute((ws) => ({ path: `${ws}/files` })),
  "GET /v1/sandbox/workspaces/:ws/files/:path{.+}": workspaceRoute((ws) => ({
    path: `${ws}/files/f.txt`,
  })),
  "DELETE /v1/sandbox/workspaces/:ws/files/:path{.+}": workspaceRoute((ws) => ({
    path: `${ws}/files/f.txt`,
  })),
  "POST /v1/sandbox/workspaces/:ws/exec": workspaceRoute((ws) => ({
    path: `${ws}/exec`,
    body: { cmd: ["true"] },
  })),
  "POST /v1/sandbox/workspaces/:ws/checkpoints": workspaceRoute((ws) => ({
    path: `${ws}/checkpoints`,
  })),
  "GET /v1/sandbox/workspaces/:ws/checkpoints": workspaceRoute((ws) => ({
    path: `${ws}/checkpoints`,
  })),
  "DELETE /v1/sandbox/workspaces/:ws/checkpoints/:id{[^/:]+}": workspaceRoute((ws, id) => ({
    path: `${ws}/checkpoints/${id}`,
  })),
  "POST /v1/sandbox/workspaces/:ws/checkpoints/:id{[^/:]+:restore}": workspaceRoute((ws, id) => ({
    path: `${ws}/checkpoints/${id}:restore`,
  })),
  "POST /v1/sandbox/workspaces/:ws/checkpoints/:id{[^/:]+:fork}": workspaceRoute((ws, id) => ({
    path: `${ws}/checkpoints/${id}:fork`,
    body: {},
  })),
};

/** A route naming a workspace (and a checkpoint of it): alpha's is found, beta's is 404. */
function workspaceRoute(make: (ws: string, checkpoint: string) => Probe): Fixture {
  const probe = (tenant: string) => async (w: World) => {
    const { ws, checkpoint } = await w.workspace(tenant);
    return make(`${WORKSPACES}/${ws}`, checkpoint);
  };
  return { own: probe(OWN), other: { probe: probe(OTHER), expect: notFound } };
}

function mergeOf(id: string) {
  return { id, base_version: 1, ours_version: 2, theirs: "theirs" };
}

/** A route naming one document: alpha's is found, beta's is 404 for every role. */
function docRoute(suffix: string): Fixture {
  const probe = (tenant: string) => async (w: World) => ({
    path: `/v1/context/docs/${await w.doc(tenant)}${suffix}`,
  });
  return { own: probe(OWN), other: { probe: probe(OTHER), expect: notFound } };
}

/** A policy route: the caller's own level, or beta's (`?tenant=beta`, the operator's only). */
function policyLevel(make: () => Probe): Fixture {
  const withTenant = (tenant: string) => () => {
    const probe = make();
    return { ...probe, path: `${probe.path}?tenant=${tenant}` };
  };
  return { own: withTenant(OWN), other: { probe: withTenant(OTHER), expect: operatorOnly } };
}

function classOf(status: number): string {
  return status >= 200 && status < 300 ? "2xx" : String(status);
}

async function world(): Promise<{ w: World; tokens: Map<Role, string> }> {
  // Every workspace case makes a workspace of its own.
  const t = await contextApp({ sandbox_limits: '{"workspaces_max":1000}' });
  let n = 0;
  const callOf = (tenant: string): Call => ({
    principal: { subject: "seed", tenant, roles: ["writer"], tokenId: null },
    traceId: "0".repeat(32),
  });
  const w: World = {
    t,
    async doc(tenant) {
      const id = `doc-${n++}`;
      for (const text of ["base text\n", "ours text\n"]) {
        await t.app.context.upsert(callOf(tenant), {
          items: [{ id, scope: { kind: "global" }, text }],
        });
      }
      return id;
    },
    async workspace(tenant) {
      const call = callOf(tenant);
      const { id } = await t.app.sandbox.workspaces.create(call, {});
      const bytes = new Blob(["file text"]).stream();
      await t.app.sandbox.workspaces.writeFile(call, id, "f.txt", { body: bytes, mode: null });
      const taken = await t.app.sandbox.workspaces.takeCheckpoint(call, id);
      return { ws: id, checkpoint: taken.id };
    },
    async run(tenant) {
      return (await t.app.runs.start(callOf(tenant), { workflow: GATED })).run_id;
    },
    async finishedRun(tenant) {
      const call = callOf(tenant);
      const { run_id } = await t.app.runs.start(call, { workflow: ECHO });
      await t.app.runs.wait(call, run_id, 10_000);
      return run_id;
    },
    async workflow(tenant) {
      const name = `wf-${n++}`;
      await t.app.runs.workflows.put(callOf(tenant), name, GATED);
      return name;
    },
    async tokenId(tenant) {
      const created = await createToken(t.app, { subject: `s-${n++}`, tenant, roles: ["reader"] });
      return created.info.id;
    },
  };
  const tokens = new Map<Role, string>();
  for (const role of ROLES) {
    tokens.set(
      role,
      (await createToken(t.app, { subject: role, tenant: OWN, roles: [role] })).token,
    );
  }
  return { w, tokens };
}

describe("route × role × tenant", () => {
  test("every route answers each role of a tenant with the status class its access and tenancy give", async () => {
    const { w, tokens } = await world();
    const routes = w.t.app.http.routes;
    const missing = routes
      .map((r) => `${r.method} ${r.path}`)
      .filter((key) => !Object.hasOwn(FIXTURES, key));
    expect(missing).toEqual([]);
    const got: string[] = [];
    const want: string[] = [];
    const send = async (method: string, probe: Probe, token: string | null) => {
      const response = await w.t.request(probe.path, {
        method,
        token,
        ...(probe.body === undefined ? {} : { body: JSON.stringify(probe.body) }),
      });
      await response.arrayBuffer();
      return classOf(response.status);
    };
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const fixture = FIXTURES[key] as Fixture;
      for (const role of ROLES) {
        const allowed =
          route.access === "public" ||
          hasRole({ subject: role, tenant: OWN, roles: [role], tokenId: null }, route.access);
        const token = tokens.get(role) as string;
        got.push(`${key} ${role} own ${await send(route.method, await fixture.own(w), token)}`);
        want.push(`${key} ${role} own ${allowed ? "2xx" : "403"}`);
        if (fixture.other === undefined) continue;
        const other = await send(route.method, await fixture.other.probe(w), token);
        got.push(`${key} ${role} other ${other}`);
        want.push(`${key} ${role} other ${allowed ? fixture.other.expect(role) : "403"}`);
      }
      const anonymous = await send(route.method, await fixture.own(w), null);
      got.push(`${key} none own ${anonymous}`);
      want.push(`${key} none own ${route.access === "public" ? "2xx" : "401"}`);
    }
    expect(got).toEqual(want);
    await w.t.app.close();
  }, 60_000);
});

let budgets = 0;

/** A workflow that waits for a signal `go`: its runs stay open. */
const GATED = { steps: [{ id: "gate", kind: "wait" as const, with: { signal: "go" } }] };
/** A workflow that ends at once. */
const ECHO = { steps: [{ id: "e", kind: "echo" as const, with: { value: 1 } }] };

/** A run route on a new run of the caller's tenant, and on tenant beta's run (404 for all). */
function runRoute(probe: (id: string) => Probe): Fixture {
  return {
    own: async (w) => probe(await w.run(OWN)),
    other: { probe: async (w) => probe(await w.run(OTHER)), expect: notFound },
  };
}

/** A new budget of `tenant` (set by the bootstrap operator); returns its name. */
async function budget(w: World, tenant: string): Promise<string> {
  const name = `b${++budgets}`;
  const response = await w.t.request(`/v1/budgets/${name}?tenant=${tenant}`, {
    method: "PUT",
    token: ADMIN,
    body: JSON.stringify({ unit: "requests", limit: 1_000_000, period: "day" }),
  });
  if (response.status !== 200) throw new Error(`budget set: ${response.status}`);
  return name;
}

/** A budget route on the caller's tenant, and on another's through `?tenant=` (operator only). */
function budgetRoute(probe: (w: World, tenant: string) => Promise<Probe>): Fixture {
  const withTenant = async (w: World) => {
    const p = await probe(w, OTHER);
    return { ...p, path: `${p.path}${p.path.includes("?") ? "&" : "?"}tenant=${OTHER}` };
  };
  return {
    own: (w) => probe(w, OWN),
    other: { probe: withTenant, expect: (role) => (role === "operator" ? "2xx" : "404") },
  };
}
