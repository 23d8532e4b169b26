import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ERROR_CODES } from "../../../src/core/mod.ts";
import { openApiPath } from "../../../src/http/mod.ts";
import { ADMIN, createToken, testApp } from "../../support/app.ts";
import { tempDir } from "../../support/tmp.ts";

type Envelope = {
  error: { code: string; message: string; details: Record<string, unknown>; trace_id: string };
};

async function envelope(response: Response, status: number, code: string): Promise<Envelope> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = (await response.json()) as Envelope;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.details).toBe("object");
  expect(body.error.trace_id).toMatch(/^[0-9a-f]{32}$/);
  return body;
}

describe("meta routes", () => {
  test("GET /v1/health is public and reports version and uptime", async () => {
    const { request } = testApp();
    const response = await request("/v1/health", { token: null });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.status).toBe("ok");
    expect(body.version).toBe("0.1.0");
    expect(typeof body.uptime_ms).toBe("number");
  });

  test("HEAD /v1/health answers 200 without a body", async () => {
    const { request } = testApp();
    const response = await request("/v1/health", { method: "HEAD", token: null });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  test("GET /v1/ready is 503 unavailable before recovery, 200 after", async () => {
    const { request, app } = testApp({}, { ready: false });
    const before = await request("/v1/ready", { token: null });
    await envelope(before, 503, "unavailable");
    expect(before.headers.get("retry-after")).toBe("1");
    await app.start();
    const after = await request("/v1/ready", { token: null });
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ status: "ready" });
  });

  test("GET /metrics needs a token and then gives Prometheus text", async () => {
    const { request } = testApp();
    await envelope(await request("/metrics", { token: null }), 401, "unauthorized");
    await request("/v1/health", { token: null });
    const response = await request("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await response.text();
    expect(text).toContain(
      'vltair_http_requests_total{method="GET",route="/v1/health",status="200"} 1',
    );
    expect(text).toContain(
      'vltair_http_requests_total{method="GET",route="unmatched",status="401"} 1',
    );
    expect(text).toMatch(
      /vltair_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/health",status="200",le="\+Inf"\} 1/,
    );
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
  });
});

describe("auth before routing", () => {
  test("an unknown path is 401 without a token and 404 with one", async () => {
    const { request } = testApp();
    const denied = await envelope(await request("/v1/nope", { token: null }), 401, "unauthorized");
    expect(denied.error.message).toBe("missing bearer token");
    await envelope(await request("/v1/nope"), 404, "not_found");
  });

  test("a wrong token is 401 with WWW-Authenticate, and the scheme is case-insensitive", async () => {
    const { request } = testApp();
    const response = await request("/metrics", { token: "wrong-token-0123456789" });
    await envelope(response, 401, "unauthorized");
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    const lower = await request("/metrics", {
      token: null,
      headers: { Authorization: `bearer ${ADMIN}` },
    });
    expect(lower.status).toBe(200);
    const basic = await request("/metrics", {
      token: null,
      headers: { authorization: `Basic ${ADMIN}` },
    });
    await envelope(basic, 401, "unauthorized");
  });

  test("--no-auth makes every caller the operator, at home in tenant default", async () => {
    const { request } = testApp({ no_auth: "true" });
    expect((await request("/metrics", { token: null })).status).toBe(200);
    const created = await request("/v1/tokens", {
      token: null,
      method: "POST",
      body: JSON.stringify({ roles: ["reader"] }),
    });
    expect(((await created.json()) as { tenant: string }).tenant).toBe("default");
  });

  test("tokens never reach the log", async () => {
    const { request, logs } = testApp();
    await request("/metrics");
    await request("/metrics", { token: "vlt_wrongwrongwrongwrong" });
    const created = (await (
      await request("/v1/tokens", { method: "POST", body: JSON.stringify({ roles: ["reader"] }) })
    ).json()) as { token: string };
    await request("/metrics", { token: created.token });
    const text = logs.join("\n");
    expect(text).not.toContain(ADMIN);
    expect(text).not.toContain("vlt_wrongwrongwrongwrong");
    expect(text).not.toContain(created.token);
  });
});

