// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * `http` steps (issue 16 item 2, issue 17 items 2 and 5) against a loopback server the test
 * starts: JSON and text bodies, the attempt's Idempotency-Key, retries of 503 on the run's clock,
 * no retry of 404 nor redirects, hosts outside `http_allowed_hosts` and policy denials refused
 * before anything is sent, cancel and timeouts abort the fetch (the server sees the connection
 * close), and every call is an audit record of the run's tenant — with no header value or
 * query string anywhere.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_POLICY } from "../../../src/policy/mod.ts";
import { createToken, type TestApp, testApp } from "../../support/app.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { callJson as call, type Json, pollJson, startRun } from "../../support/runs.ts";

/** What the loopback server received. */
interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback server whose paths answer as the tests need; it counts requests and aborted ones. */
class Loopback {
  readonly received: Received[] = [];
  /** Responses whose connection closed before they ended (an aborted fetch). */
  closedEarly = 0;
  readonly #server: http.Server;
  #flakyHits = 0;

  constructor() {
    this.#server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        this.received.push({
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body,
        });
        this.#answer(new URL(req.url ?? "/", "http://x").pathname, res);
      });
    });
  }

  #answer(path: string, res: http.ServerResponse): void {
    const send = (status: number, type: string, body: string, headers = {}) => {
      res.writeHead(status, { "content-type": type, ...headers });
      res.end(body);
    };
    const json = (status: number, value: unknown, headers = {}) =>
      send(status, "application/json", JSON.stringify(value), headers);
    const answers: Record<string, () => void> = {
      "/json": () =>
        json(200, { ok: true, n: 2 }, { "set-cookie": "sid=cookie-secret", "x-request-id": "r1" }),
      "/text": () => send(200, "text/plain; charset=utf-8", "plain text"),
      "/flaky": () => {
        this.#flakyHits++;
        if (this.#flakyHits === 1) json(503, { busy: true });
        else json(200, { hits: this.#flakyHits });
      },
      "/missing": () => json(404, { error: "nope" }),
      "/redirect": () => send(302, "text/plain", "", { location: "http://127.0.0.1:1/elsewhere" }),
      "/big": () => send(200, "text/plain", "x".repeat(4096)),
      "/bad-json": () => send(200, "application/json", "{not json"),
      // Headers and a first chunk, then nothing: only an aborted fetch ends it.
      "/slow": () => {
        res.on("close", () => {
          if (!res.writableEnded) this.closedEarly++;
        });
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("partial");
      },
    };
    (answers[path] ?? (() => json(500, { unknown: path })))();
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Per-test limit: above the 10 s polls, so a failure reports what it waited for. */
const TEST_MS = 30_000;

const apps: TestApp[] = [];
let server: Loopback;
let base = "";

afterEach(async () => {
  await server?.close();
});
afterAll(async () => {
  for (const t of apps) await t.app.close();
});

/** A loopback server, and an app whose `http_allowed_hosts` lists it (unless `flags` say else). */
async function setUp(
  options: { timers?: ManualTimers; flags?: Record<string, string> } = {},
): Promise<TestApp> {
  server = new Loopback();
  base = await server.listen();
  const flags = { http_allowed_hosts: "127.0.0.1", ...options.flags };
  const t = testApp(flags, options.timers === undefined ? {} : { timers: options.timers });
  apps.push(t);
  return t;
}

/** Starts a run of `steps`. */
const start = (t: TestApp, steps: unknown[], token?: string) =>
  startRun(t, { workflow: { steps } }, token);

/** Polls the run until `done` holds for it. */
function runWhen(
  t: TestApp,
  id: string,
  done: (run: Json) => boolean,
  what: string,
  token?: string,
): Promise<Json> {
  return pollJson(
    t,
    `/v1/runs/${id}`,
    (run) => (done(run) ? run : undefined),
    `run ${id}: ${what}`,
    token,
  );
}

const ended = (run: Json) => ["succeeded", "failed", "cancelled"].includes(run.status);

/** Runs `steps` to their end. */
async function runToEnd(t: TestApp, steps: unknown[], token?: string): Promise<Json> {
  return runWhen(t, await start(t, steps, token), ended, "its end", token);
}

const fetchStep = (id: string, path: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "http",
  with: { url: `${base}${path}` },
  ...extra,
});

describe("http steps", () => {
  test(
    "JSON and text bodies, the Idempotency-Key, bounded headers; audited in the run's tenant only, without secrets",
    async () => {
      const t = await setUp();
      const acme = (await createToken(t.app, { subject: "ann", tenant: "acme", roles: ["writer"] }))
        .token;
      const steps = [
        {
          id: "get",
          kind: "http",
          with: {
            url: `${base}/json?token=query-secret-1`,
            headers: { Authorization: "Bearer header-secret-2" },
          },
        },
        {
          id: "post",
          kind: "http",
          needs: ["get"],
          with: { url: `${base}/text`, method: "POST", body: { n: "${steps.get.output.body.n}" } },
        },
      ];
      const run = await runToEnd(t, steps, acme);
      expect(run.status).toBe("succeeded");
      const [get, post] = run.steps;
      expect(get.output.status).toBe(200);
      expect(get.output.body).toEqual({ ok: true, n: 2 });
      expect(get.output.headers["content-type"]).toBe("application/json");
      expect(get.output.headers["x-request-id"]).toBe("r1");
      expect(get.output.headers["set-cookie"]).toBeUndefined();
      expect(post.output).toMatchObject({ status: 200, body: "plain text" });
      const [first, second] = server.received;
      expect(first?.headers["idempotency-key"]).toBe(`${run.run_id}:get:1`);
      expect(first?.headers.authorization).toBe("Bearer header-secret-2");
      expect(second).toMatchObject({ method: "POST", body: '{"n":2}' });
      expect(second?.headers["content-type"]).toBe("application/json");
      expect(second?.headers["idempotency-key"]).toBe(`${run.run_id}:post:1`);

      const audit = await call(t, "/v1/audit?tenant=acme&action=http.fetch");
      expect(
        audit.body.records.map((r: Json) => [
          r.resource,
          r.decision,
          r.run_id,
          r.subject,
          r.details,
        ]),
      ).toEqual([
        [`${base}/json`, "allow", run.run_id, "ann", { method: "GET", status: 200 }],
        [`${base}/text`, "allow", run.run_id, "ann", { method: "POST", status: 200 }],
      ]);
      expect((await call(t, "/v1/audit?tenant=default&action=http.fetch")).body.records).toEqual(
        [],
      );
      const everything = [
        JSON.stringify(run),
        JSON.stringify((await call(t, "/v1/audit?tenant=acme")).body),
        await (await t.request(`/v1/runs/${run.run_id}/events`)).text(),
        ...t.logs,
      ].join("\n");
      for (const secret of ["header-secret-2", "query-secret-1", "cookie-secret"])
        expect(everything).not.toContain(secret);
    },
    TEST_MS,
  );

  test(
    "a 503 is retried with backoff on the run's clock; the next attempt has its own key",
    async () => {
      const timers = new ManualTimers();
      const t = await setUp({ timers });
      const id = await start(t, [fetchStep("flaky", "/flaky", { retry: { max_attempts: 3 } })]);
      const failed = await runWhen(
        t,
        id,
        (run) => run.steps[0].attempts[0]?.error !== undefined && run.steps[0].state === "pending",
        "attempt 1 failed",
      );
      expect(failed.steps[0].attempts[0].error).toMatchObject({
        code: "http_status",
        details: { status: 503 },
      });
      // Only the retry timer is armed now (the fetch's own timeout ended with it).
      await poll(() => (timers.armed === 1 ? true : undefined), 10_000, "the retry timer");
      timers.advance(1_100); // 1 s ± 10 %
      const run = await runWhen(t, id, ended, "its end");
      expect(run.status).toBe("succeeded");
      expect(run.steps[0].output.body).toEqual({ hits: 2 });
      expect(server.received.map((r) => r.headers["idempotency-key"])).toEqual([
        `${id}:flaky:1`,
        `${id}:flaky:2`,
      ]);
    },
    TEST_MS,
  );

  test(
    "a 404 and a redirect fail at once, not retried; the redirect is not followed",
    async () => {
      const t = await setUp();
      const retry = { retry: { max_attempts: 3 } };
      for (const [path, status] of [
        ["/missing", 404],
        ["/redirect", 302],
      ] as const) {
        const run = await runToEnd(t, [fetchStep("s", path, retry)]);
        expect(run.status).toBe("failed");
        expect(run.steps[0].attempts).toHaveLength(1);
        expect(run.steps[0].error).toMatchObject({ code: "http_status", details: { status } });
      }
      expect(server.received.map((r) => r.url)).toEqual(["/missing", "/redirect"]);
    },
    TEST_MS,
  );

  test(
    "responses over http_response_bytes_max and JSON that does not parse fail, not retried",
    async () => {
      const t = await setUp({
        flags: { orchestrator_limits: JSON.stringify({ http_response_bytes_max: 1024 }) },
      });
      for (const [path, code] of [
        ["/big", "http_response_too_large"],
        ["/bad-json", "http_response_invalid"],
      ]) {
        const run = await runToEnd(t, [
          fetchStep("s", path as string, { retry: { max_attempts: 2 } }),
        ]);
        expect(run.steps[0].attempts).toHaveLength(1);
        expect(run.steps[0].error.code).toBe(code);
      }
    },
    TEST_MS,
  );

  test(
    "hosts outside http_allowed_hosts (none by default) fail http_host_denied; nothing is sent",
    async () => {
      for (const flags of [
        { http_allowed_hosts: "" },
        { http_allowed_hosts: "localhost,*.example.com" },
      ]) {
        const t = await setUp({ flags });
        const run = await runToEnd(t, [fetchStep("s", "/json", { retry: { max_attempts: 3 } })]);
        expect(run.steps[0].attempts).toHaveLength(1);
        expect(run.steps[0].error).toMatchObject({
          code: "http_host_denied",
          details: { host: "127.0.0.1" },
        });
        expect(server.received).toEqual([]);
        await server.close();
      }
    },
    TEST_MS,
  );

  test(
    "a policy forbidding http.fetch fails the step policy_denied before anything is sent",
    async () => {
      const t = await setUp();
      const acme = (await createToken(t.app, { subject: "ann", tenant: "acme", roles: ["writer"] }))
        .token;
      const cedar = `${DEFAULT_POLICY}@id("no-loopback") forbid(principal, action == vltair::Action::"http.fetch", resource) when { context.host == "127.0.0.1" && context.method == "GET" };`;
      const put = await call(t, "/v1/policy?tenant=acme", { method: "PUT", body: { cedar } });
      expect(put.status).toBe(200);
      const run = await runToEnd(
        t,
        [fetchStep("s", "/json", { retry: { max_attempts: 3 } })],
        acme,
      );
      expect(run.steps[0].attempts).toHaveLength(1);
      expect(run.steps[0].error).toMatchObject({
        code: "policy_denied",
        details: { reasons: ["no-loopback"] },
      });
      expect(server.received).toEqual([]);
      // Another method is allowed by the same policy.
      const post = await runToEnd(
        t,
        [fetchStep("s", "/text", { with: { url: `${base}/text`, method: "POST", body: "x" } })],
        acme,
      );
      expect(post.status).toBe("succeeded");
      // Its audit record names the policy version that allowed it.
      const allowed = await call(t, "/v1/audit?tenant=acme&action=http.fetch&decision=allow");
      expect(allowed.body.records.map((r: Json) => [r.details.method, r.policy_version])).toEqual([
        ["POST", 1],
      ]);
    },
    TEST_MS,
  );

  test(
    "cancel of a run during a slow response aborts the fetch",
    async () => {
      const t = await setUp();
      const id = await start(t, [fetchStep("slow", "/slow")]);
      await poll(() => (server.received.length === 1 ? true : undefined), 10_000, "the request");
      expect((await call(t, `/v1/runs/${id}:cancel`, { method: "POST" })).status).toBe(202);
      await poll(
        () => (server.closedEarly === 1 ? true : undefined),
        10_000,
        "the connection closed",
      );
      const run = await runWhen(t, id, ended, "its end");
      expect(run.status).toBe("cancelled");
      // The aborted call is audited too; its status is 200 when the response's head reached
      // the client before the cancel, null when not (the server cannot tell which).
      const records = await pollJson(
        t,
        "/v1/audit?action=http.fetch",
        (body) => (body.records.length === 1 ? body.records : undefined),
        "the audit record",
      );
      const { status, ...rest } = records[0].details;
      expect(rest).toEqual({ method: "GET", error: "aborted" });
      expect([200, null]).toContain(status);
      expect(records[0].run_id).toBe(id);
    },
    TEST_MS,
  );

  test(
    "the step's timeout_ms and the fetch's own timeout_ms abort a slow response",
    async () => {
      const timers = new ManualTimers();
      const t = await setUp({ timers });
      const cases = [
        { step: fetchStep("slow", "/slow", { timeout_ms: 5_000 }), code: "step_timeout" },
        {
          step: { id: "slow", kind: "http", with: { url: `${base}/slow`, timeout_ms: 2_000 } },
          code: "http_timeout",
        },
      ];
      for (const [n, { step, code }] of cases.entries()) {
        const id = await start(t, [step]);
        await poll(
          () => (server.received.length === n + 1 ? true : undefined),
          10_000,
          "the request",
        );
        timers.advance(5_000);
        await poll(
          () => (server.closedEarly === n + 1 ? true : undefined),
          10_000,
          "the connection closed",
        );
        const run = await runWhen(t, id, ended, "its end");
        expect(run.status).toBe("failed");
        expect(run.steps[0].error.code).toBe(code);
      }
    },
    TEST_MS,
  );

  test(
    "bad input fails validation_failed naming the field, without echoing the value",
    async () => {
      const t = await setUp();
      const cases = [
        [{ url: `${base}/json`, body: "x" }, "with.body"],
        [
          { url: `${base}/json`, headers: { "Idempotency-Key": "mine" } },
          "with.headers.Idempotency-Key",
        ],
        [{ url: "http://user:pass-secret-3@127.0.0.1/" }, "with.url"],
        [{ url: "file:///etc/passwd" }, "with.url"],
        [{ url: `${base}/json`, method: "TRACE" }, "with.method"],
      ] as const;
      for (const [input, field] of cases) {
        const run = await runToEnd(t, [{ id: "s", kind: "http", with: input }]);
        expect(run.steps[0].error).toMatchObject({ code: "validation_failed", details: { field } });
        expect(JSON.stringify(run.steps[0].error)).not.toContain("pass-secret-3");
      }
      expect(server.received).toEqual([]);
    },
    TEST_MS,
  );
});