describe("error paths", () => {
  test("405 carries Allow and the envelope", async () => {
    const { request } = testApp();
    const response = await request("/v1/health", { method: "DELETE" });
    const body = await envelope(response, 405, "method_not_allowed");
    expect(response.headers.get("allow")).toBe("GET, HEAD");
    expect(body.error.details.allowed).toEqual(["GET", "HEAD"]);
    const tokens = await request("/v1/tokens/tok_0000000000000000", { method: "GET" });
    await envelope(tokens, 405, "method_not_allowed");
    expect(tokens.headers.get("allow")).toBe("DELETE");
  });

  test("413 payload_too_large applies nothing (declared and streamed bodies)", async () => {
    const { request } = testApp({ body_bytes_max: "1024" });
    const big = JSON.stringify({ roles: ["reader"], subject: "x".repeat(2000) });
    const declared = await request("/v1/tokens", { method: "POST", body: big });
    const body = await envelope(declared, 413, "payload_too_large");
    expect(body.error.details.limit_bytes).toBe(1024);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++)
          controller.enqueue(new TextEncoder().encode(big.slice(i * 600, (i + 1) * 600)));
        controller.close();
      },
    });
    const streamed = await request("/v1/tokens", {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    await envelope(streamed, 413, "payload_too_large");
    const list = (await (await request("/v1/tokens")).json()) as { tokens: unknown[] };
    expect(list.tokens).toEqual([]);
  });

  test("a body at the limit is accepted", async () => {
    const { request } = testApp({ body_bytes_max: "1024" });
    const base = JSON.stringify({ roles: ["reader"], subject: "" });
    const exact = JSON.stringify({ roles: ["reader"], subject: "y".repeat(1024 - base.length) });
    expect(exact.length).toBe(1024);
    const response = await request("/v1/tokens", { method: "POST", body: exact });
    // The subject is over its own 128-char limit, so validation (not the body limit) answers.
    await envelope(response, 400, "validation_failed");
  });

  test("malformed JSON is bad_request; a schema mismatch is validation_failed naming the field", async () => {
    const { request } = testApp();
    await envelope(await request("/v1/tokens", { method: "POST", body: "{" }), 400, "bad_request");
    await envelope(await request("/v1/tokens", { method: "POST", body: "" }), 400, "bad_request");
    const bad = await envelope(
      await request("/v1/tokens", { method: "POST", body: JSON.stringify({ roles: ["root"] }) }),
      400,
      "validation_failed",
    );
    expect(bad.error.details.field).toBe("roles.0");
    const extra = await envelope(
      await request("/v1/tokens", {
        method: "POST",
        body: JSON.stringify({ roles: ["reader"], tenants: "x" }),
      }),
      400,
      "validation_failed",
    );
    expect(extra.error.details.field).toBe("tenants");
  });

  test("an unexpected exception is 500 internal without its message; the log keeps it, redacted", async () => {
    const { request, app, logs } = testApp();
    app.http.app.get("/v1/boom", () => {
      throw new Error("disk exploded near vlt_secretsecretsecret");
    });
    const body = await envelope(await request("/v1/boom"), 500, "internal");
    expect(body.error.message).toBe("internal error");
    expect(JSON.stringify(body)).not.toContain("exploded");
    const logged = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === "http.internal_error");
    expect(JSON.stringify(logged)).toContain("disk exploded");
    expect(JSON.stringify(logged)).not.toContain("vlt_secretsecretsecret");
  });

  test("x-request-id is generated or echoed when valid; traceparent is echoed and its trace id used", async () => {
    const { request } = testApp();
    const generated = await request("/v1/health");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await request("/v1/health", { headers: { "x-request-id": "req-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("req-123");
    const replaced = await request("/v1/health", { headers: { "x-request-id": "bad id\u0001" } });
    expect(replaced.headers.get("x-request-id")).not.toBe("bad id\u0001");
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const traced = await request("/v1/nope", { headers: { traceparent } });
    expect(traced.headers.get("traceparent")).toBe(traceparent);
    const body = await envelope(traced, 404, "not_found");
    expect(body.error.trace_id).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    const invalid = await request("/v1/health", { headers: { traceparent: "00-0000-bad" } });
    expect(invalid.headers.get("traceparent")).toBeNull();
  });

  test("every response is logged as one JSON line with ts, level, event", async () => {
    const { request, logs } = testApp();
    await request("/v1/health");
    const line = JSON.parse(logs.at(-1) ?? "{}") as Record<string, unknown>;
    expect(line).toMatchObject({
      level: "info",
      event: "http.request",
      route: "/v1/health",
      status: 200,
    });
    expect(line.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe("tokens.jsonl of an older vltair", () => {
  test("is imported into the WAL at start, then renamed; its tokens work, its revocations hold", async () => {
    const dir = tempDir();
    const record = (token: string, id: string) => ({
      op: "create",
      id,
      sha256: createHash("sha256").update(token).digest("hex"),
      subject: "old",
      tenant: "acme",
      roles: ["reader"],
      created_at: "2025-01-01T00:00:00.000Z",
    });
    const lines = [
      record("vlt_kept", "tok_0000000000000001"),
      record("vlt_revoked", "tok_0000000000000002"),
      { op: "revoke", id: "tok_0000000000000002", revoked_at: "2025-02-01T00:00:00.000Z" },
    ];
    fs.writeFileSync(
      path.join(dir, "tokens.jsonl"),
      lines.map((l) => `${JSON.stringify(l)}\n`).join(""),
    );
    const { request, logs } = testApp({ data_dir: dir });
    expect((await request("/v1/context/stats", { token: "vlt_kept" })).status).toBe(200);
    expect((await request("/v1/context/stats", { token: "vlt_revoked" })).status).toBe(401);
    expect(fs.existsSync(path.join(dir, "tokens.jsonl"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "tokens.jsonl.imported"))).toBe(true);
    expect(logs.some((l) => l.includes('"tokens.imported"') && l.includes('"records":3'))).toBe(
      true,
    );
  });
});

describe("token routes and tenancy", () => {
  async function tokenFor(request: ReturnType<typeof testApp>["request"], roles: string[]) {
    const response = await request("/v1/tokens", {
      method: "POST",
      body: JSON.stringify({ roles }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as {
      id: string;
      token: string;
      tenant: string;
      roles: string[];
    };
  }

  test("an admin creates, lists and revokes tokens of its own tenant", async () => {
    const { request, app } = testApp();
    const reader = await tokenFor(request, ["reader"]);
    expect(reader.tenant).toBe("default");
    expect((await request("/metrics", { token: reader.token })).status).toBe(200);
    const list = (await (await request("/v1/tokens")).json()) as { tokens: { id: string }[] };
    expect(list.tokens.map((t) => t.id)).toEqual([reader.id]);
    expect(JSON.stringify(list)).not.toContain(reader.token);
    const revoked = await request(`/v1/tokens/${reader.id}`, { method: "DELETE" });
    // The revocation's batch (with its audit record) is the last one in the log.
    expect(await revoked.json()).toEqual({ revoked: true, wal_index: app.storage.lastIndex });
    await envelope(await request("/metrics", { token: reader.token }), 401, "unauthorized");
  });

  test("a reader or writer may not manage tokens (403 forbidden)", async () => {
    const { request } = testApp();
    for (const role of ["reader", "writer"]) {
      const { token } = await tokenFor(request, [role]);
      const body = await envelope(await request("/v1/tokens", { token }), 403, "forbidden");
      expect(body.error.details.role_needed).toBe("admin");
    }
  });

  test("an admin of tenant B never sees, lists or revokes tenant A's tokens", async () => {
    const { request, app } = testApp();
    const a = await tokenFor(request, ["reader"]);
    const b = await createToken(app, { subject: "b-admin", tenant: "tenant-b", roles: ["admin"] });
    const listB = (await (await request("/v1/tokens", { token: b.token })).json()) as {
      tokens: { id: string; tenant: string }[];
    };
    expect(listB.tokens.map((t) => t.id)).toEqual([b.info.id]);
    await envelope(
      await request(`/v1/tokens/${a.id}`, { method: "DELETE", token: b.token }),
      404,
      "not_found",
    );
    expect((await request("/metrics", { token: a.token })).status).toBe(200);
    const createdByB = await request("/v1/tokens", {
      method: "POST",
      token: b.token,
      body: JSON.stringify({ roles: ["reader"] }),
    });
    expect(((await createdByB.json()) as { tenant: string }).tenant).toBe("tenant-b");
    const listA = (await (await request("/v1/tokens")).json()) as { tokens: { tenant: string }[] };
    expect(listA.tokens.every((t) => t.tenant === "default")).toBe(true);
  });
});

describe("OpenAPI", () => {
  test("documents exactly the mounted routes, and each documented route answers", async () => {
    const { request, app } = testApp();
    const doc = (await (await request("/v1/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: { ErrorEnvelope: { properties: Record<string, unknown> } } };
    };
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const mounted = app.http.routes.map((r) => `${r.method} ${openApiPath(r.path)}`);
    expect(documented.sort()).toEqual(mounted.sort());
    for (const route of app.http.routes) {
      const path = route.path.replace(/:[A-Za-z0-9_]+/g, "tok_0000000000000000");
      const response = await request(path, {
        method: route.method,
        body: route.body ? "{}" : null,
      });
      expect(response.status).not.toBe(405);
      if (!route.path.includes(":")) expect(response.status).not.toBe(404);
    }
    const codes = JSON.stringify(doc.components.schemas.ErrorEnvelope);
    for (const code of ERROR_CODES) expect(codes).toContain(`"${code}"`);
  });
});

describe("operator routes", () => {
  test("POST /v1/admin/snapshot needs the operator role (an admin of tenant default is not enough)", async () => {
    const { request, app } = testApp();
    await app.storage.recover();
    const ok = await request("/v1/admin/snapshot", { method: "POST" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ wal_index: 0, snapshots_kept: 1 });
    const otherAdmin = await createToken(app, {
      subject: "b",
      tenant: "tenant-b",
      roles: ["admin"],
    });
    await envelope(
      await request("/v1/admin/snapshot", { method: "POST", token: otherAdmin.token }),
      403,
      "forbidden",
    );
    for (const role of ["writer", "admin"] as const) {
      const { token } = await createToken(app, { subject: role, tenant: "default", roles: [role] });
      const body = await envelope(
        await request("/v1/admin/snapshot", { method: "POST", token }),
        403,
        "forbidden",
      );
      expect(body.error.details.role_needed).toBe("operator");
    }
  });
});
